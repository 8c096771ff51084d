
namespace WorkflowTriggers;

/// <summary>A step an install took.</summary>
public sealed class SchemaStepResult
{
    public string Version { get; init; } = string.Empty;
    public string Name { get; init; } = string.Empty;
    public SchemaAction Action { get; init; }
    public TimeSpan Duration { get; init; }

    /// <summary>What the operator should know about the step (a foreign key added NOT VALID, say), if anything.</summary>
    public string? Detail { get; init; }

    internal static SchemaStepResult From(Engine.Schema.SchemaStepResult result) => new()
    {
        Version = result.Version,
        Name = result.Name,
        Action = (SchemaAction)result.Action,
        Duration = result.Duration,
        Detail = result.Detail,
    };
}

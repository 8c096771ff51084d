
namespace WorkflowTriggers;

/// <summary>What a schema step does.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum SchemaAction
{
    /// <summary>The table predates the module: the step's objects are created where missing and the step recorded.</summary>
    Adopt,
    Upgrade,
    Downgrade,
    AddForeignKey,

    /// <summary>An index or CHECK constraint brought back to its version's definition (-Repair).</summary>
    Repair,

    /// <summary>Nothing to do: the database is already at the version asked for.</summary>
    Current,
}

/// <summary>Where a database's schema stands: the answer of Get-TriggerSchema.</summary>
public sealed class SchemaStatus
{
    public string? CurrentVersion { get; init; }
    public string LatestVersion { get; init; } = string.Empty;
    public bool IsCurrent { get; init; }
    public IReadOnlyList<AppliedSchemaStep> AppliedSteps { get; init; } = Array.Empty<AppliedSchemaStep>();
    public IReadOnlyList<PlannedSchemaStep> PendingSteps { get; init; } = Array.Empty<PlannedSchemaStep>();
    public bool HasWorkflowForeignKey { get; init; }
    public bool WorkflowsTableExists { get; init; }

    /// <summary>False for a workflow_triggers table that has no history yet (it predates the module).</summary>
    public bool IsManaged { get; init; }

    /// <summary>Indexes and CHECK constraints that differ from the current version's, each with the SQL that would align it.</summary>
    public SchemaDrift[] Drift { get; init; } = Array.Empty<SchemaDrift>();
    public string Database { get; init; } = string.Empty;

    internal static SchemaStatus From(Engine.Schema.SchemaStatus status) => new()
    {
        CurrentVersion = status.CurrentVersion,
        LatestVersion = status.LatestVersion,
        IsCurrent = status.IsCurrent,
        AppliedSteps = status.AppliedSteps.Select(AppliedSchemaStep.From).ToArray(),
        PendingSteps = status.PendingSteps.Select(PlannedSchemaStep.From).ToArray(),
        HasWorkflowForeignKey = status.HasWorkflowForeignKey,
        WorkflowsTableExists = status.WorkflowsTableExists,
        IsManaged = status.IsManaged,
        Drift = status.Drift.Select(SchemaDrift.From).ToArray(),
        Database = status.Database,
    };
}

/// <summary>A row of the module's migration history.</summary>
public sealed class AppliedSchemaStep
{
    public string Version { get; init; } = string.Empty;
    public string Name { get; init; } = string.Empty;
    public DateTime AppliedAt { get; init; }
    public string AppliedBy { get; init; } = string.Empty;
    public bool Adopted { get; init; }

    internal static AppliedSchemaStep From(Engine.Schema.AppliedSchemaStep step) => new()
    {
        Version = step.Version,
        Name = step.Name,
        AppliedAt = LocalTime.Of(step.AppliedAt),
        AppliedBy = step.AppliedBy,
        Adopted = step.Adopted,
    };
}

/// <summary>A step an install would take.</summary>
public sealed class PlannedSchemaStep
{
    private string _display = string.Empty;

    public string Version { get; init; } = string.Empty;
    public string Name { get; init; } = string.Empty;
    public SchemaAction Action { get; init; }

    /// <summary>What the step loses, for a downgrade that drops data.</summary>
    public string? Warning { get; init; }

    public override string ToString() => _display;

    internal static PlannedSchemaStep From(Engine.Schema.PlannedSchemaStep step) => new()
    {
        Version = step.Version,
        Name = step.Name,
        Action = (SchemaAction)step.Action,
        Warning = step.Warning,
        _display = step.ToString(),
    };
}


namespace WorkflowTriggers;

/// <summary>What maintenance did to one index (Reindex), or to the table (Analyze).</summary>
public sealed class IndexMaintenanceResult
{
    public string Name { get; init; } = string.Empty;
    public string Action { get; init; } = string.Empty;
    public long? SizeBeforeBytes { get; init; }
    public long? SizeAfterBytes { get; init; }
    public TimeSpan Duration { get; init; }

    internal static IndexMaintenanceResult From(Engine.Health.IndexMaintenanceResult result) => new()
    {
        Name = result.Name,
        Action = result.Action,
        SizeBeforeBytes = result.SizeBeforeBytes,
        SizeAfterBytes = result.SizeAfterBytes,
        Duration = result.Duration,
    };
}

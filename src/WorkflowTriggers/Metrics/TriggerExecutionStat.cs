
namespace WorkflowTriggers;

/// <summary>A trigger and how often it fired in the window (the document's "frequently accessed triggers").</summary>
public sealed class TriggerExecutionStat : IDescribesTrigger
{
    int? IDescribesTrigger.DescribedTriggerId => Id;

    public int Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;
    public string? TargetNodeId { get; init; }
    public long ExecutionCount { get; init; }
    public DateTime? LastExecutedAt { get; init; }

    internal static TriggerExecutionStat From(Engine.Metrics.TriggerExecutionStat stat) => new()
    {
        Id = stat.Id,
        Name = stat.Name,
        WorkflowId = stat.WorkflowId,
        TargetNodeId = stat.TargetNodeId,
        ExecutionCount = stat.ExecutionCount,
        LastExecutedAt = LocalTime.Of(stat.LastExecutedAt),
    };
}

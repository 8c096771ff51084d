using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers;

/// <summary>What Get-TriggerStatistic groups active triggers by.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum TriggerGrouping
{
    Workflow,
    Source,
    EventType,
    TargetNode,
}

/// <summary>Active triggers of one group (a workflow, a source, an event type or a target node).</summary>
public sealed class TriggerStatistic
{
    public TriggerGrouping By { get; init; }

    /// <summary>The group's value; null for active triggers without a target node when grouping by TargetNode.</summary>
    public string? Value { get; init; }
    public long Count { get; init; }

    /// <summary>Share of all active triggers, in percent.</summary>
    public decimal Percentage { get; init; }

    /// <summary>The column of workflow_triggers a grouping names.</summary>
    internal static TriggerColumn ColumnOf(TriggerGrouping by) => by switch
    {
        TriggerGrouping.Workflow => TriggerColumn.WorkflowId,
        TriggerGrouping.Source => TriggerColumn.Source,
        TriggerGrouping.EventType => TriggerColumn.EventType,
        TriggerGrouping.TargetNode => TriggerColumn.TargetNodeId,
        _ => throw new ArgumentOutOfRangeException(nameof(by)),
    };

    internal static TriggerStatistic From(Engine.Metrics.TriggerStatistic statistic, TriggerGrouping by) => new()
    {
        By = by,
        Value = statistic.Value,
        Count = statistic.Count,
        Percentage = statistic.Percentage,
    };
}

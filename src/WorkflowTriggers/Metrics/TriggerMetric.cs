
namespace WorkflowTriggers;

/// <summary>A row of the trigger_metrics view: triggers created in one hour for one source and event type.</summary>
public sealed class TriggerMetric
{
    public DateTime Hour { get; init; }
    public string Source { get; init; } = string.Empty;
    public string EventType { get; init; } = string.Empty;
    public long TriggerCount { get; init; }
    public long ActiveCount { get; init; }
    public decimal NodeTargetingRatio { get; init; }

    internal static TriggerMetric From(Engine.Metrics.TriggerMetric metric) => new()
    {
        Hour = LocalTime.Of(metric.Hour),
        Source = metric.Source,
        EventType = metric.EventType,
        TriggerCount = metric.TriggerCount,
        ActiveCount = metric.ActiveCount,
        NodeTargetingRatio = metric.NodeTargetingRatio,
    };
}

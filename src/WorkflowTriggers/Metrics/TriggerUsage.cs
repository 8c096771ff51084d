
namespace WorkflowTriggers;

/// <summary>A row of the document's "Monitor trigger usage": triggers and active triggers of one source and event type.</summary>
public sealed class TriggerUsage
{
    public string Source { get; init; } = string.Empty;
    public string EventType { get; init; } = string.Empty;
    public long TriggerCount { get; init; }
    public long ActiveCount { get; init; }

    internal static TriggerUsage From(Engine.Metrics.TriggerUsage usage) => new()
    {
        Source = usage.Source,
        EventType = usage.EventType,
        TriggerCount = usage.TriggerCount,
        ActiveCount = usage.ActiveCount,
    };
}

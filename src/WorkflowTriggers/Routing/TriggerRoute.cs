
namespace WorkflowTriggers;

/// <summary>Where an event would land for one active trigger: the answer of Test-WorkflowTrigger.</summary>
public sealed class TriggerRoute : IDescribesTrigger
{
    int? IDescribesTrigger.DescribedTriggerId => Id;

    /// <summary>The trigger's id: a route pipes into the trigger cmdlets as the trigger it describes.</summary>
    public int Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;
    public string Source { get; init; } = string.Empty;
    public string EventType { get; init; } = string.Empty;

    /// <summary>'targeted' when the trigger names its node, else 'auto_detected'.</summary>
    public string RoutingType { get; init; } = string.Empty;

    /// <summary>The node the event would be handed to; null when it would not be routed.</summary>
    public string? NodeId { get; init; }

    /// <summary>True when the trigger's target node is no longer a node of its workflow.</summary>
    public bool TargetNodeMissing { get; init; }

    /// <summary>True when the event would reach a node that exists.</summary>
    public bool WillRoute { get; init; }

    /// <summary>Why the event would not be routed, or a caveat; empty when all is well.</summary>
    public string Reason { get; init; } = string.Empty;

    internal static TriggerRoute From(Engine.Routing.TriggerRoute route) => new()
    {
        Id = route.TriggerId,
        Name = route.TriggerName,
        WorkflowId = route.WorkflowId,
        Source = route.Source,
        EventType = route.EventType,
        RoutingType = route.RoutingType,
        NodeId = route.NodeId,
        TargetNodeMissing = route.TargetNodeMissing,
        WillRoute = route.WillRoute,
        Reason = route.Reason,
    };
}

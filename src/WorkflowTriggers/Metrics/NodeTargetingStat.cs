
namespace WorkflowTriggers;

/// <summary>A row of the node_targeting_stats view: active triggers that name their node ('targeted') or rely on auto-detection.</summary>
public sealed class NodeTargetingStat
{
    public string RoutingType { get; init; } = string.Empty;
    public long Count { get; init; }
    public decimal Percentage { get; init; }

    internal static NodeTargetingStat From(Engine.Metrics.NodeTargetingStat stat) => new()
    {
        RoutingType = stat.RoutingType,
        Count = stat.Count,
        Percentage = stat.Percentage,
    };
}

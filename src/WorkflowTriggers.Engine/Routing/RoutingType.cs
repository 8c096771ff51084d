namespace WorkflowTriggers.Engine.Routing;

/// <summary>
/// How a trigger's events reach a node: 'targeted' when the trigger names its node, else 'auto_detected' (the
/// workflow's first input node), as the document's node_targeting_stats view names them. The one home of that rule.
/// </summary>
public static class RoutingType
{
    public const string Targeted = "targeted";
    public const string AutoDetected = "auto_detected";

    /// <summary>The routing type of a trigger with this target node.</summary>
    public static string Of(string? targetNodeId) => targetNodeId is null ? AutoDetected : Targeted;

    /// <summary>The same rule in SQL, over a row's target_node_id, as the document's view writes it.</summary>
    public const string Sql = $"""
        CASE
                WHEN target_node_id IS NOT NULL THEN '{Targeted}'
                ELSE '{AutoDetected}'
            END
        """;
}


namespace WorkflowTriggers;

/// <summary>An input node of a workflow (no incoming connection), in the engine's order: lowest workflow_nodes.id first.</summary>
public sealed class InputNode
{
    public string WorkflowId { get; init; } = string.Empty;
    public string NodeId { get; init; } = string.Empty;
    public string? NodeType { get; init; }
    public string? Name { get; init; }

    /// <summary>1 for the workflow's first input node, where untargeted triggers are routed.</summary>
    public int Ordinal { get; init; }
    public bool IsFirst { get; init; }

    internal static InputNode From(Engine.Routing.InputNode node) => new()
    {
        WorkflowId = node.WorkflowId,
        NodeId = node.NodeId,
        NodeType = node.NodeType,
        Name = node.Name,
        Ordinal = node.Ordinal,
        IsFirst = node.IsFirst,
    };
}


namespace WorkflowTriggers;

/// <summary>One line of a backfill's plan (Invoke-TriggerBackfill -WhatIf): a workflow's untargeted triggers and the node they would get.</summary>
public sealed class BackfillPlanEntry
{
    public string WorkflowId { get; init; } = string.Empty;
    public int TriggerCount { get; init; }

    /// <summary>The workflow's first input node; null when it has none, and its triggers are skipped.</summary>
    public string? NodeId { get; init; }

    public int MinId { get; init; }
    public int MaxId { get; init; }

    /// <summary>SetTargetNode, or SkipNoInputNode when the workflow has no input node.</summary>
    public string Action { get; init; } = string.Empty;

    internal static BackfillPlanEntry From(Engine.Routing.BackfillPlanEntry entry) => new()
    {
        WorkflowId = entry.WorkflowId,
        TriggerCount = entry.TriggerCount,
        NodeId = entry.NodeId,
        MinId = entry.MinId,
        MaxId = entry.MaxId,
        Action = entry.Action,
    };
}

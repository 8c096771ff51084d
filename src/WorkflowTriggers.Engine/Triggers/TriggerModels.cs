namespace WorkflowTriggers.Engine;

/// <summary>A row of workflow_triggers as read back, config as JSON text.</summary>
public sealed class TriggerRecord
{
    public int Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string? Description { get; init; }
    public string WorkflowId { get; init; } = string.Empty;
    public string? WorkflowName { get; init; }
    public string Source { get; init; } = string.Empty;
    public string EventType { get; init; } = string.Empty;
    public string? TargetNodeId { get; init; }
    public string? ConfigJson { get; init; }
    public bool IsActive { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
}

/// <summary>A trigger to create. ConfigJson null means the column default, an empty object.</summary>
public sealed record NewTrigger(
    string Name,
    string WorkflowId,
    string Source,
    string EventType,
    string? Description = null,
    string? TargetNodeId = null,
    string? ConfigJson = null,
    bool IsActive = true);

/// <summary>A change to one trigger: a null field is left as it is (Description uses <see cref="SetDescription"/>).</summary>
public sealed record TriggerChange(
    int Id,
    string? Name = null,
    string? WorkflowId = null,
    string? Source = null,
    string? EventType = null,
    string? ConfigJson = null,
    bool SetDescription = false,
    string? Description = null);

/// <summary>Enough of a trigger to name it to a person: for ShouldProcess targets and error messages.</summary>
public sealed record TriggerKey(int Id, string Name, string WorkflowId)
{
    public override string ToString() => $"trigger {Id} '{Name}' (workflow {WorkflowId})";
}

/// <summary>Filters of Get-WorkflowTrigger; every one given narrows the result (AND).</summary>
public sealed class TriggerFilter
{
    public IReadOnlyList<int>? Ids { get; init; }
    public string? NamePattern { get; init; }
    public string? WorkflowId { get; init; }
    public string? Source { get; init; }
    public string? EventType { get; init; }
    public string? TargetNodeId { get; init; }
    public bool? IsActive { get; init; }
    public bool Untargeted { get; init; }

    /// <summary>Only triggers whose workflow does not exist in the engine's workflows table.</summary>
    public bool Orphans { get; init; }
}

/// <summary>Why a requested change was not made to a trigger.</summary>
public enum TriggerRejection
{
    NotFound,
    WorkflowNotFound,
    NodeNotInWorkflow,
    NotAnOrphan,
}

/// <summary>A trigger that was not changed, and why.</summary>
public sealed record RejectedTrigger(int Index, TriggerRejection Reason, string Message, object? Target);

/// <summary>What a batched write did: the rows it wrote, in input order, and the items it refused.</summary>
public sealed class BatchResult
{
    public List<TriggerRecord> Written { get; } = new();
    public List<RejectedTrigger> Rejected { get; } = new();
}

/// <summary>The columns whose values tab completion offers.</summary>
public enum TriggerColumn
{
    Source,
    EventType,
    WorkflowId,
    TargetNodeId,
}

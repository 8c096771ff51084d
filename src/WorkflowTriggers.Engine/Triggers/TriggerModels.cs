namespace WorkflowTriggers.Engine.Triggers;

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

    /// <summary>The row's version when it was read (<see cref="TriggerColumns.RowVersion"/>).</summary>
    public long RowVersion { get; init; }

    public TriggerKey Key => new(Id, Name, WorkflowId);
}

/// <summary>A trigger to act on, and the version the caller read it at: null to act whatever the row holds now.</summary>
public readonly record struct VersionedId(int Id, long? Version = null);

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
    long? Version = null,
    string? Name = null,
    string? WorkflowId = null,
    string? Source = null,
    string? EventType = null,
    string? ConfigJson = null,
    bool SetDescription = false,
    string? Description = null,
    bool ClearTargetNode = false)
{
    /// <summary>The fields this change sets, in the order a trigger lists them.</summary>
    public IReadOnlyList<TriggerField> Fields
    {
        get
        {
            var fields = new List<TriggerField>();
            if (Name is not null) fields.Add(TriggerField.Name);
            if (SetDescription) fields.Add(TriggerField.Description);
            if (WorkflowId is not null) fields.Add(TriggerField.WorkflowId);
            if (Source is not null) fields.Add(TriggerField.Source);
            if (EventType is not null) fields.Add(TriggerField.EventType);
            if (ConfigJson is not null) fields.Add(TriggerField.Config);
            if (ClearTargetNode) fields.Add(TriggerField.TargetNodeId);
            return fields;
        }
    }
}

/// <summary>
/// The fields of a trigger a user can change, named as the trigger object's properties: the one vocabulary for
/// "what changed" in prompts, verbose output and import results.
/// </summary>
public enum TriggerField
{
    Name,
    Description,
    WorkflowId,
    Source,
    EventType,
    TargetNodeId,
    IsActive,
    Config,
}

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
    /// <summary>
    /// Any of these workflows. Each value is a plain id (matched exactly, so an index serves it) or a wildcard
    /// (* ? [a-z], matched as -like matches: whole, without regard to case). The same holds for the three below.
    /// </summary>
    public IReadOnlyList<string>? WorkflowIds { get; init; }
    public IReadOnlyList<string>? Sources { get; init; }
    public IReadOnlyList<string>? EventTypes { get; init; }
    public IReadOnlyList<string>? TargetNodeIds { get; init; }
    public bool? IsActive { get; init; }
    public bool Untargeted { get; init; }

    /// <summary>Only triggers whose workflow does not exist in the engine's workflows table.</summary>
    public bool Orphans { get; init; }
}

/// <summary>The columns of workflow_triggers that triggers are grouped by (statistics) and completed from (tab completion).</summary>
public enum TriggerColumn
{
    WorkflowId,
    Source,
    EventType,
    TargetNodeId,
}

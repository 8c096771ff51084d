namespace WorkflowTriggers;

/// <summary>What a recorded change did to its trigger.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum HistoryOperation
{
    Insert,
    Update,
    Delete,
}

/// <summary>
/// One recorded change of one trigger (Get-TriggerHistory): when (local time), what, who and from where, why, and
/// each field with its old and new value. It pipes into the trigger cmdlets by its trigger id.
/// </summary>
public sealed class TriggerHistoryEntry : IDescribesTrigger
{
    int? IDescribesTrigger.DescribedTriggerId => Id;

    public long HistoryId { get; init; }
    public DateTime ChangedAt { get; init; }
    public HistoryOperation Operation { get; init; }

    /// <summary>The trigger's id.</summary>
    public int Id { get; init; }
    public string? Name { get; init; }
    public string? WorkflowId { get; init; }

    /// <summary>The database user who made the change (the session's login, also for the engine's application).</summary>
    public string User { get; init; } = string.Empty;
    public string? Application { get; init; }
    public string? ClientAddress { get; init; }
    public long TransactionId { get; init; }
    public string? Reason { get; init; }

    /// <summary>Each field that changed, with its old and new value: an update's changed columns, a delete's whole row; none for an insert.</summary>
    public TriggerFieldChange[] Changes { get; init; } = Array.Empty<TriggerFieldChange>();

    public string[] ChangedFields => Changes.Select(c => c.Field).ToArray();

    /// <summary>Before the change, as JSON: the changed columns (an update) or the whole row (a delete); none for an insert.</summary>
    public string? OldRowJson { get; init; }

    /// <summary>After the change, as JSON: the changed columns of an update; none for an insert or a delete.</summary>
    public string? NewRowJson { get; init; }

    internal static TriggerHistoryEntry From(Engine.History.HistoryEntry entry) => new()
    {
        HistoryId = entry.HistoryId,
        ChangedAt = LocalTime.Of(entry.ChangedAt),
        Operation = (HistoryOperation)entry.Operation,
        Id = entry.TriggerId,
        Name = entry.TriggerName,
        WorkflowId = entry.WorkflowId,
        User = entry.UserName,
        Application = entry.Application,
        ClientAddress = entry.ClientAddress,
        TransactionId = entry.TransactionId,
        Reason = entry.Reason,
        Changes = entry.Changes().Select(TriggerFieldChange.From).ToArray(),
        OldRowJson = entry.OldRow,
        NewRowJson = entry.NewRow,
    };
}

/// <summary>Whether change history is on (Enable-, Disable-TriggerHistory), and what it holds.</summary>
public sealed class TriggerHistoryStatus
{
    public string Database { get; init; } = string.Empty;
    public bool Enabled { get; init; }
    public string? Version { get; init; }
    public int? RetentionDays { get; init; }
    public DateTime? EnabledAt { get; init; }
    public string? EnabledBy { get; init; }
    public long Entries { get; init; }
    public long SizeBytes { get; init; }
    public DateTime? OldestEntry { get; init; }

    /// <summary>The role history's objects belong to; its recording function runs as that role.</summary>
    public string? Owner { get; init; }

    /// <summary>The latest moment whose entries Clear-TriggerHistory removed: no state before it can be restored.</summary>
    public DateTime? ClearedBefore { get; init; }

    /// <summary>What differs from the objects the module made (a recording trigger missing or disabled, a swapped function, ...); empty when none.</summary>
    public string[] Tampering { get; init; } = Array.Empty<string>();

    internal static TriggerHistoryStatus From(Engine.History.HistoryStatus status, string database) => new()
    {
        Database = database,
        Enabled = status.Enabled,
        Version = status.Version,
        RetentionDays = status.RetentionDays,
        EnabledAt = LocalTime.Of(status.EnabledAt),
        EnabledBy = status.EnabledBy,
        Entries = status.Entries,
        SizeBytes = status.SizeBytes,
        OldestEntry = LocalTime.Of(status.OldestEntry),
        Owner = status.Owner,
        ClearedBefore = LocalTime.Of(status.ClearedBefore),
        Tampering = status.Tampering.ToArray(),
    };
}

/// <summary>What Clear-TriggerHistory deleted, and what is left.</summary>
public sealed class TriggerHistoryClearResult
{
    public string Database { get; init; } = string.Empty;
    public DateTime Before { get; init; }
    public long Deleted { get; init; }
    public long Remaining { get; init; }
    public DateTime? OldestEntry { get; init; }
}

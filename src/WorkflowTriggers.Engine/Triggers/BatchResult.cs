namespace WorkflowTriggers.Engine.Triggers;

/// <summary>Why a requested change was not made to a trigger.</summary>
public enum TriggerRejection
{
    /// <summary>No trigger has the id.</summary>
    NotFound,

    /// <summary>The engine's workflows table does not hold the workflow.</summary>
    WorkflowNotFound,

    /// <summary>The engine's workflow_nodes table does not list the node in the trigger's workflow.</summary>
    NodeNotInWorkflow,

    /// <summary>The trigger's workflow exists, so it is not an orphan.</summary>
    NotAnOrphan,

    /// <summary>The row changed after the caller read it (its version moved on), so it was not overwritten.</summary>
    ChangedSinceRead,
}

/// <summary>
/// A requested item that was not written, and the facts of why: its position in the batch, the reason, and
/// whichever of the trigger, workflow and node the reason is about. Callers word the message.
/// </summary>
public sealed record RejectedTrigger(
    int Index, TriggerRejection Reason, int? TriggerId = null, TriggerKey? Trigger = null, string? WorkflowId = null, string? NodeId = null, DateTime? ChangedAt = null);

/// <summary>What a batched write did: the rows it wrote, in input order, and the items it refused.</summary>
public sealed class BatchResult
{
    public List<TriggerRecord> Written { get; } = new();
    public List<RejectedTrigger> Rejected { get; } = new();

    /// <summary>Items left out on purpose because the trigger already exists (its position and the trigger there).</summary>
    public List<(int Index, TriggerKey Existing)> Skipped { get; } = new();

    /// <summary>
    /// Adds the written rows in the order requested (a repeated id once) and refuses each requested id that was not
    /// written, with <paramref name="missing"/> or as not found.
    /// </summary>
    internal void CollectInInputOrder(IEnumerable<TriggerRecord> rows, IEnumerable<(int Index, int Id)> requested, Func<int, int, RejectedTrigger>? missing = null)
    {
        var written = rows.ToDictionary(r => r.Id);
        var reported = new HashSet<int>();
        foreach (var (index, id) in requested)
        {
            if (written.TryGetValue(id, out var row))
            {
                if (reported.Add(id))
                {
                    Written.Add(row);
                }
            }
            else
            {
                Rejected.Add(missing?.Invoke(index, id) ?? NotFound(index, id));
            }
        }
    }

    internal static RejectedTrigger NotFound(int index, int id) => new(index, TriggerRejection.NotFound, TriggerId: id);
}

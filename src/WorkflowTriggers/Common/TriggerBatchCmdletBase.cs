using System.Management.Automation;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Collects piped items into batches (<see cref="PipelineBatch{T}"/>), so a pipeline of 100,000 objects is a hundred
/// statements, not 100,000, while errors, -WhatIf and -Confirm still speak of each item.
/// </summary>
public abstract class TriggerBatchCmdletBase<TItem> : TriggerCmdletBase
{
    private PipelineBatch<TItem>? _pending;
    private TriggerReader? _reader;

    protected TriggerReader Reader => _reader ??= new TriggerReader(Database);

    protected virtual int BatchSize => StatementBatch.DefaultSize;

    private PipelineBatch<TItem> Pending => _pending ??= new PipelineBatch<TItem>(BatchSize, ProcessBatch);

    /// <summary>Why this write is made: recorded with each of its change history entries.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Reason { get; set; }

    protected override void BeginProcessing() => RequireWritable(Reason);

    protected override void EndProcessing() => Flush();

    /// <summary>Queues an item; an id already in the batch starts a new one, so each statement changes a row once.</summary>
    protected void Enqueue(TItem item, int? id = null) => Pending.Add(item, id);

    protected void Flush() => Pending.Flush();

    protected abstract void ProcessBatch(IReadOnlyList<TItem> batch);

    /// <summary>
    /// Reads the items' triggers as they are now, in one query, and decides per item: a missing id is TriggerNotFound;
    /// a trigger object whose row changed since it was read is TriggerChangedSinceRead unless <paramref name="overwrite"/>;
    /// the rest are named to ShouldProcess with <paramref name="actionOf"/>. Returns the approved items with their rows.
    /// </summary>
    /// <param name="actionOf">What will be done to the item, for ShouldProcess; null to leave it out (having reported why).</param>
    /// <param name="alsoConfirm">A second question for high-impact changes (after ShouldProcess said yes).</param>
    private protected IReadOnlyList<(TItem Item, TriggerRecord Current)> ConfirmEach(
        IReadOnlyList<TItem> batch,
        Func<TItem, PipedTrigger> triggerOf,
        Func<TItem, TriggerRecord, string?> actionOf,
        bool overwrite,
        bool skipConfirmation = false,
        Func<TriggerKey, bool>? alsoConfirm = null)
    {
        var current = Await(ct => Reader.CurrentAsync(batch.Select(i => triggerOf(i).Id).Distinct().ToArray(), ct));
        var approved = new List<(TItem, TriggerRecord)>(batch.Count);
        foreach (var item in batch)
        {
            var trigger = triggerOf(item);
            if (!current.TryGetValue(trigger.Id, out var row))
            {
                WriteError(EngineErrors.NotFound(trigger.Id));
                continue;
            }

            if (!overwrite && trigger.RowVersion is { } read && read != row.RowVersion)
            {
                WriteError(EngineErrors.ChangedSinceRead(row, trigger.DifferingFields(row)));
                continue;
            }

            // No action: nothing to do for this item, and the callback has said why.
            if (actionOf(item, row) is not { } action)
            {
                continue;
            }

            if ((skipConfirmation || ShouldProcess(row.Key.ToString(), action)) && (alsoConfirm is null || alsoConfirm(row.Key)))
            {
                approved.Add((item, row));
            }
        }

        return approved;
    }

    /// <summary>The version a write of <paramref name="trigger"/> must find: the one it was read at, unless overwriting on purpose.</summary>
    private protected static VersionedId Versioned(PipedTrigger trigger, bool overwrite) => new(trigger.Id, overwrite ? null : trigger.RowVersion);

    /// <summary>
    /// Writes a batch with one statement. If the server refuses the batch for its data (one row too large for an
    /// index, say), the batch is split in halves and each half written alone, down to the item at fault, which is
    /// reported on its own: the other items still go in. <paramref name="firstAttempt"/> is a write already started.
    /// </summary>
    private protected void WriteIsolatingRefusals<TWrite>(
        IReadOnlyList<TWrite> batch,
        Func<IReadOnlyList<TWrite>, CancellationToken, Task<BatchResult>> write,
        Func<TWrite, object?> targetOf,
        Action<IReadOnlyList<TWrite>, BatchResult> report,
        Task<BatchResult>? firstAttempt = null)
    {
        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            report(batch, AwaitEngine(ct => firstAttempt ?? write(batch, ct)));
        }
        catch (TriggerEngineException ex) when (ex.IsRowRefusal && batch.Count > 1)
        {
            var half = batch.Count / 2;
            WriteIsolatingRefusals(batch.Take(half).ToArray(), write, targetOf, report);
            WriteIsolatingRefusals(batch.Skip(half).ToArray(), write, targetOf, report);
        }
        catch (TriggerEngineException ex) when (ex.IsRowRefusal)
        {
            WriteError(EngineErrors.From(ex, "RowRefused", ErrorCategory.InvalidData, targetOf(batch[0])));
        }
        catch (TriggerEngineException ex)
        {
            ThrowTerminatingError(EngineErrors.From(ex, ErrorTarget));
        }
    }

    /// <summary>What a NodeNotInWorkflow refusal tells the user to do.</summary>
    private protected virtual string NodeAdvice => "Use -Force to set it anyway.";

    /// <summary>Reports refused items as errors and written rows as WorkflowTrigger objects when <paramref name="passThru"/>.</summary>
    protected void Report(BatchResult result, bool passThru, string done)
    {
        // Written rows first: an error under -ErrorAction Stop ends the command, and every committed row must have been
        // reported by then.
        foreach (var row in result.Written)
        {
            WriteVerbose($"{row.Key} {done}.");
            if (passThru)
            {
                WriteObject(WorkflowTrigger.From(row));
            }
        }

        foreach (var rejected in result.Rejected)
        {
            WriteError(EngineErrors.Rejection(rejected, NodeAdvice));
        }
    }
}

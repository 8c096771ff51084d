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

    protected override void EndProcessing() => Flush();

    /// <summary>Queues an item; an id already in the batch starts a new one, so each statement changes a row once.</summary>
    protected void Enqueue(TItem item, int? id = null) => Pending.Add(item, id);

    protected void Flush() => Pending.Flush();

    protected abstract void ProcessBatch(IReadOnlyList<TItem> batch);

    /// <summary>
    /// Names each item's trigger, reports ids that do not exist, and asks ShouldProcess per item.
    /// Returns the items to write.
    /// </summary>
    /// <param name="alsoConfirm">A second question for high-impact changes (after ShouldProcess said yes).</param>
    protected IReadOnlyList<TItem> ConfirmEach(IReadOnlyList<TItem> batch, Func<TItem, int> idOf, Func<TItem, string> actionOf, bool skipConfirmation = false, Func<TriggerKey, bool>? alsoConfirm = null)
    {
        var keys = Await(ct => Reader.DescribeAsync(batch.Select(idOf).Distinct().ToArray(), ct));
        var approved = new List<TItem>(batch.Count);
        foreach (var item in batch)
        {
            var id = idOf(item);
            if (!keys.TryGetValue(id, out var key))
            {
                WriteError(EngineErrors.NotFound(id));
                continue;
            }

            if ((skipConfirmation || ShouldProcess(key.ToString(), actionOf(item))) && (alsoConfirm is null || alsoConfirm(key)))
            {
                approved.Add(item);
            }
        }

        return approved;
    }

    /// <summary>
    /// Writes a batch with one statement. If the server refuses the batch for its data (one row too large for an
    /// index, say), the batch is split in halves and each half written alone, down to the item at fault, which is
    /// reported on its own: the other items still go in. <paramref name="firstAttempt"/> is a write already started.
    /// </summary>
    protected void WriteIsolatingRefusals(
        IReadOnlyList<TItem> batch,
        Func<IReadOnlyList<TItem>, CancellationToken, Task<BatchResult>> write,
        Func<TItem, object?> targetOf,
        Action<IReadOnlyList<TItem>, BatchResult> report,
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

    /// <summary>Reports refused items as errors and written rows as WorkflowTrigger objects when <paramref name="passThru"/>.</summary>
    protected void Report(BatchResult result, bool passThru, string done)
    {
        foreach (var rejected in result.Rejected)
        {
            WriteError(EngineErrors.Rejection(rejected));
        }

        foreach (var row in result.Written)
        {
            WriteVerbose($"{row.Key} {done}.");
            if (passThru)
            {
                WriteObject(WorkflowTrigger.From(row));
            }
        }
    }
}

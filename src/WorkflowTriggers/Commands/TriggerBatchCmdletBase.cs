using System.Management.Automation;
using WorkflowTriggers.Engine;

namespace WorkflowTriggers.Commands;

internal static class Batching
{
    /// <summary>Items per statement: large enough that round trips do not dominate, small enough to cancel quickly.</summary>
    internal const int DefaultSize = 1000;
}

/// <summary>
/// Collects piped items into batches, so a pipeline of 100,000 objects is a hundred statements, not 100,000,
/// while errors, -WhatIf and -Confirm still speak of each item.
/// </summary>
public abstract class TriggerBatchCmdletBase<TItem> : TriggerCmdletBase
{
    private readonly List<TItem> _pending = new();
    private readonly HashSet<int> _pendingIds = new();
    private TriggerStore? _store;

    protected TriggerStore Store => _store ??= new TriggerStore(Database);

    protected virtual int BatchSize => Batching.DefaultSize;

    protected override void EndProcessing() => Flush();

    /// <summary>Queues an item; an id already in the batch starts a new one, so each statement changes a row once.</summary>
    protected void Enqueue(TItem item, int? id = null)
    {
        if (id is { } key && !_pendingIds.Add(key))
        {
            Flush();
            _pendingIds.Add(key);
        }

        _pending.Add(item);
        if (_pending.Count >= BatchSize)
        {
            Flush();
        }
    }

    protected void Flush()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        var batch = _pending.ToArray();
        _pending.Clear();
        _pendingIds.Clear();
        ProcessBatch(batch);
    }

    protected abstract void ProcessBatch(IReadOnlyList<TItem> batch);

    /// <summary>
    /// Names each item's trigger, reports ids that do not exist, and asks ShouldProcess per item.
    /// Returns the items to write.
    /// </summary>
    /// <param name="alsoConfirm">A second question for high-impact changes (after ShouldProcess said yes).</param>
    protected IReadOnlyList<TItem> ConfirmEach(IReadOnlyList<TItem> batch, Func<TItem, int> idOf, Func<TItem, string> actionOf, bool skipConfirmation = false, Func<TriggerKey, bool>? alsoConfirm = null)
    {
        var keys = Await(ct => Store.DescribeAsync(batch.Select(idOf).Distinct().ToArray(), ct));
        var approved = new List<TItem>(batch.Count);
        foreach (var item in batch)
        {
            var id = idOf(item);
            if (!keys.TryGetValue(id, out var key))
            {
                WriteNotFound("TriggerNotFound", $"No workflow trigger has id {id}.", id);
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
            WriteError(new ErrorRecord(ex, "RowRefused", ErrorCategory.InvalidData, targetOf(batch[0])));
        }
        catch (TriggerEngineException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex, ErrorTarget));
        }
    }

    /// <summary>Reports refused items as errors and written rows as WorkflowTrigger objects when <paramref name="passThru"/>.</summary>
    protected void Report(BatchResult result, bool passThru, string done)
    {
        foreach (var rejected in result.Rejected)
        {
            WriteRejection(rejected);
        }

        foreach (var row in result.Written)
        {
            WriteVerbose($"{Describe(row)} {done}.");
            if (passThru)
            {
                WriteObject(WorkflowTrigger.From(row));
            }
        }
    }

    private static string Describe(TriggerRecord row) => new TriggerKey(row.Id, row.Name, row.WorkflowId).ToString();
}

/// <summary>Write cmdlets whose items are triggers named by id (-Id, or Id from piped objects).</summary>
public abstract class TriggerIdCmdletBase<TItem> : TriggerBatchCmdletBase<TItem>
{
    /// <summary>The id of the trigger; also bound from the Id property of piped objects.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, int.MaxValue)]
    public int[] Id { get; set; } = Array.Empty<int>();
}

using System.Management.Automation;
using WorkflowTriggers.Engine.Orphans;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Archives orphaned triggers (is_active = false, as the document's cleanup does), or deletes them with -Delete.
/// Without piped triggers it takes every active orphan (every orphan with -IncludeInactive).
/// </summary>
[Cmdlet(VerbsCommon.Remove, "OrphanTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class RemoveOrphanTriggerCommand : TriggerBatchCmdletBase<PipedTrigger>
{
    private OrphanCleaner? _cleaner;
    private bool _yesToAll;
    private bool _noToAll;

    /// <summary>Only these triggers (each must be an orphan).</summary>
    [Parameter(Position = 0)]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>Only these piped triggers (each must be an orphan): trigger objects, records with an Id, or ids.</summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    /// <summary>Delete the orphans instead of archiving them.</summary>
    [Parameter]
    public SwitchParameter Delete { get; set; }

    /// <summary>Without piped triggers, also take orphans that are already inactive.</summary>
    [Parameter]
    public SwitchParameter IncludeInactive { get; set; }

    /// <summary>With -Delete, do not ask for the deletion's extra confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private OrphanCleaner Cleaner => _cleaner ??= new OrphanCleaner(Database);

    protected override void BeginProcessing()
    {
        Await(Cleaner.RequireWorkflowsAsync);
        base.BeginProcessing();
    }

    protected override void ProcessRecord()
    {
        foreach (var input in InputObject ?? Array.Empty<PSObject>())
        {
            if (PipedTrigger.From(input, out var notATrigger) is { } trigger)
            {
                Enqueue(trigger, trigger.Id);
            }
            else
            {
                WriteError(PipedTrigger.NotATriggerError(input, notATrigger!));
            }
        }

        foreach (var id in Id ?? Array.Empty<int>())
        {
            Enqueue(PipedTrigger.From(id, out _)!, id);
        }
    }

    protected override void EndProcessing()
    {
        if (!MyInvocation.ExpectingInput && Id is null && InputObject is null)
        {
            // Ids first, writes after: the selection is not a reader held open across prompts and batches.
            var filter = new TriggerFilter { Orphans = true, IsActive = IncludeInactive ? null : true };
            var orphans = Stream(Reader.QueryAsync(filter, Cancellation)).Select(r => r.Id).ToList();
            WriteVerbose($"{orphans.Count:N0} orphaned trigger(s) found{(IncludeInactive ? string.Empty : " (active only; -IncludeInactive for all)")}.");
            foreach (var id in orphans)
            {
                Enqueue(PipedTrigger.From(id, out _)!, id);
            }
        }

        Flush();
    }

    protected override void ProcessBatch(IReadOnlyList<PipedTrigger> batch)
    {
        var action = Delete ? "Delete orphaned trigger" : "Archive orphaned trigger (is_active = false)";
        // A trigger whose workflow exists is refused now, as the write would refuse it, so -WhatIf and -Confirm never
        // offer to archive it. Whether each is still an orphan is checked again when it is written.
        var notOrphans = Await(ct => Cleaner.NotOrphansAsync(batch.Select(t => t.Id).ToArray(), ct)).ToDictionary(r => r.TriggerId!.Value);
        var approved = ConfirmEach(
            batch,
            t => t,
            (t, _) =>
            {
                if (notOrphans.TryGetValue(t.Id, out var refused))
                {
                    WriteError(EngineErrors.Rejection(refused));
                    return null;
                }

                return action;
            },
            overwrite: true,
            alsoConfirm: Delete ? ConfirmDeletion : null);
        WriteIsolatingRefusals(approved.Select(a => a.Item.Id).ToArray(), (ids, ct) => Cleaner.CleanUpAsync(ids, Delete, ct), id => id, (_, result) => Report(result, passThru: true, Delete ? "deleted" : "archived"));
    }

    /// <summary>
    /// Deleting is high impact while archiving is not, and a cmdlet has one ConfirmImpact: deletion asks again,
    /// as a High-impact cmdlet would, unless -Force, -Confirm:$false or $ConfirmPreference = 'None'.
    /// </summary>
    private bool ConfirmDeletion(TriggerKey key)
    {
        // An explicit -Confirm has already asked (or been told not to) through ShouldProcess.
        if (Force || WhatIfRequested || MyInvocation.BoundParameters.ContainsKey("Confirm"))
        {
            return true;
        }

        if (GetVariableValue("ConfirmPreference") is ConfirmImpact.None)
        {
            return true;
        }

        return ShouldContinue($"Delete {key}? Its workflow does not exist. This cannot be undone.", "Delete orphaned trigger", ref _yesToAll, ref _noToAll);
    }
}

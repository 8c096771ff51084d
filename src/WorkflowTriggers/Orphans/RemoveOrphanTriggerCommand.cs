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
public sealed class RemoveOrphanTriggerCommand : TriggerBatchCmdletBase<int>
{
    private OrphanCleaner? _cleaner;
    private bool _yesToAll;
    private bool _noToAll;

    /// <summary>Only these triggers (each must be an orphan); also bound from piped objects' Id.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

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

    protected override void BeginProcessing() => Await(Cleaner.RequireWorkflowsAsync);

    protected override void ProcessRecord()
    {
        foreach (var id in Id ?? Array.Empty<int>())
        {
            Enqueue(id, id);
        }
    }

    protected override void EndProcessing()
    {
        if (!MyInvocation.ExpectingInput && Id is null)
        {
            // Ids first, writes after: the selection is not a reader held open across prompts and batches.
            var filter = new TriggerFilter { Orphans = true, IsActive = IncludeInactive ? null : true };
            var orphans = Stream(Reader.QueryAsync(filter, Cancellation)).Select(r => r.Id).ToList();
            WriteVerbose($"{orphans.Count:N0} orphaned trigger(s) found{(IncludeInactive ? string.Empty : " (active only; -IncludeInactive for all)")}.");
            foreach (var id in orphans)
            {
                Enqueue(id, id);
            }
        }

        Flush();
    }

    protected override void ProcessBatch(IReadOnlyList<int> batch)
    {
        var action = Delete ? "Delete orphaned trigger" : "Archive orphaned trigger (is_active = false)";
        var approved = ConfirmEach(batch, id => id, _ => action, alsoConfirm: Delete ? ConfirmDeletion : null);
        WriteIsolatingRefusals(approved, (ids, ct) => Cleaner.CleanUpAsync(ids, Delete, ct), id => id, (_, result) => Report(result, passThru: true, Delete ? "deleted" : "archived"));
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

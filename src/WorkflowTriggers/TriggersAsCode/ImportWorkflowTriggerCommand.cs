using System.Management.Automation;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Triggers;
using WorkflowTriggers.Engine.TriggersAsCode;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Makes the database match a triggers file (or objects from the pipeline): creates what is missing, updates what
/// differs in the fields each entry states, leaves the rest untouched, with -Prune removes what the file's workflows
/// have and the file does not mention, and reports every entry. All of it commits together, under a lock that makes
/// two imports at once give the result of one.
/// </summary>
[Cmdlet(VerbsData.Import, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = InputObjectSet)]
[OutputType(typeof(TriggerImportResult))]
public sealed class ImportWorkflowTriggerCommand : TriggerEntryCmdletBase
{
    /// <summary>
    /// Import entries even where their target node is not a node of their workflow (table workflow_nodes), and
    /// follow an entry's id to a trigger whose name or workflow differ (a rename or a move).
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Also remove the triggers of the file's workflows that the file does not mention.</summary>
    [Parameter]
    public SwitchParameter Prune { get; set; }

    /// <summary>With -Prune: disable those triggers instead of deleting them.</summary>
    [Parameter]
    public SwitchParameter PruneByDisabling { get; set; }

    /// <summary>Why this write is made: recorded with each of its change history entries.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Reason { get; set; }

    protected override void BeginProcessing()
    {
        if (PruneByDisabling && !Prune)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-PruneByDisabling says how -Prune works; add -Prune."), "PruneByDisablingWithoutPrune", ErrorCategory.InvalidArgument, null));
        }

        RequireWritable(Reason);
    }

    private protected override void ProcessEntries(IReadOnlyList<TriggerDocumentEntry> entries, string? path) =>
        PlanConfirmApply(entries, path, Force, (importer, plan) => PlanPrune(importer, plan, entries, path), PruneByDisabling);

    /// <summary>
    /// Which triggers -Prune would remove, each confirmed (the request; null without -Prune), and the ones a plan
    /// lists. A file with a refused entry prunes nothing: the trigger that entry meant would look unmentioned.
    /// </summary>
    private (PruneRequest? Request, List<TriggerRecord> Planned) PlanPrune(TriggerImporter importer, ImportPlan plan, IReadOnlyList<TriggerDocumentEntry> entries, string? path)
    {
        var planned = new List<TriggerRecord>();
        if (!Prune)
        {
            return (null, planned);
        }

        if (plan.Refused.Count > 0)
        {
            WriteError(new ErrorRecord(
                new InvalidOperationException($"{path ?? "The input"} has {plan.Refused.Select(r => r.Entry.Index).Distinct().Count()} refused entr(y/ies), so nothing is pruned: the triggers they mean would look unmentioned. Fix them and import again."),
                "PruneSkipped",
                ErrorCategory.InvalidData,
                path));
            return (null, planned);
        }

        var workflows = entries.Select(e => e.WorkflowId).Distinct(StringComparer.Ordinal).ToList();
        if (workflows.Count == 0)
        {
            WriteWarning($"{path ?? "The input"} has no entries, so it names no workflow and -Prune removes nothing.");
            return (null, planned);
        }

        var mentioned = plan.Items.Where(i => i.Id is not null).Select(i => i.Id!.Value).ToList();
        var candidates = Await(ct => importer.UnmentionedAsync(workflows, mentioned, ct))
            .Where(t => !(PruneByDisabling && !t.IsActive))
            .ToList();
        var approved = new HashSet<int>();
        foreach (var trigger in candidates)
        {
            if (ShouldProcess($"{trigger.Key} (not in {path ?? "the input"})", PruneByDisabling ? "Disable" : "Delete"))
            {
                approved.Add(trigger.Id);
                planned.Add(trigger);
            }
            else if (WhatIfRequested)
            {
                // The plan lists what it would prune, as it lists what it would write.
                planned.Add(trigger);
            }
        }

        return (new PruneRequest(workflows, PruneByDisabling, approved), planned);
    }
}

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

    private protected override void ProcessEntries(IReadOnlyList<TriggerDocumentEntry> entries, string? path)
    {
        var importer = new TriggerImporter(Database);
        var plan = Await(ct => importer.PlanAsync(entries, Force, ct));
        foreach (var (entry, violation) in plan.Refused.OrderBy(r => r.Entry.Index))
        {
            WriteError(EntryError(entry, violation, path));
        }

        var declined = new List<Engine.TriggersAsCode.TriggerImportResult>();
        foreach (var item in plan.Items.Where(i => i.Action != Engine.TriggersAsCode.ImportAction.Unchanged))
        {
            if (!ShouldProcess(Target(item, path), Describe(item)))
            {
                declined.Add(item);
            }
        }

        var (prune, prunePlanned) = PlanPrune(importer, plan, entries, path);
        if (!WhatIfRequested && (plan.Items.Count > declined.Count || prune?.Approved.Count > 0))
        {
            plan.Items.RemoveAll(declined.Contains);
            var outcome = Await(ct => importer.ApplyAsync(plan, Force, prune, ct));
            plan.Items.AddRange(declined);
            Report(plan, outcome, path);
            return;
        }

        foreach (var item in plan.Items.OrderBy(i => i.Entry))
        {
            WriteObject(TriggerImportResult.From(item));
        }

        foreach (var trigger in prunePlanned)
        {
            WriteObject(TriggerImportResult.Pruned(trigger, PruneByDisabling, applied: false));
        }
    }

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

    private void Report(ImportPlan plan, ImportOutcome outcome, string? path)
    {
        // Committed rows first: an error under -ErrorAction Stop ends the command, and each must have been reported by then.
        var notWritten = outcome.Refused.Select(r => r.Item).Concat(outcome.ChangedSincePlan).ToHashSet();
        foreach (var item in plan.Items.Where(i => !notWritten.Contains(i)).OrderBy(i => i.Entry))
        {
            WriteObject(TriggerImportResult.From(item));
        }

        foreach (var pruned in outcome.Pruned)
        {
            WriteObject(TriggerImportResult.Pruned(pruned, PruneByDisabling, applied: true));
        }

        foreach (var (item, error) in outcome.Refused)
        {
            var target = TriggerFileEntry.From(item.Source, path);
            WriteError(EngineErrors.From(
                new TriggerEngineException(error.Kind, $"{target} was not written: the server refused its row ({error.Message})", error.SqlState, error),
                "RowRefused",
                ErrorCategory.InvalidData,
                target));
        }

        foreach (var item in outcome.ChangedSincePlan)
        {
            var target = TriggerFileEntry.From(item.Source, path);
            WriteError(new ErrorRecord(
                new InvalidOperationException($"{target} was not written: the database changed since it was planned (another import or writer), so it now needs another change than the one approved. Import again to see the new plan."),
                "ImportPlanChanged",
                ErrorCategory.InvalidOperation,
                target));
        }
    }

    /// <summary>
    /// The ShouldProcess target: the database's trigger for an update, and the entry too where the two differ in
    /// name or workflow, so a prompt never names only the file's trigger when it is about to change another.
    /// </summary>
    private static string Target(Engine.TriggersAsCode.TriggerImportResult item, string? path)
    {
        var from = $"{(path is null ? "input" : System.IO.Path.GetFileName(path))} entry {item.Entry}";
        if (item.Action == Engine.TriggersAsCode.ImportAction.Created)
        {
            return $"new trigger '{item.Name}' (workflow {item.WorkflowId}{(item.Id is { } id ? $", id {id}" : string.Empty)}) from {from}";
        }

        return item.DatabaseTrigger is { } other
            ? $"{other} in the database, from {from} '{item.Name}' (workflow {item.WorkflowId})"
            : $"{new TriggerKey(item.Id!.Value, item.Name, item.WorkflowId)} from {from}";
    }

    private static string Describe(Engine.TriggersAsCode.TriggerImportResult item) =>
        item.Action == Engine.TriggersAsCode.ImportAction.Created
            ? "Create"
            : "Update " + string.Join("; ", item.Changes.Select(c => TriggerFieldChange.From(c).ToString()));
}

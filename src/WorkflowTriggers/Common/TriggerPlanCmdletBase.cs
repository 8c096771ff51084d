using System.Management.Automation;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Triggers;
using WorkflowTriggers.Engine.TriggersAsCode;

namespace WorkflowTriggers.Commands;

/// <summary>
/// What Import- and Restore-WorkflowTrigger share: entries planned against the database (created, updated or
/// unchanged, each checked by the file's rules and the routing rule), each change confirmed with its old and new
/// values, all of it written in one transaction that plans again under its lock, and every entry reported, the
/// committed ones first.
/// </summary>
public abstract class TriggerPlanCmdletBase : TriggerCmdletBase
{
    /// <summary>
    /// Plans <paramref name="entries"/>, asks for each change, optionally plans a prune (<paramref name="planPrune"/>),
    /// and writes what was approved, unless -WhatIf; <paramref name="path"/> names where the entries come from.
    /// </summary>
    private protected void PlanConfirmApply(
        IReadOnlyList<TriggerDocumentEntry> entries,
        string? path,
        bool force,
        Func<TriggerImporter, ImportPlan, (PruneRequest? Request, List<TriggerRecord> Planned)>? planPrune = null,
        bool pruneByDisabling = false)
    {
        var importer = new TriggerImporter(Database);
        var plan = Await(ct => importer.PlanAsync(entries, force, ct));
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

        var (prune, prunePlanned) = planPrune?.Invoke(importer, plan) ?? (null, new List<TriggerRecord>());
        if (!WhatIfRequested && (plan.Items.Count > declined.Count || prune?.Approved.Count > 0))
        {
            plan.Items.RemoveAll(declined.Contains);
            var outcome = Await(ct => importer.ApplyAsync(plan, force, prune, ct));
            plan.Items.AddRange(declined);
            Report(plan, outcome, path, pruneByDisabling);
            return;
        }

        foreach (var item in plan.Items.OrderBy(i => i.Entry))
        {
            WriteObject(TriggerImportResult.From(item));
        }

        foreach (var trigger in prunePlanned)
        {
            WriteObject(TriggerImportResult.Pruned(trigger, pruneByDisabling, applied: false));
        }
    }

    /// <summary>An entry's refusal as an ErrorRecord whose target is the entry.</summary>
    private protected static ErrorRecord EntryError(TriggerDocumentEntry entry, RuleViolation violation, string? path)
    {
        var target = TriggerFileEntry.From(entry, path);
        return EngineErrors.Violation(violation, (path is null ? string.Empty : $"{path}: ") + target, ErrorCategory.InvalidData, target);
    }

    private void Report(ImportPlan plan, ImportOutcome outcome, string? path, bool pruneByDisabling)
    {
        // Committed rows first: an error under -ErrorAction Stop ends the command, and each must have been reported by then.
        var notWritten = outcome.Refused.Select(r => r.Item).Concat(outcome.ChangedSincePlan).ToHashSet();
        foreach (var item in plan.Items.Where(i => !notWritten.Contains(i)).OrderBy(i => i.Entry))
        {
            WriteObject(TriggerImportResult.From(item));
        }

        foreach (var pruned in outcome.Pruned)
        {
            WriteObject(TriggerImportResult.Pruned(pruned, pruneByDisabling, applied: true));
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

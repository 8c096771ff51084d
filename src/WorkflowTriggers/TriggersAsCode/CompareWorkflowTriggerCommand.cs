using System.Management.Automation;
using WorkflowTriggers.Engine.TriggersAsCode;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Compares a triggers file (or objects from the pipeline) with the database, within the workflows the file names:
/// triggers only in the file, only in the database, and different, with both values of each field. Writes nothing.
/// </summary>
[Cmdlet(VerbsData.Compare, "WorkflowTrigger", DefaultParameterSetName = InputObjectSet)]
[OutputType(typeof(TriggerDifference), typeof(bool))]
public sealed class CompareWorkflowTriggerCommand : TriggerEntryCmdletBase
{
    private bool _differs;

    /// <summary>Follow an entry's id to a trigger whose name or workflow differ, as Import-WorkflowTrigger -Force does.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Return only $true when the database matches (no difference, no refused entry), else $false: for a Pester check or an if.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    private protected override void ProcessEntries(IReadOnlyList<TriggerDocumentEntry> entries, string? path)
    {
        var importer = new TriggerImporter(Database);
        var plan = Await(ct => importer.PlanAsync(entries, Force, ct));
        foreach (var (entry, violation) in plan.Refused.OrderBy(r => r.Entry.Index))
        {
            _differs = true;
            WriteError(EntryError(entry, violation, path));
        }

        var differences = new List<TriggerDifference>();
        foreach (var item in plan.Items.Where(i => i.Action != Engine.TriggersAsCode.ImportAction.Unchanged).OrderBy(i => i.Entry))
        {
            differences.Add(new TriggerDifference
            {
                Status = item.Action == Engine.TriggersAsCode.ImportAction.Created ? TriggerDifferenceStatus.OnlyInFile : TriggerDifferenceStatus.Different,
                Entry = item.Entry,
                Id = item.Id,
                Name = item.Name,
                WorkflowId = item.WorkflowId,
                Changes = item.Changes.Select(TriggerFieldChange.From).ToArray(),
            });
        }

        var workflows = entries.Where(e => e.Violations.Count == 0).Select(e => e.WorkflowId).Distinct(StringComparer.Ordinal).ToList();
        var mentioned = plan.Items.Where(i => i.Id is not null).Select(i => i.Id!.Value)
            .Concat(entries.Where(e => e.Id is not null).Select(e => e.Id!.Value))
            .ToHashSet();
        if (workflows.Count > 0)
        {
            foreach (var trigger in Await(ct => importer.UnmentionedAsync(workflows, mentioned, ct)))
            {
                differences.Add(new TriggerDifference { Status = TriggerDifferenceStatus.OnlyInDatabase, Id = trigger.Id, Name = trigger.Name, WorkflowId = trigger.WorkflowId });
            }
        }

        _differs |= differences.Count > 0;
        if (!Quiet)
        {
            WriteObject(differences, enumerateCollection: true);
        }
    }

    protected override void EndProcessing()
    {
        base.EndProcessing();
        if (Quiet)
        {
            WriteObject(!_differs);
        }
    }
}

using System.Management.Automation;
using WorkflowTriggers.Engine.Triggers;
using WorkflowTriggers.Engine.TriggersAsCode;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Makes the database match a file written by Export-WorkflowTrigger: creates what is missing, updates what
/// differs, leaves the rest untouched, and reports every entry.
/// </summary>
[Cmdlet(VerbsData.Import, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TriggerImportResult))]
public sealed class ImportWorkflowTriggerCommand : TriggerCmdletBase
{
    /// <summary>The JSON file to apply.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Import entries even where their target node is not a node of their workflow (table workflow_nodes).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void BeginProcessing() => RequireWritable();

    protected override void ProcessRecord()
    {
        var file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        IReadOnlyList<TriggerDocumentEntry> entries;
        try
        {
            entries = TriggerDocument.Parse(File.ReadAllText(file));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            WriteError(new ErrorRecord(ex, "ImportFileNotRead", ErrorCategory.ReadError, file));
            return;
        }
        catch (ArgumentException ex)
        {
            WriteError(new ErrorRecord(new ArgumentException($"{file}: {ex.Message} Export-WorkflowTrigger writes such a file.", ex), "InvalidTriggerFile", ErrorCategory.InvalidData, file));
            return;
        }

        var importer = new TriggerImporter(Database);
        var plan = Await(ct => importer.PlanAsync(entries, Force, ct));
        foreach (var (entry, violation) in plan.Refused.OrderBy(r => r.Entry.Index))
        {
            var display = Display(entry);
            WriteError(EngineErrors.Violation(violation, display, ErrorCategory.InvalidData, display));
        }

        var declined = new List<Engine.TriggersAsCode.TriggerImportResult>();
        foreach (var item in plan.Items.Where(i => i.Action != Engine.TriggersAsCode.ImportAction.Unchanged))
        {
            var target = item.Action == Engine.TriggersAsCode.ImportAction.Created
                ? $"new trigger '{item.Name}' (workflow {item.WorkflowId}{(item.Id is { } id ? $", id {id}" : string.Empty)})"
                : new TriggerKey(item.Id!.Value, item.Name, item.WorkflowId).ToString();
            var action = item.Action == Engine.TriggersAsCode.ImportAction.Created ? "Create" : "Update " + string.Join(", ", item.ChangedFields);
            if (!ShouldProcess(target, action))
            {
                declined.Add(item);
            }
        }

        if (!WhatIfRequested)
        {
            plan.Items.RemoveAll(declined.Contains);
            Await(ct => importer.ApplyAsync(plan, ct));
            plan.Items.AddRange(declined);
        }

        foreach (var item in plan.Items.OrderBy(i => i.Entry))
        {
            WriteObject(TriggerImportResult.From(item));
        }
    }

    /// <summary>How errors name an entry of the file: its position, and its name and id where it has them.</summary>
    private static string Display(TriggerDocumentEntry entry) =>
        $"entry {entry.Index + 1}" + (string.IsNullOrEmpty(entry.Name) ? string.Empty : $" '{entry.Name}'") + (entry.Id is { } id ? $" (id {id})" : string.Empty);
}

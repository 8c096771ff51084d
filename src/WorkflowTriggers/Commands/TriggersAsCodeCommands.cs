using System.Management.Automation;
using System.Text;
using WorkflowTriggers.Engine;

namespace WorkflowTriggers.Commands;

/// <summary>Writes triggers as a JSON document (everything but the timestamps) for version control and review.</summary>
[Cmdlet(VerbsData.Export, "WorkflowTrigger", DefaultParameterSetName = FilterSet)]
[OutputType(typeof(string))]
public sealed class ExportWorkflowTriggerCommand : TriggerFilterCmdletBase
{
    private const string FilterSet = "Filter";
    private const string InputObjectSet = "InputObject";

    private readonly List<TriggerRecord> _piped = new();

    /// <summary>The file to write; without it the JSON text goes to the pipeline.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter(ParameterSetName = FilterSet)]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>Triggers from Get-WorkflowTrigger and friends.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public WorkflowTrigger[] InputObject { get; set; } = Array.Empty<WorkflowTrigger>();

    protected override void ProcessRecord()
    {
        if (ParameterSetName == InputObjectSet)
        {
            _piped.AddRange(InputObject.Select(t => t.ToRecord()));
        }
    }

    protected override void EndProcessing()
    {
        // The file is opened only once the query has started, so a failing query does not leave an empty file.
        var triggers = ParameterSetName == InputObjectSet
            ? _piped.DistinctBy(t => t.Id)
            : Stream(new TriggerStore(Database).QueryAsync(Filter(Id), Cancellation));
        if (Path is null)
        {
            using var buffer = new MemoryStream();
            TriggerDocument.Write(buffer, triggers);
            WriteObject(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            return;
        }

        var file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var temporary = file + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                TriggerDocument.Write(stream, triggers);
            }

            // Replace the old file only when the new one is complete: an interrupted export keeps the last good file.
            File.Move(temporary, file, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            ThrowTerminatingError(new ErrorRecord(ex, "ExportFileNotWritten", ErrorCategory.WriteError, file));
        }
        catch
        {
            // Stopped, or the query failed: the previous file stays as it was.
            File.Delete(temporary);
            throw;
        }

        WriteVerbose($"Wrote {file}.");
    }
}

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
            WriteError(new ErrorRecord(new ArgumentException($"{file}: {ex.Message}", ex), "InvalidTriggerFile", ErrorCategory.InvalidData, file));
            return;
        }

        var importer = new TriggerImporter(Database);
        var plan = Await(ct => importer.PlanAsync(entries, ct));
        foreach (var (entry, violation) in plan.Refused.OrderBy(r => r.Entry.Index))
        {
            var message = violation.Message.StartsWith("entry ", StringComparison.Ordinal) ? violation.Message : $"{entry.Display}: {violation.Message}";
            WriteError(new ErrorRecord(new ArgumentException(message, violation.Field), violation.ErrorId, ErrorCategory.InvalidData, entry.Display));
        }

        var declined = new List<TriggerImportResult>();
        foreach (var item in plan.Items.Where(i => i.Action != ImportAction.Unchanged))
        {
            var target = item.Action == ImportAction.Created
                ? $"new trigger '{item.Name}' (workflow {item.WorkflowId}{(item.Id is { } id ? $", id {id}" : string.Empty)})"
                : new TriggerKey(item.Id!.Value, item.Name, item.WorkflowId).ToString();
            var action = item.Action == ImportAction.Created ? "Create" : "Update " + string.Join(", ", item.ChangedFields);
            if (!ShouldProcess(target, action))
            {
                declined.Add(item);
            }
        }

        if (!WhatIfRequested)
        {
            plan.Items.RemoveAll(declined.Contains);
            Await(async ct => { await importer.ApplyAsync(plan, ct).ConfigureAwait(false); return true; });
            plan.Items.AddRange(declined);
        }

        foreach (var item in plan.Items.OrderBy(i => i.Entry))
        {
            WriteObject(item);
        }
    }
}

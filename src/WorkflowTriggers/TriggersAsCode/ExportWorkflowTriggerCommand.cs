using System.Management.Automation;
using System.Text;
using WorkflowTriggers.Engine.Triggers;
using WorkflowTriggers.Engine.TriggersAsCode;

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
            : Stream(new TriggerReader(Database).QueryAsync(Filter(Id), Cancellation));
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

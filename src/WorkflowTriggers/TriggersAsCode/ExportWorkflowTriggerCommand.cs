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

    /// <summary>Replace an existing file even with a document of no triggers (nothing was piped in, or nothing matched).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        // The file is opened only once the query has started, so a failing query does not leave an empty file.
        // A query streams its rows in id order; piped triggers are sorted here.
        var triggers = new Counted(ParameterSetName == InputObjectSet
            ? _piped.DistinctBy(t => t.Id).OrderBy(t => t.Id)
            : Stream(new TriggerReader(Database).QueryAsync(Filter(Id), Cancellation)));
        if (Path is null)
        {
            using var buffer = new MemoryStream();
            TriggerDocument.Write(buffer, triggers, inIdOrder: true);
            WriteObject(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            return;
        }

        var file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var destination = Destination(file);
        var temporary = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(destination)!, $".{System.IO.Path.GetFileName(destination)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                TriggerDocument.Write(stream, triggers, inIdOrder: true);
            }

            if (triggers.Count == 0 && File.Exists(destination) && !Force)
            {
                File.Delete(temporary);
                ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException($"{Path}: there are no triggers to write{(ParameterSetName == InputObjectSet ? " (none was piped in)" : " (none matched)")}, and writing would replace the file's triggers with an empty list. The file is unchanged; use -Force to empty it."),
                    "ExportWouldEmptyFile",
                    ErrorCategory.InvalidOperation,
                    file));
            }

            if (File.Exists(destination) && !OperatingSystem.IsWindows())
            {
                // The replacement keeps the file's permissions (a 0600 file stays 0600).
                File.SetUnixFileMode(temporary, File.GetUnixFileMode(destination));
            }

            // Replace the old file only when the new one is complete: an interrupted export keeps the last good file.
            File.Move(temporary, destination, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            ThrowTerminatingError(new ErrorRecord(new IOException($"{Path} was not written: {ex.Message}", ex), "ExportFileNotWritten", ErrorCategory.WriteError, file));
        }
        catch
        {
            // Stopped, or the query failed: the previous file stays as it was.
            File.Delete(temporary);
            throw;
        }

        WriteVerbose($"Wrote {triggers.Count} trigger(s) to {(destination == file ? file : $"{file} (a link to {destination})")}.");
        WriteSchemaBeside(file);
    }

    /// <summary>
    /// Where the bytes go: the file a symbolic link finally points at (the link stays a link), after checking that
    /// it is a regular file (or not there yet) in a folder that exists. Stops with ExportFileNotWritten otherwise.
    /// </summary>
    private string Destination(string file)
    {
        var destination = file;
        if (new FileInfo(file).LinkTarget is not null)
        {
            destination = new FileInfo(file).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? file;
        }

        string? problem = null;
        if (Directory.Exists(destination))
        {
            problem = "it is a folder";
        }
        else if (File.Exists(destination) && ItemType(destination) is { } type && type != "File")
        {
            problem = $"it is not a regular file ({type})";
        }
        else if (!Directory.Exists(System.IO.Path.GetDirectoryName(destination)))
        {
            problem = $"the folder {System.IO.Path.GetDirectoryName(destination)} does not exist";
        }

        if (problem is not null)
        {
            ThrowTerminatingError(new ErrorRecord(
                new IOException($"{Path} was not written: {problem}. Nothing was changed."),
                "ExportFileNotWritten",
                ErrorCategory.WriteError,
                file));
        }

        return destination;
    }

    /// <summary>
    /// The file system provider's stat of a path (File, CharacterDevice, NamedPipe, ...), as Get-Item shows it in
    /// UnixStat; null where it has none (Windows).
    /// </summary>
    private string? ItemType(string path) =>
        InvokeProvider.Item.Get(new[] { path }, force: true, literalPath: true).FirstOrDefault()?.Properties["UnixStat"]?.Value is { } stat
            ? PSObject.AsPSObject(stat).Properties["ItemType"]?.Value?.ToString()
            : null;

    /// <summary>
    /// Writes the format's JSON Schema beside the file, which names it in "$schema", so an editor validates while one
    /// types. Written when missing, or refreshed when it is an older copy of this schema; another file of that name is left alone.
    /// </summary>
    private void WriteSchemaBeside(string file)
    {
        var schemaPath = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(file)!, TriggerDocument.SchemaFileName);
        try
        {
            if (File.Exists(schemaPath))
            {
                var current = File.ReadAllText(schemaPath);
                if (current == TriggerFileSchema.Text)
                {
                    return;
                }

                if (!current.Contains("\"WorkflowTriggers triggers file\"", StringComparison.Ordinal))
                {
                    WriteWarning($"{schemaPath} is not this module's schema, so it was left as it is; editors that follow \"$schema\" in {file} will read it.");
                    return;
                }
            }

            File.WriteAllText(schemaPath, TriggerFileSchema.Text);
            WriteVerbose($"Wrote the format's schema to {schemaPath}.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            WriteWarning($"The format's schema could not be written beside the file ({ex.Message}); the export itself is complete.");
        }
    }

    /// <summary>Counts the triggers as the writer reads them, so emptiness is known without reading the query twice.</summary>
    private sealed class Counted : IEnumerable<TriggerRecord>
    {
        private readonly IEnumerable<TriggerRecord> _inner;

        public Counted(IEnumerable<TriggerRecord> inner) => _inner = inner;

        public int Count { get; private set; }

        public IEnumerator<TriggerRecord> GetEnumerator()
        {
            foreach (var trigger in _inner)
            {
                Count++;
                yield return trigger;
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

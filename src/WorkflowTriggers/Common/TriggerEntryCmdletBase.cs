using System.Collections;
using System.Management.Automation;
using System.Text;
using System.Text.Json;
using WorkflowTriggers.Engine.TriggersAsCode;

namespace WorkflowTriggers.Commands;

/// <summary>
/// What Import- and Compare-WorkflowTrigger share: entries from a triggers file (-Path) or from objects in the
/// pipeline (Import-Csv, ConvertFrom-Json, Get-WorkflowTrigger), both read by the file format's rules, and errors
/// that carry the entry as their target.
/// </summary>
public abstract class TriggerEntryCmdletBase : TriggerPlanCmdletBase
{
    private protected const string PathSet = "Path";
    private protected const string InputObjectSet = "InputObject";

    // Properties a trigger object has that a file does not state: read-only facts of the database's row.
    private static readonly HashSet<string> ReadOnlyProperties = typeof(WorkflowTrigger).GetProperties()
        .Select(p => p.Name)
        .Where(n => !TriggerDocument.EntryKeys.Contains(n, StringComparer.OrdinalIgnoreCase))
        .ToHashSet(StringComparer.OrdinalIgnoreCase);

    private readonly List<PSObject> _piped = new();

    /// <summary>The JSON file to read (Export-WorkflowTrigger writes such a file).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>
    /// Triggers as objects: properties named as a file's keys (Name, WorkflowId, Source, EventType, Description,
    /// TargetNodeId, IsActive, Config, Id), as Import-Csv, ConvertFrom-Json or Get-WorkflowTrigger give them. Files
    /// (Get-ChildItem) and path strings are read as triggers files.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public PSObject[] InputObject { get; set; } = Array.Empty<PSObject>();

    protected override void ProcessRecord()
    {
        if (ParameterSetName == PathSet)
        {
            ProcessFile(Path);
            return;
        }

        // One pipeline parameter for both: a set of its own per kind would leave PowerShell unable to tell them apart.
        foreach (var item in InputObject.Where(o => o is not null))
        {
            switch (item.BaseObject)
            {
                case FileInfo file:
                    ProcessFile(file.FullName);
                    break;
                case string path:
                    ProcessFile(path);
                    break;
                default:
                    _piped.Add(item);
                    break;
            }
        }
    }

    private void ProcessFile(string given)
    {
        var file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(given);
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

        ProcessEntries(entries, file);
    }

    protected override void EndProcessing()
    {
        if (_piped.Count > 0)
        {
            // All objects at once: one plan, one transaction, and a prune that sees every entry.
            ProcessEntries(_piped.Select((o, i) => TriggerDocument.ParseEntry(i, EntryJson(o))).ToList(), null);
        }
    }

    /// <summary>Does the command's work for one file's entries, or for all the pipeline's; <paramref name="path"/> is null for the pipeline.</summary>
    private protected abstract void ProcessEntries(IReadOnlyList<TriggerDocumentEntry> entries, string? path);

    /// <summary>
    /// An object as the JSON of a file's entry: each property under its key (matched without regard to case, as
    /// PowerShell does), read-only properties of a trigger object left out, and any other property kept, so that
    /// the file's rules refuse it by name rather than lose it. An empty cell (Import-Csv) clears an optional text
    /// (Description, TargetNodeId) and leaves any other field unstated.
    /// </summary>
    internal static string EntryJson(PSObject item)
    {
        var isTrigger = item.BaseObject is WorkflowTrigger;
        var properties = item.Properties.Where(p => p.IsGettable).ToList();
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var property in properties)
            {
                var key = TriggerDocument.EntryKeys.FirstOrDefault(k => string.Equals(k, property.Name, StringComparison.OrdinalIgnoreCase));
                if (key is null)
                {
                    if (!ReadOnlyProperties.Contains(property.Name))
                    {
                        writer.WritePropertyName(property.Name);
                        JsonSerializer.Serialize(writer, property.Value?.ToString());
                    }

                    continue;
                }

                var value = PSObject.AsPSObject(property.Value ?? string.Empty).BaseObject;
                if (value is string { Length: 0 } && key is not ("description" or "targetNodeId"))
                {
                    // An empty cell: an optional text is cleared, and any other field is not stated (it keeps its value).
                    continue;
                }

                writer.WritePropertyName(key);
                switch (key)
                {
                    case "config":
                        // A trigger object's Config reflects edits made to it; elsewhere ConfigJson (Export-Csv of a trigger) is the lossless text.
                        var text = !isTrigger && properties.FirstOrDefault(p => p.Name.Equals("ConfigJson", StringComparison.OrdinalIgnoreCase))?.Value is string { Length: > 0 } json
                            ? json
                            : ConfigConverter.ToJson(property.Value);
                        WriteJsonOrString(writer, text);
                        break;
                    case "id":
                        WriteNumberOrText(writer, value);
                        break;
                    case "isActive":
                        if (value is bool flag)
                        {
                            writer.WriteBooleanValue(flag);
                        }
                        else if (value is string s && bool.TryParse(s.Trim(), out var parsed))
                        {
                            writer.WriteBooleanValue(parsed);
                        }
                        else if (value is string { Length: 0 })
                        {
                            writer.WriteNullValue();
                        }
                        else
                        {
                            writer.WriteStringValue(value?.ToString());
                        }

                        break;
                    default:
                        var textValue = value?.ToString();
                        if (string.IsNullOrEmpty(textValue) && key is "description" or "targetNodeId")
                        {
                            writer.WriteNullValue();
                        }
                        else
                        {
                            writer.WriteStringValue(textValue);
                        }

                        break;
                }
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteNumberOrText(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case int or long or short:
                writer.WriteNumberValue(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case string { Length: 0 }:
                writer.WriteNullValue();
                break;
            case string s when long.TryParse(s.Trim(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n):
                writer.WriteNumberValue(n);
                break;
            default:
                writer.WriteStringValue(value?.ToString());
                break;
        }
    }

    private static void WriteJsonOrString(Utf8JsonWriter writer, string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            writer.WriteNullValue();
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = Engine.Triggers.TriggerRules.MaxConfigDepth + 1 });
            document.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            // Not JSON: the entry rules say config must be an object.
            writer.WriteStringValue(json);
        }
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.TriggersAsCode;

/// <summary>One trigger of a triggers-as-code file; <see cref="Violations"/> says what is wrong with it, if anything.</summary>
public sealed class TriggerDocumentEntry
{
    /// <summary>Position in the file's triggers array, from 0.</summary>
    public int Index { get; init; }
    public int? Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string? Description { get; init; }
    public string WorkflowId { get; init; } = string.Empty;
    public string Source { get; init; } = string.Empty;
    public string EventType { get; init; } = string.Empty;
    public string? TargetNodeId { get; init; }
    public bool IsActive { get; init; } = true;

    /// <summary>The config in canonical form (keys sorted, compact), so equal configs compare equal as text.</summary>
    public string ConfigJson { get; init; } = "{}";

    public List<RuleViolation> Violations { get; } = new();
}

/// <summary>
/// The triggers-as-code file: a JSON document with every field of each trigger but the timestamps, in id order,
/// keys in a fixed order and config keys sorted, indented one property per line, so two exports of the same
/// triggers are byte for byte the same and a change reads as a small diff.
/// </summary>
public static class TriggerDocument
{
    public const int FormatVersion = 1;

    // Config may nest as deep as the rules allow; the file adds three levels around it (document, array, entry).
    private static readonly JsonDocumentOptions ConfigOptions = new() { MaxDepth = TriggerRules.MaxConfigDepth + 1 };

    private static readonly JsonDocumentOptions FileOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = TriggerRules.MaxConfigDepth + 4,
    };

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        MaxDepth = TriggerRules.MaxConfigDepth + 4,
        Indented = true,
        // Names and paths stay readable in a diff: no \u escapes for non-ASCII letters, '+' or '<'.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes the triggers, sorted by id, as the file's text (UTF-8, no BOM, ends with a newline).</summary>
    public static void Write(Stream stream, IEnumerable<TriggerRecord> triggers)
    {
        using (var writer = new Utf8JsonWriter(stream, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteNumber("formatVersion", FormatVersion);
            writer.WriteStartArray("triggers");
            foreach (var trigger in triggers.OrderBy(t => t.Id))
            {
                writer.WriteStartObject();
                writer.WriteNumber("id", trigger.Id);
                writer.WriteString("name", trigger.Name);
                writer.WriteString("description", trigger.Description);
                writer.WriteString("workflowId", trigger.WorkflowId);
                writer.WriteString("source", trigger.Source);
                writer.WriteString("eventType", trigger.EventType);
                writer.WriteString("targetNodeId", trigger.TargetNodeId);
                writer.WriteBoolean("isActive", trigger.IsActive);
                writer.WritePropertyName("config");
                if (Canonical(JsonNode.Parse(trigger.ConfigJson ?? "{}", documentOptions: ConfigOptions)) is { } config)
                {
                    config.WriteTo(writer);
                }
                else
                {
                    writer.WriteNullValue();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
    }

    /// <summary>
    /// Reads a file's entries. The file is an object with a "triggers" array (as written) or a bare array; property
    /// names are matched without regard to case. A malformed document is an <see cref="ArgumentException"/>; a
    /// malformed entry gets violations and the others are still read.
    /// </summary>
    public static IReadOnlyList<TriggerDocumentEntry> Parse(string json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: FileOptions);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"The file is not valid JSON: {ex.Message}", nameof(json), ex);
        }

        var array = root switch
        {
            JsonArray bare => bare,
            JsonObject document when Property(document, "triggers") is JsonArray triggers => triggers,
            _ => throw new ArgumentException("The file must be a JSON object with a \"triggers\" array, or an array of triggers.", nameof(json)),
        };

        var entries = new List<TriggerDocumentEntry>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            entries.Add(ReadEntry(i, array[i]));
        }

        return entries;
    }

    /// <summary>The config as canonical compact JSON: object keys sorted (ordinal) at every depth.</summary>
    public static string CanonicalConfig(string? configJson) =>
        Canonical(JsonNode.Parse(string.IsNullOrWhiteSpace(configJson) ? "{}" : configJson, documentOptions: ConfigOptions))?.ToJsonString() ?? "null";

    private static TriggerDocumentEntry ReadEntry(int index, JsonNode? node)
    {
        if (node is not JsonObject item)
        {
            var invalid = new TriggerDocumentEntry { Index = index };
            invalid.Violations.Add(new RuleViolation("Entry", node?.ToJsonString(), "InvalidEntry", "Each trigger must be a JSON object."));
            return invalid;
        }

        var violations = new List<RuleViolation>();
        string? Text(string name)
        {
            var value = Property(item, name);
            if (value is null)
            {
                return null;
            }

            if (value is JsonValue v && v.TryGetValue<string>(out var text))
            {
                return text;
            }

            violations.Add(new RuleViolation(name, value.ToJsonString(), "InvalidEntry", $"{name} must be a string."));
            return null;
        }

        int? id = null;
        if (Property(item, "id") is { } idNode)
        {
            if (idNode is JsonValue idValue && idValue.TryGetValue<int>(out var parsed) && parsed > 0)
            {
                id = parsed;
            }
            else
            {
                violations.Add(new RuleViolation("Id", idNode.ToJsonString(), "InvalidEntry", "id must be a positive whole number."));
            }
        }

        var isActive = true;
        if (Property(item, "isActive") is { } activeNode)
        {
            if (activeNode is JsonValue activeValue && activeValue.TryGetValue<bool>(out var active))
            {
                isActive = active;
            }
            else
            {
                violations.Add(new RuleViolation("IsActive", activeNode.ToJsonString(), "InvalidEntry", "isActive must be true or false."));
            }
        }

        var configNode = Property(item, "config");
        var configJson = configNode is null ? "{}" : Canonical(configNode.DeepClone())!.ToJsonString();

        var entry = new TriggerDocumentEntry
        {
            Index = index,
            Id = id,
            Name = Text("name") ?? string.Empty,
            Description = Text("description"),
            WorkflowId = Text("workflowId") ?? string.Empty,
            Source = Text("source") ?? string.Empty,
            EventType = Text("eventType") ?? string.Empty,
            TargetNodeId = Text("targetNodeId"),
            IsActive = isActive,
            ConfigJson = configJson,
        };
        entry.Violations.AddRange(violations);
        entry.Violations.AddRange(TriggerRules.CheckNew(new NewTrigger(entry.Name, entry.WorkflowId, entry.Source, entry.EventType, entry.Description, entry.TargetNodeId, entry.ConfigJson, entry.IsActive)));
        return entry;
    }

    private static JsonNode? Property(JsonObject item, string name)
    {
        foreach (var (key, value) in item)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value?.DeepClone())))),
        JsonArray array => new JsonArray(array.Select(v => Canonical(v?.DeepClone())).ToArray()),
        _ => node?.DeepClone(),
    };
}

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.TriggersAsCode;

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

    private const int FlushAt = 64 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        MaxDepth = TriggerRules.MaxConfigDepth + 4,
        Indented = true,
        // Names and paths stay readable in a diff: no \u escapes for non-ASCII letters, '+' or '<'.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Writes the triggers, sorted by id, as the file's text (UTF-8, no BOM, ends with a newline). Triggers that
    /// already come in id order (<paramref name="inIdOrder"/>: a query's stream) are written as they come, and the text
    /// goes to the stream as it is made, so a file of ten million triggers takes no more memory than one of ten.
    /// </summary>
    public static void Write(Stream stream, IEnumerable<TriggerRecord> triggers, bool inIdOrder = false)
    {
        using (var writer = new Utf8JsonWriter(stream, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("$schema", SchemaFileName);
            writer.WriteNumber("formatVersion", FormatVersion);
            writer.WriteStartArray("triggers");
            foreach (var trigger in inIdOrder ? triggers : triggers.OrderBy(t => t.Id))
            {
                // The writer keeps what it has written until it is flushed: without this, the whole file.
                if (writer.BytesPending > FlushAt)
                {
                    writer.Flush();
                }

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

    /// <summary>The keys an entry may have, in the order a file writes them.</summary>
    public static readonly IReadOnlyList<string> EntryKeys = new[] { "id", "name", "description", "workflowId", "source", "eventType", "targetNodeId", "isActive", "config" };

    /// <summary>The keys a file's top-level object may have.</summary>
    public static readonly IReadOnlyList<string> DocumentKeys = new[] { "$schema", "formatVersion", "triggers" };

    /// <summary>The JSON Schema of the format, shipped beside the module; an exported file names it in "$schema".</summary>
    public const string SchemaFileName = "workflow-triggers.schema.json";

    private static readonly Dictionary<string, TriggerField> FieldOfKey = new(StringComparer.Ordinal)
    {
        ["name"] = TriggerField.Name,
        ["description"] = TriggerField.Description,
        ["workflowId"] = TriggerField.WorkflowId,
        ["source"] = TriggerField.Source,
        ["eventType"] = TriggerField.EventType,
        ["targetNodeId"] = TriggerField.TargetNodeId,
        ["isActive"] = TriggerField.IsActive,
        ["config"] = TriggerField.Config,
    };

    /// <summary>
    /// Reads a file's entries. The file is an object with "formatVersion" and a "triggers" array (as written), or a
    /// bare array of entries. Keys are matched exactly (they are case-sensitive, as in the JSON Schema). A document
    /// this module cannot read as a whole (not JSON, an unknown format version, an unknown or repeated top-level key)
    /// is an <see cref="ArgumentException"/>; a malformed entry gets violations and the others are still read.
    /// </summary>
    public static IReadOnlyList<TriggerDocumentEntry> Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, FileOptions);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"The file is not valid JSON: {ex.Message}", nameof(json), ex);
        }

        using (document)
        {
            var root = document.RootElement;
            JsonElement array;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (RepeatedKeys.AtTop(root) is { } twice)
                {
                    throw new ArgumentException($"The key \"{twice}\" appears twice at the top of the file.", nameof(json));
                }

                if (root.EnumerateObject().Select(p => p.Name).FirstOrDefault(name => !DocumentKeys.Contains(name)) is { } unknown)
                {
                    throw new ArgumentException($"The key \"{unknown}\" is not part of the format; a file's top level has {string.Join(", ", DocumentKeys.Select(k => $"\"{k}\""))}.", nameof(json));
                }

                if (!root.TryGetProperty("formatVersion", out var version))
                {
                    throw new ArgumentException($"The file has no \"formatVersion\"; this module reads formatVersion {FormatVersion}.", nameof(json));
                }

                if (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var number) || number != FormatVersion)
                {
                    throw new ArgumentException($"formatVersion {version.GetRawText()} is not a version this module knows; it reads formatVersion {FormatVersion}. A newer module may have written the file.", nameof(json));
                }

                if (!root.TryGetProperty("triggers", out array) || array.ValueKind != JsonValueKind.Array)
                {
                    throw new ArgumentException("The file must have a \"triggers\" array.", nameof(json));
                }
            }
            else if (root.ValueKind == JsonValueKind.Array)
            {
                array = root;
            }
            else
            {
                throw new ArgumentException("The file must be a JSON object with \"formatVersion\" and a \"triggers\" array, or an array of triggers.", nameof(json));
            }

            var entries = new List<TriggerDocumentEntry>(array.GetArrayLength());
            var index = 0;
            foreach (var item in array.EnumerateArray())
            {
                entries.Add(ReadEntry(index++, item));
            }

            return entries;
        }
    }

    /// <summary>One entry given as the JSON text of an object (the pipeline's objects come this way), read by the file's rules.</summary>
    public static TriggerDocumentEntry ParseEntry(int index, string entryJson)
    {
        using var document = JsonDocument.Parse(entryJson, FileOptions);
        return ReadEntry(index, document.RootElement);
    }

    private static TriggerDocumentEntry ReadEntry(int index, JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            var invalid = new TriggerDocumentEntry { Index = index };
            invalid.Violations.Add(new RuleViolation("Entry", item.GetRawText(), "InvalidEntry", "Each trigger must be a JSON object."));
            return invalid;
        }

        var violations = new List<RuleViolation>();
        if (RepeatedKeys.AtAnyDepth(item, string.Empty) is { } repeated)
        {
            // Which of the two values was meant cannot be known, and a repeated key cannot be read as an object.
            var entry = new TriggerDocumentEntry { Index = index, Name = NameOf(item) };
            entry.Violations.Add(new RuleViolation("Entry", repeated, "DuplicateKey", $"The key \"{repeated}\" appears twice; which value is meant cannot be known."));
            return entry;
        }

        foreach (var property in item.EnumerateObject())
        {
            if (!EntryKeys.Contains(property.Name))
            {
                var hint = EntryKeys.FirstOrDefault(k => string.Equals(k, property.Name, StringComparison.OrdinalIgnoreCase)) is { } meant
                    ? $" Keys are case-sensitive: write \"{meant}\"."
                    : $" The keys are {string.Join(", ", EntryKeys)}.";
                violations.Add(new RuleViolation("Entry", property.Name, "UnknownKey", $"\"{property.Name}\" is not a field of a trigger, so it would be lost.{hint}"));
            }
        }

        var stated = new HashSet<TriggerField>();
        string? Text(string key)
        {
            if (!item.TryGetProperty(key, out var value))
            {
                return null;
            }

            stated.Add(FieldOfKey[key]);
            switch (value.ValueKind)
            {
                case JsonValueKind.Null:
                    return null;
                case JsonValueKind.String:
                    try
                    {
                        return value.GetString();
                    }
                    catch (InvalidOperationException)
                    {
                        violations.Add(new RuleViolation(FieldOfKey[key].ToString(), value.GetRawText(), "InvalidEntry", $"{key} holds a \\u escape of a lone surrogate, which is not text."));
                        return null;
                    }

                default:
                    violations.Add(new RuleViolation(FieldOfKey[key].ToString(), value.GetRawText(), "InvalidEntry", $"{key} must be a string or null."));
                    return null;
            }
        }

        int? id = null;
        if (item.TryGetProperty("id", out var idNode) && idNode.ValueKind != JsonValueKind.Null)
        {
            if (idNode.ValueKind == JsonValueKind.Number && idNode.TryGetInt32(out var parsed) && parsed > 0)
            {
                id = parsed;
            }
            else
            {
                violations.Add(new RuleViolation("Id", idNode.GetRawText(), "InvalidEntry", "id must be a positive whole number."));
            }
        }

        bool? isActive = null;
        if (item.TryGetProperty("isActive", out var activeNode))
        {
            stated.Add(TriggerField.IsActive);
            if (activeNode.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                isActive = activeNode.GetBoolean();
            }
            else
            {
                violations.Add(new RuleViolation("IsActive", activeNode.GetRawText(), "InvalidEntry", "isActive must be true or false."));
            }
        }

        string? configJson = null;
        if (item.TryGetProperty("config", out var configNode))
        {
            stated.Add(TriggerField.Config);
            configJson = configNode.ValueKind == JsonValueKind.Null ? "{}" : Canonical(JsonNode.Parse(configNode.GetRawText(), documentOptions: ConfigOptions))!.ToJsonString();
        }

        var name = Text("name");
        var workflowId = Text("workflowId");
        foreach (var (key, value) in new[] { ("name", name), ("workflowId", workflowId) })
        {
            if (value is null && !violations.Any(v => v.Field == FieldOfKey[key].ToString()))
            {
                violations.Add(new RuleViolation(FieldOfKey[key].ToString(), null, "MissingKey", $"{key} is missing or null: an entry names its trigger by workflow and name."));
            }
        }

        var result = new TriggerDocumentEntry
        {
            Index = index,
            Id = id,
            Name = name ?? string.Empty,
            WorkflowId = workflowId ?? string.Empty,
            Description = Text("description"),
            Source = Text("source"),
            EventType = Text("eventType"),
            TargetNodeId = Text("targetNodeId"),
            IsActive = isActive,
            ConfigJson = configJson,
            Stated = stated,
        };
        result.Violations.AddRange(violations);
        return result;
    }

    private static string NameOf(JsonElement item) =>
        item.EnumerateObject().Where(p => p.Name == "name" && p.Value.ValueKind == JsonValueKind.String).Select(p => p.Value.GetString()).FirstOrDefault() ?? string.Empty;

    /// <summary>The config as canonical compact JSON: object keys sorted (ordinal) at every depth.</summary>
    public static string CanonicalConfig(string? configJson) =>
        Canonical(JsonNode.Parse(string.IsNullOrWhiteSpace(configJson) ? "{}" : configJson, documentOptions: ConfigOptions))?.ToJsonString() ?? "null";

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value?.DeepClone())))),
        JsonArray array => new JsonArray(array.Select(v => Canonical(v?.DeepClone())).ToArray()),
        _ => node?.DeepClone(),
    };
}

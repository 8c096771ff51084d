using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.TriggersAsCode;

/// <summary>
/// The JSON Schema (draft 2020-12) of the triggers file, made from the format's keys and the validation rules'
/// own constants, so an editor checks what the import checks. The module ships it as
/// <see cref="TriggerDocument.SchemaFileName"/>; a test holds the shipped file to this text.
/// </summary>
public static class TriggerFileSchema
{
    public static string Text { get; } = Build();

    private static string Build()
    {
        static JsonObject NullableText(string description, string? pattern = null)
        {
            var text = new JsonObject { ["type"] = "string", ["maxLength"] = TriggerRules.MaxLength };
            if (pattern is not null)
            {
                text["pattern"] = pattern;
            }

            return new JsonObject { ["description"] = description, ["anyOf"] = new JsonArray(text, new JsonObject { ["type"] = "null" }) };
        }

        var entry = new JsonObject
        {
            ["type"] = "object",
            ["description"] = "One trigger. For a trigger that exists, a key left out keeps the database's value and null clears an optional field; a new trigger needs name, workflowId, source and eventType.",
            ["required"] = new JsonArray("name", "workflowId"),
            ["additionalProperties"] = false,
            ["properties"] = new JsonObject
            {
                ["id"] = new JsonObject
                {
                    ["description"] = "The trigger's id. It must name the trigger of this workflow and name; leave it out to match by workflow and name alone.",
                    ["anyOf"] = new JsonArray(new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["maximum"] = int.MaxValue }, new JsonObject { ["type"] = "null" }),
                },
                ["name"] = new JsonObject
                {
                    ["type"] = "string",
                    ["description"] = $"{TriggerRules.MinNameLength} to {TriggerRules.MaxLength} characters after trimming spaces.",
                    ["minLength"] = TriggerRules.MinNameLength,
                    ["maxLength"] = TriggerRules.MaxLength,
                },
                ["description"] = NullableText("Free text; null for none."),
                ["workflowId"] = new JsonObject { ["type"] = "string", ["minLength"] = 1, ["maxLength"] = TriggerRules.MaxLength, ["description"] = "The workflow (table workflows)." },
                ["source"] = new JsonObject { ["type"] = "string", ["pattern"] = TriggerRules.SourcePattern, ["maxLength"] = TriggerRules.MaxLength, ["description"] = "The event source, as pdf-monitor-event-source." },
                ["eventType"] = new JsonObject { ["type"] = "string", ["pattern"] = TriggerRules.EventTypePattern, ["maxLength"] = TriggerRules.MaxLength, ["description"] = "The event type, as pdf_file_added." },
                ["targetNodeId"] = NullableText("The node events are handed to; a node of the workflow (table workflow_nodes). Null routes to the workflow's first input node.", TriggerRules.TargetNodePattern),
                ["isActive"] = new JsonObject { ["type"] = "boolean", ["description"] = "Whether the trigger fires." },
                ["config"] = new JsonObject
                {
                    ["description"] = "The trigger's configuration: a JSON object; null for {}.",
                    ["anyOf"] = new JsonArray(new JsonObject { ["type"] = "object" }, new JsonObject { ["type"] = "null" }),
                },
            },
        };
        var schema = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = "WorkflowTriggers triggers file",
            ["description"] = $"Triggers as code, formatVersion {TriggerDocument.FormatVersion}: the triggers of a workflow engine, one object each, for version control and review.",
            ["type"] = "object",
            ["required"] = new JsonArray("formatVersion", "triggers"),
            ["additionalProperties"] = false,
            ["properties"] = new JsonObject
            {
                ["$schema"] = new JsonObject { ["type"] = "string" },
                ["formatVersion"] = new JsonObject { ["const"] = TriggerDocument.FormatVersion },
                ["triggers"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["$ref"] = "#/$defs/trigger" } },
            },
            ["$defs"] = new JsonObject { ["trigger"] = entry },
        };
        return schema.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }
}

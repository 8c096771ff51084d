using System.Text;
using WorkflowTriggers.Engine.Triggers;
using WorkflowTriggers.Engine.TriggersAsCode;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>The triggers-as-code file format, without a database.</summary>
public class TriggerDocumentTests
{
    private const string Valid = """{ "name": "Invoices", "workflowId": "wf_bd11290f923b", "source": "pdf-monitor-event-source", "eventType": "pdf_file_added" }""";

    [Fact]
    public void An_object_with_a_triggers_array_and_a_bare_array_read_the_same()
    {
        var wrapped = TriggerDocument.Parse($$"""{ "formatVersion": 1, "triggers": [ {{Valid}} ] }""").Single();
        var bare = TriggerDocument.Parse($"[ {Valid} ]").Single();
        Assert.Equal((wrapped.Name, wrapped.WorkflowId, wrapped.Source, wrapped.EventType), (bare.Name, bare.WorkflowId, bare.Source, bare.EventType));
        Assert.Equal(wrapped.Stated.Order(), bare.Stated.Order());
        Assert.Empty(bare.Violations);

        // What an entry leaves out it does not state; a new trigger gets the defaults for it.
        Assert.Equal(new[] { TriggerField.Name, TriggerField.WorkflowId, TriggerField.Source, TriggerField.EventType }, bare.Stated.Order());
        Assert.Equal(new NewTrigger("Invoices", "wf_bd11290f923b", "pdf-monitor-event-source", "pdf_file_added", null, null, "{}", true), bare.Over(null));
    }

    [Fact]
    public void Config_is_read_in_canonical_form_with_keys_sorted_at_every_depth()
    {
        var entry = TriggerDocument.Parse($$"""[ { "name": "Sorted", "workflowId": "wf_1", "source": "a1", "eventType": "e", "config": { "b": 1, "a": { "y": [ { "d": 1, "c": 2 } ], "x": null } } } ]""").Single();
        Assert.Equal("""{"a":{"x":null,"y":[{"c":2,"d":1}]},"b":1}""", entry.ConfigJson);
    }

    [Fact]
    public void A_bad_entry_gets_violations_naming_the_field_without_its_position_and_the_others_are_still_read()
    {
        var entries = TriggerDocument.Parse($$"""[ {{Valid}}, 42, { "id": -3, "name": "x", "workflowId": "wf", "source": 7, "eventType": "e", "isActive": "yes" }, { "name": "No workflow" } ]""");
        Assert.Equal(4, entries.Count);
        Assert.Empty(entries[0].Violations);
        Assert.Equal("InvalidEntry", entries[1].Violations.Single().ErrorId);
        Assert.Equal(new[] { "Id", "IsActive", "Source" }, entries[2].Violations.Select(v => v.Field).Order());
        Assert.Equal(("WorkflowId", "MissingKey"), (entries[3].Violations.Single().Field, entries[3].Violations.Single().ErrorId));
        // The caller says which entry; the engine's words must not say it again.
        Assert.All(entries.SelectMany(e => e.Violations), v => Assert.DoesNotMatch(@"(?i)entry \d", v.Message));
    }

    [Theory]
    [InlineData("{ broken", "not valid JSON")]
    [InlineData("\"just text\"", "must be a JSON object")]
    [InlineData("{ \"formatVersion\": 1, \"notTriggers\": [] }", "\"notTriggers\" is not part of the format")]
    [InlineData("{ \"triggers\": [] }", "no \"formatVersion\"")]
    [InlineData("{ \"formatVersion\": 2, \"triggers\": [] }", "formatVersion 2 is not a version this module knows")]
    [InlineData("{ \"formatVersion\": 99, \"triggers\": [] }", "formatVersion 99 is not a version")]
    [InlineData("{ \"formatVersion\": \"1\", \"triggers\": [] }", "formatVersion \"1\" is not a version")]
    [InlineData("{ \"formatVersion\": 1, \"triggers\": [], \"triggers\": [] }", "\"triggers\" appears twice")]
    public void A_file_this_module_cannot_read_whole_is_an_argument_exception_that_says_why(string json, string why) =>
        Assert.Contains(why, Assert.Throws<ArgumentException>(() => TriggerDocument.Parse(json)).Message);

    [Fact]
    public void Unknown_keys_repeated_keys_and_keys_in_the_wrong_case_are_refused_by_entry_not_dropped()
    {
        var entries = TriggerDocument.Parse("""
            { "formatVersion": 1, "triggers": [
              { "name": "With extras", "workflowId": "wf_1", "priority": 5, "conditions": [], "enabled": true },
              { "name": "Twice", "name": "Twice again", "workflowId": "wf_1" },
              { "name": "Deep twice", "workflowId": "wf_1", "config": { "a": { "b": 1, "b": 2 } } },
              { "Name": "Capital", "workflowId": "wf_1" }
            ] }
            """);
        Assert.Equal(new object?[] { "priority", "conditions", "enabled" }, entries[0].Violations.Select(v => v.Value));
        Assert.All(entries[0].Violations, v => Assert.Equal("UnknownKey", v.ErrorId));
        Assert.Contains("would be lost", entries[0].Violations[0].Message);
        Assert.Equal(("DuplicateKey", "name"), (entries[1].Violations.Single().ErrorId, entries[1].Violations.Single().Value));
        Assert.Equal("Twice", entries[1].Name);
        Assert.Equal(("DuplicateKey", "config.a.b"), (entries[2].Violations.Single().ErrorId, entries[2].Violations.Single().Value));
        var capital = entries[3].Violations.First(v => v.ErrorId == "UnknownKey");
        Assert.Contains("Keys are case-sensitive: write \"name\"", capital.Message);
    }

    [Fact]
    public void The_shipped_json_schema_is_the_one_the_engine_makes_and_names_every_key()
    {
        var shipped = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, TriggerDocument.SchemaFileName));
        Assert.True(shipped == TriggerFileSchema.Text, $"module/{TriggerDocument.SchemaFileName} differs from TriggerFileSchema.Text: write the latter into the former.");
        using var schema = System.Text.Json.JsonDocument.Parse(shipped);
        var keys = schema.RootElement.GetProperty("$defs").GetProperty("trigger").GetProperty("properties").EnumerateObject().Select(p => p.Name);
        Assert.Equal(TriggerDocument.EntryKeys.Order(), keys.Order());
        Assert.Equal(TriggerDocument.DocumentKeys.Order(), schema.RootElement.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public void Writing_orders_by_id_leaves_out_timestamps_and_ends_with_a_newline()
    {
        var triggers = new[]
        {
            new TriggerRecord { Id = 7, Name = "Second", WorkflowId = "wf", Source = "a1", EventType = "e", ConfigJson = """{"z": 1, "a": 2}""", CreatedAt = DateTime.UtcNow },
            new TriggerRecord { Id = 3, Name = "First", WorkflowId = "wf", Source = "a1", EventType = "e", ConfigJson = "{}" },
        };
        using var buffer = new MemoryStream();
        TriggerDocument.Write(buffer, triggers);
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        Assert.True(text.IndexOf("First", StringComparison.Ordinal) < text.IndexOf("Second", StringComparison.Ordinal));
        Assert.True(text.IndexOf("\"a\": 2", StringComparison.Ordinal) < text.IndexOf("\"z\": 1", StringComparison.Ordinal));
        Assert.DoesNotContain("created", text, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("}\n", text);
        Assert.Equal(2, TriggerDocument.Parse(text).Count);
    }
}

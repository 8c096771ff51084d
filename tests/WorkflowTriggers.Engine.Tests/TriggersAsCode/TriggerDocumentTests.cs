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
        Assert.Equal((wrapped.Name, wrapped.WorkflowId, wrapped.IsActive, wrapped.ConfigJson), (bare.Name, bare.WorkflowId, bare.IsActive, bare.ConfigJson));
        Assert.Equal(("Invoices", true, "{}"), (bare.Name, bare.IsActive, bare.ConfigJson));
        Assert.Empty(bare.Violations);
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
        var entries = TriggerDocument.Parse($$"""[ {{Valid}}, 42, { "id": -3, "name": "x", "workflowId": "wf", "source": "Bad Source", "eventType": "e", "isActive": "yes" } ]""");
        Assert.Equal(3, entries.Count);
        Assert.Empty(entries[0].Violations);
        Assert.Equal("InvalidEntry", entries[1].Violations.Single().ErrorId);
        var fields = entries[2].Violations.Select(v => v.Field).ToArray();
        Assert.Contains("Id", fields);
        Assert.Contains("IsActive", fields);
        Assert.Contains("Name", fields);
        Assert.Contains("Source", fields);
        // The caller says which entry; the engine's words must not say it again.
        Assert.All(entries.SelectMany(e => e.Violations), v => Assert.DoesNotMatch(@"(?i)entry \d", v.Message));
    }

    [Theory]
    [InlineData("{ broken")]
    [InlineData("\"just text\"")]
    [InlineData("{ \"notTriggers\": [] }")]
    public void A_file_that_is_not_a_triggers_document_is_an_argument_exception(string json) =>
        Assert.Throws<ArgumentException>(() => TriggerDocument.Parse(json));

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

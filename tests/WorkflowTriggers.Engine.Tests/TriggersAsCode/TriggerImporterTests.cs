using System.Text;
using WorkflowTriggers.Engine.Schema;
using WorkflowTriggers.Engine.Triggers;
using WorkflowTriggers.Engine.TriggersAsCode;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>Export and import against real databases.</summary>
public class TriggerImporterTests : LiveAndOrphanedTriggersTest
{
    private async Task<string> ExportAsync(TestDatabase db)
    {
        using var buffer = new MemoryStream();
        TriggerDocument.Write(buffer, await ListAsync(new TriggerReader(db.Connection).QueryAsync(new TriggerFilter(), default)));
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [Fact]
    public async Task Export_is_stable_sorted_and_readable()
    {
        await Db.ExecuteAsync("""UPDATE workflow_triggers SET config = '{"zeta": 1, "alpha": {"b": [1, {"y": 2, "x": 1}], "a": "Grüße"}}' WHERE id = 1""");
        var text = await ExportAsync(Db);
        Assert.Equal(text, await ExportAsync(Db));
        Assert.Contains("\"a\": \"Grüße\"", text);
        Assert.True(text.IndexOf("\"alpha\"", StringComparison.Ordinal) < text.IndexOf("\"zeta\"", StringComparison.Ordinal));
        Assert.True(text.IndexOf("\"x\"", StringComparison.Ordinal) < text.IndexOf("\"y\"", StringComparison.Ordinal));
        Assert.DoesNotContain("created", text, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("}\n", text);
    }

    [Fact]
    public async Task Export_then_import_into_an_empty_database_then_export_gives_the_same_file()
    {
        await Db.ExecuteAsync("""
            UPDATE workflow_triggers SET config = '{"monitor_path": "/data/inbox", "recursive": true}', description = 'd', target_node_id = 'n1' WHERE id = 1;
            DELETE FROM workflow_triggers WHERE id = 2;
            """);
        var original = await ExportAsync(Db);

        var empty = await TestDatabase.CreateAsync();
        try
        {
            await ImportIntoEmptyAsync(empty, original);
        }
        finally
        {
            await empty.DisposeAsync();
        }
    }

    private async Task ImportIntoEmptyAsync(TestDatabase empty, string original)
    {
        await new SchemaInstaller(empty.Connection).ApplyAsync(null, false, false, default);
        var importer = new TriggerImporter(empty.Connection);
        var plan = await importer.PlanAsync(TriggerDocument.Parse(original), false, default);
        Assert.All(plan.Items, i => Assert.Equal(ImportAction.Created, i.Action));
        await importer.ApplyAsync(plan, default);
        Assert.Equal(original, await ExportAsync(empty));

        // Ids from the file are skipped by the sequence: a new trigger gets the next one.
        await empty.ExecuteAsync("INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('Next', 'wf_live', 'pdf-monitor-event-source', 'pdf_file_added')");
        Assert.Equal(4, await empty.ScalarAsync<int>("SELECT max(id) FROM workflow_triggers"));

        var again = await importer.PlanAsync(TriggerDocument.Parse(original), false, default);
        Assert.All(again.Items, i => Assert.Equal(ImportAction.Unchanged, i.Action));
    }

    [Fact]
    public async Task Import_matches_by_id_or_by_workflow_and_name_reports_changed_fields_and_refuses_bad_entries()
    {
        const string file = """
            { "triggers": [
              { "id": 1, "name": "Live one", "workflowId": "wf_live", "source": "pdf-monitor-event-source", "eventType": "pdf_file_added", "isActive": false, "config": {"a": 1} },
              { "name": "Orphan active", "workflowId": "wf_gone", "source": "pdf-monitor-event-source", "eventType": "pdf_file_added" },
              { "name": "Brand new", "workflowId": "wf_live", "source": "webhook-event-source", "eventType": "webhook_received", "targetNodeId": "n1" },
              { "name": "x", "workflowId": "wf_live", "source": "Bad Source", "eventType": "pdf_file_added" },
              { "name": "Elsewhere", "workflowId": "wf_missing", "source": "pdf-monitor-event-source", "eventType": "pdf_file_added" },
              42
            ] }
            """;
        await Db.ExecuteAsync("INSERT INTO workflow_nodes (workflow_id, node_id) VALUES ('wf_live', 'n1')");
        var importer = new TriggerImporter(Connection);
        var plan = await importer.PlanAsync(TriggerDocument.Parse(file), false, default);
        var byEntry = plan.Items.ToDictionary(i => i.Entry);
        Assert.Equal(ImportAction.Updated, byEntry[1].Action);
        Assert.Equal(new[] { TriggerField.IsActive, TriggerField.Config }, byEntry[1].ChangedFields);
        Assert.Equal((ImportAction.Unchanged, 2), (byEntry[2].Action, byEntry[2].Id!.Value));
        Assert.Equal(ImportAction.Created, byEntry[3].Action);
        Assert.Equal(new[] { 4, 4, 5, 6 }, plan.Refused.Select(r => r.Entry.Index + 1).Order());
        Assert.Contains(plan.Refused, r => r.Violation.ErrorId == "WorkflowNotFound");

        await importer.ApplyAsync(plan, default);
        Assert.False(await Db.ScalarAsync<bool>("SELECT is_active FROM workflow_triggers WHERE id = 1"));
        Assert.Equal("n1", await Db.ScalarAsync<string>("SELECT target_node_id FROM workflow_triggers WHERE name = 'Brand new'"));
        Assert.Equal(4L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers"));

        // The routing rule: a node the entry's workflow lacks is refused, unless forced.
        const string elsewhere = """[ { "name": "Nowhere", "workflowId": "wf_live", "source": "webhook-event-source", "eventType": "webhook_received", "targetNodeId": "zzz" } ]""";
        Assert.Equal("NodeNotInWorkflow", (await importer.PlanAsync(TriggerDocument.Parse(elsewhere), false, default)).Refused.Single().Violation.ErrorId);
        Assert.Equal(ImportAction.Created, (await importer.PlanAsync(TriggerDocument.Parse(elsewhere), true, default)).Items.Single().Action);
    }
}

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
        await importer.ApplyAsync(plan, false, null, default);
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
            { "formatVersion": 1, "triggers": [
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

        await importer.ApplyAsync(plan, false, null, default);
        Assert.False(await Db.ScalarAsync<bool>("SELECT is_active FROM workflow_triggers WHERE id = 1"));
        Assert.Equal("n1", await Db.ScalarAsync<string>("SELECT target_node_id FROM workflow_triggers WHERE name = 'Brand new'"));
        Assert.Equal(4L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers"));

        // The routing rule: a node the entry's workflow lacks is refused, unless forced.
        const string elsewhere = """[ { "name": "Nowhere", "workflowId": "wf_live", "source": "webhook-event-source", "eventType": "webhook_received", "targetNodeId": "zzz" } ]""";
        Assert.Equal("NodeNotInWorkflow", (await importer.PlanAsync(TriggerDocument.Parse(elsewhere), false, default)).Refused.Single().Violation.ErrorId);
        Assert.Equal(ImportAction.Created, (await importer.PlanAsync(TriggerDocument.Parse(elsewhere), true, default)).Items.Single().Action);
    }

    private static TriggerDocumentEntry Entry(string json) => TriggerDocument.ParseEntry(0, json);

    [Fact]
    public async Task An_entry_is_a_patch_what_it_leaves_out_keeps_the_database_value_and_null_clears()
    {
        await Db.ExecuteAsync("""
            INSERT INTO workflow_nodes (workflow_id, node_id) VALUES ('wf_live', 'n1');
            UPDATE workflow_triggers SET config = '{"a": 1}', is_active = false, target_node_id = 'n1', description = 'kept' WHERE id = 1;
            """);
        var importer = new TriggerImporter(Connection);
        var unchanged = await importer.PlanAsync(new[] { Entry("""{ "name": "Live one", "workflowId": "wf_live", "source": "pdf-monitor-event-source" }""") }, false, default);
        Assert.Equal(ImportAction.Unchanged, unchanged.Items.Single().Action);

        var cleared = await importer.PlanAsync(new[] { Entry("""{ "name": "Live one", "workflowId": "wf_live", "description": null, "config": null }""") }, false, default);
        var item = cleared.Items.Single();
        Assert.Equal(ImportAction.Updated, item.Action);
        Assert.Equal(new[] { new FieldChange(TriggerField.Description, "kept", null), new FieldChange(TriggerField.Config, """{"a":1}""", "{}") }, item.Changes);
        await importer.ApplyAsync(cleared, false, null, default);
        Assert.Equal(
            "|{}|f|n1",
            await Db.ScalarAsync<string>("SELECT concat_ws('|', coalesce(description, ''), config::text, is_active, target_node_id) FROM workflow_triggers WHERE id = 1"));

        var created = await importer.PlanAsync(new[] { Entry("""{ "name": "Half a trigger", "workflowId": "wf_live", "source": "pdf-monitor-event-source" }""") }, false, default);
        Assert.Equal(("EventType", "MissingKey"), (created.Refused.Single().Violation.Field, created.Refused.Single().Violation.ErrorId));
    }

    [Fact]
    public async Task An_id_from_another_database_never_changes_an_unrelated_trigger_unless_forced_and_then_names_both()
    {
        var importer = new TriggerImporter(Connection);
        var foreign = Entry("""{ "id": 3, "name": "bf-3", "workflowId": "wf_live", "source": "webhook-event-source", "eventType": "webhook_received" }""");
        var refused = (await importer.PlanAsync(new[] { foreign }, false, default)).Refused.Single().Violation;
        Assert.Equal("TriggerIdentityConflict", refused.ErrorId);
        Assert.Contains("Trigger 3 in this database is 'Orphan inactive' (workflow wf_gone), not 'bf-3' (workflow wf_live)", refused.Message);

        // An id that is not here, while the workflow and name are another trigger's: also a conflict.
        var namesake = Entry("""{ "id": 99, "name": "Live one", "workflowId": "wf_live" }""");
        Assert.Contains("trigger 1 has workflow wf_live and name 'Live one'", (await importer.PlanAsync(new[] { namesake }, false, default)).Refused.Single().Violation.Message);

        var forced = (await importer.PlanAsync(new[] { foreign }, true, default)).Items.Single();
        Assert.Equal((ImportAction.Updated, 3), (forced.Action, forced.Id!.Value));
        Assert.Equal(new TriggerKey(3, "Orphan inactive", "wf_gone"), forced.DatabaseTrigger);
        Assert.Contains(forced.Changes, c => c.Field == TriggerField.Name && c.OldValue == "Orphan inactive" && c.NewValue == "bf-3");
    }

    [Fact]
    public async Task Two_imports_of_the_same_file_at_once_give_the_result_of_one()
    {
        var entries = Enumerable.Range(1, 2000)
            .Select(i => TriggerDocument.ParseEntry(i - 1, $$"""{ "name": "Bulk {{i}}", "workflowId": "wf_live", "source": "pdf-monitor-event-source", "eventType": "pdf_file_added" }"""))
            .ToList();
        async Task<ImportPlan> ImportAsync()
        {
            var importer = new TriggerImporter(Connection);
            var plan = await importer.PlanAsync(entries, false, default);
            await importer.ApplyAsync(plan, false, null, default);
            return plan;
        }

        var plans = await Task.WhenAll(ImportAsync(), ImportAsync());
        Assert.Equal(2000, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers WHERE name LIKE 'Bulk %'"));
        // Both planned Created; the one that wrote second found the work done under the lock and wrote nothing.
        Assert.Equal(2000, plans.Sum(p => p.Items.Count(i => i.Applied)));
        Assert.Equal(2000, plans.Sum(p => p.Items.Count(i => i.Action == ImportAction.Unchanged)));
        Assert.All((await new TriggerImporter(Connection).PlanAsync(entries, false, default)).Items, i => Assert.Equal(ImportAction.Unchanged, i.Action));
    }

    [Fact]
    public async Task Text_the_server_cannot_store_is_refused_by_entry_and_a_row_it_refuses_is_left_out_while_the_rest_commits()
    {
        var importer = new TriggerImporter(Connection);
        var plan = await importer.PlanAsync(new[]
        {
            TriggerDocument.ParseEntry(0, """{ "name": "Nul\u0000name", "workflowId": "wf_live", "source": "pdf-monitor-event-source", "eventType": "pdf_file_added" }"""),
            TriggerDocument.ParseEntry(1, """{ "name": "Nul config", "workflowId": "wf_live", "source": "pdf-monitor-event-source", "eventType": "pdf_file_added", "config": { "a": "x\u0000y" } }"""),
        }, false, default);
        Assert.Equal(new[] { ("Name", "InvalidTriggerName"), ("Config", "InvalidConfig") }, plan.Refused.Select(r => (r.Violation.Field, r.Violation.ErrorId)));
        Assert.Contains("NUL", plan.Refused[0].Violation.Message);

        // Random text does not compress: too large for the covering index's row, which the server refuses.
        var random = new Random(7);
        var big = new string(Enumerable.Range(0, 6000).Select(_ => (char)random.Next('a', 'z' + 1)).ToArray());
        var entries = Enumerable.Range(0, 5).Select(i => TriggerDocument.ParseEntry(i, i == 2
            ? $$"""{ "name": "Too big", "workflowId": "wf_live", "source": "pdf-monitor-event-source", "eventType": "pdf_file_added", "config": { "blob": "{{big}}" } }"""
            : $$"""{ "name": "Fine {{i}}", "workflowId": "wf_live", "source": "pdf-monitor-event-source", "eventType": "pdf_file_added" }""")).ToList();
        var bulk = await importer.PlanAsync(entries, false, default);
        var outcome = await importer.ApplyAsync(bulk, false, null, default);
        Assert.Equal("Too big", outcome.Refused.Single().Item.Name);
        Assert.Equal("54000", outcome.Refused.Single().Error.SqlState);
        Assert.Equal(4, bulk.Items.Count(i => i.Applied));
        Assert.Equal(4L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers WHERE name LIKE 'Fine %'"));
    }

    [Fact]
    public async Task Prune_removes_or_disables_only_what_the_file_workflows_hold_and_the_file_does_not_mention()
    {
        await Db.ExecuteAsync("""
            INSERT INTO workflows VALUES ('wf_other', 'Other');
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES
                ('Unmentioned', 'wf_live', 'pdf-monitor-event-source', 'pdf_file_added'),
                ('Other workflow', 'wf_other', 'pdf-monitor-event-source', 'pdf_file_added');
            """);
        var importer = new TriggerImporter(Connection);
        var entries = new[] { Entry("""{ "name": "Live one", "workflowId": "wf_live" }""") };
        var plan = await importer.PlanAsync(entries, false, default);
        var unmentioned = await importer.UnmentionedAsync(new[] { "wf_live" }, plan.Items.Select(i => i.Id!.Value).ToList(), default);
        Assert.Equal("Unmentioned", unmentioned.Single().Name);

        var disabled = await importer.ApplyAsync(plan, false, new PruneRequest(new[] { "wf_live" }, true, unmentioned.Select(t => t.Id).ToHashSet()), default);
        Assert.Equal("Unmentioned", disabled.Pruned.Single().Name);
        Assert.False(await Db.ScalarAsync<bool>("SELECT is_active FROM workflow_triggers WHERE name = 'Unmentioned'"));

        var deleted = await importer.ApplyAsync(plan, false, new PruneRequest(new[] { "wf_live" }, false, unmentioned.Select(t => t.Id).ToHashSet()), default);
        Assert.Equal("Unmentioned", deleted.Pruned.Single().Name);
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers WHERE name = 'Unmentioned'"));
        Assert.Equal(1L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers WHERE name = 'Other workflow'"));
    }
}

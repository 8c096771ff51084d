using System.Text;
using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>Orphan clean-up and triggers as code against a real database.</summary>
public class RepairAndCodeTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        await _db.ExecuteAsync(TestDatabase.EngineTablesSql + "INSERT INTO workflows VALUES ('wf_live', 'Live');");
        // No foreign key: orphans are what a database without it (or with it added NOT VALID) can hold.
        await new SchemaInstaller(_db.Connection).ApplyAsync(null, false, false, default);
        await _db.ExecuteAsync("""
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type, is_active) VALUES
                ('Live one', 'wf_live', 'pdf-monitor-event-source', 'pdf_file_added', true),
                ('Orphan active', 'wf_gone', 'pdf-monitor-event-source', 'pdf_file_added', true),
                ('Orphan inactive', 'wf_gone', 'pdf-monitor-event-source', 'pdf_file_added', false);
            """);
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    private static async Task<List<T>> ListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    [Fact]
    public async Task Orphans_are_found_with_not_exists_even_when_workflows_holds_a_null_id()
    {
        // NOT IN (SELECT id FROM workflows) finds nothing once the subquery yields a NULL; NOT EXISTS is not fooled.
        await _db.ExecuteAsync("ALTER TABLE workflows DROP CONSTRAINT workflows_pkey; ALTER TABLE workflows ALTER COLUMN id DROP NOT NULL; INSERT INTO workflows VALUES (NULL, 'broken')");
        var orphans = await ListAsync(new TriggerStore(_db.Connection).QueryAsync(new TriggerFilter { Orphans = true }, default));
        Assert.Equal(new[] { "Orphan active", "Orphan inactive" }, orphans.Select(o => o.Name));
    }

    [Fact]
    public async Task Archive_deactivates_orphans_and_refuses_triggers_that_are_not_orphans()
    {
        var result = await new TriggerStore(_db.Connection).CleanUpOrphansAsync(new[] { 2, 1, 99 }, delete: false, default);
        Assert.Equal(new[] { 2 }, result.Written.Select(r => r.Id));
        Assert.False(result.Written[0].IsActive);
        Assert.Equal(new[] { TriggerRejection.NotAnOrphan, TriggerRejection.NotFound }, result.Rejected.Select(r => r.Reason));
        Assert.Equal(3L, await _db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers"));
        Assert.True(await _db.ScalarAsync<bool>("SELECT is_active FROM workflow_triggers WHERE id = 1"));
    }

    [Fact]
    public async Task Delete_removes_only_orphans()
    {
        var result = await new TriggerStore(_db.Connection).CleanUpOrphansAsync(new[] { 1, 2, 3 }, delete: true, default);
        Assert.Equal(new[] { 2, 3 }, result.Written.Select(r => r.Id));
        Assert.Equal("Live one", await _db.ScalarAsync<string>("SELECT string_agg(name, ',') FROM workflow_triggers"));
    }

    [Fact]
    public async Task Without_a_workflows_table_nothing_is_called_an_orphan()
    {
        await _db.ExecuteAsync("DROP TABLE workflows");
        var store = new TriggerStore(_db.Connection);
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => store.CleanUpOrphansAsync(new[] { 1 }, false, default));
        Assert.Equal("workflows", error.TableName);
        await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(new TriggerStore(_db.Connection).QueryAsync(new TriggerFilter { Orphans = true }, default)));
        Assert.Equal(2L, await _db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers WHERE is_active"));
    }

    private async Task<string> ExportAsync(TestDatabase db)
    {
        using var buffer = new MemoryStream();
        TriggerDocument.Write(buffer, await ListAsync(new TriggerStore(db.Connection).QueryAsync(new TriggerFilter(), default)));
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [Fact]
    public async Task Export_is_stable_sorted_and_readable()
    {
        await _db.ExecuteAsync("""UPDATE workflow_triggers SET config = '{"zeta": 1, "alpha": {"b": [1, {"y": 2, "x": 1}], "a": "Grüße"}}' WHERE id = 1""");
        var text = await ExportAsync(_db);
        Assert.Equal(text, await ExportAsync(_db));
        Assert.Contains("\"a\": \"Grüße\"", text);
        Assert.True(text.IndexOf("\"alpha\"", StringComparison.Ordinal) < text.IndexOf("\"zeta\"", StringComparison.Ordinal));
        Assert.True(text.IndexOf("\"x\"", StringComparison.Ordinal) < text.IndexOf("\"y\"", StringComparison.Ordinal));
        Assert.DoesNotContain("created", text, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("}\n", text);
    }

    [Fact]
    public async Task Export_then_import_into_an_empty_database_then_export_gives_the_same_file()
    {
        await _db.ExecuteAsync("""
            UPDATE workflow_triggers SET config = '{"monitor_path": "/data/inbox", "recursive": true}', description = 'd', target_node_id = 'n1' WHERE id = 1;
            DELETE FROM workflow_triggers WHERE id = 2;
            """);
        var original = await ExportAsync(_db);

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
        var plan = await importer.PlanAsync(TriggerDocument.Parse(original), default);
        Assert.All(plan.Items, i => Assert.Equal(ImportAction.Created, i.Action));
        await importer.ApplyAsync(plan, default);
        Assert.Equal(original, await ExportAsync(empty));

        // Ids from the file are skipped by the sequence: a new trigger gets the next one.
        await empty.ExecuteAsync("INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('Next', 'wf_live', 'pdf-monitor-event-source', 'pdf_file_added')");
        Assert.Equal(4, await empty.ScalarAsync<int>("SELECT max(id) FROM workflow_triggers"));

        var again = await importer.PlanAsync(TriggerDocument.Parse(original), default);
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
        var importer = new TriggerImporter(_db.Connection);
        var plan = await importer.PlanAsync(TriggerDocument.Parse(file), default);
        var byEntry = plan.Items.ToDictionary(i => i.Entry);
        Assert.Equal(ImportAction.Updated, byEntry[1].Action);
        Assert.Equal(new[] { "isActive", "config" }, byEntry[1].ChangedFields);
        Assert.Equal((ImportAction.Unchanged, 2), (byEntry[2].Action, byEntry[2].Id!.Value));
        Assert.Equal(ImportAction.Created, byEntry[3].Action);
        Assert.Equal(new[] { 4, 4, 5, 6 }, plan.Refused.Select(r => r.Entry.Index + 1).Order());
        Assert.Contains(plan.Refused, r => r.Violation.ErrorId == "WorkflowNotFound");

        await importer.ApplyAsync(plan, default);
        Assert.False(await _db.ScalarAsync<bool>("SELECT is_active FROM workflow_triggers WHERE id = 1"));
        Assert.Equal("n1", await _db.ScalarAsync<string>("SELECT target_node_id FROM workflow_triggers WHERE name = 'Brand new'"));
        Assert.Equal(4L, await _db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers"));
    }
}

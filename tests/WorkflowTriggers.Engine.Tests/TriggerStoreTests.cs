using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Engine.Tests;

public class TriggerStoreTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private TriggerStore _store = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        await new SchemaInstaller(_db.Connection).ApplyAsync(null, false, true, default);
        _store = new TriggerStore(_db.Connection);
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    private static NewTrigger Sample(string name, string workflow = "wf_bd11290f923b", string? node = null, string? config = null) =>
        new(name, workflow, "pdf-monitor-event-source", "pdf_file_added", TargetNodeId: node, ConfigJson: config);

    private async Task<List<TriggerRecord>> QueryAsync(TriggerFilter filter)
    {
        var rows = new List<TriggerRecord>();
        await foreach (var row in _store.QueryAsync(filter, default))
        {
            rows.Add(row);
        }

        return rows;
    }

    [Fact]
    public async Task Insert_returns_rows_in_input_order_with_ids_and_trimmed_names()
    {
        var result = await _store.InsertAsync(new[] { Sample("  First  "), Sample("Second"), Sample("Third") }, default);
        Assert.Equal(new[] { "First", "Second", "Third" }, result.Written.Select(r => r.Name));
        Assert.True(result.Written.Select(r => r.Id).SequenceEqual(result.Written.Select(r => r.Id).Order()));
        Assert.All(result.Written, r => Assert.Equal("{}", r.ConfigJson));
    }

    [Fact]
    public async Task Text_that_looks_like_sql_is_stored_verbatim()
    {
        const string hostile = "x'); DROP TABLE workflow_triggers;--";
        var written = (await _store.InsertAsync(new[] { new NewTrigger(hostile, hostile, "webhook-event-source", "webhook_received", Description: hostile) }, default)).Written.Single();
        var read = (await QueryAsync(new TriggerFilter { Ids = new[] { written.Id } })).Single();
        Assert.Equal(hostile, read.Name);
        Assert.Equal(hostile, read.WorkflowId);
        Assert.Equal(hostile, read.Description);
    }

    [Fact]
    public async Task Filters_combine_and_wildcards_match_case_insensitively()
    {
        await _store.InsertAsync(new[]
        {
            Sample("Invoice PDFs", node: "pdf_input_validator"),
            Sample("invoice archive"),
            Sample("Reports", workflow: "wf_000000000002"),
            new NewTrigger("Nightly", "wf_bd11290f923b", "scheduler-event-source", "cron_trigger", IsActive: false),
        }, default);

        Assert.Equal(2, (await QueryAsync(new TriggerFilter { NamePattern = "INVOICE*" })).Count);
        Assert.Single(await QueryAsync(new TriggerFilter { NamePattern = "invoice*", Untargeted = true }));
        Assert.Single(await QueryAsync(new TriggerFilter { TargetNodeId = "pdf_input_validator" }));
        Assert.Equal(2, (await QueryAsync(new TriggerFilter { Source = "pdf-monitor-event-source", EventType = "pdf_file_added", WorkflowId = "wf_bd11290f923b" })).Count);
        Assert.Equal("Nightly", (await QueryAsync(new TriggerFilter { IsActive = false })).Single().Name);
        Assert.Equal(3, (await QueryAsync(new TriggerFilter { IsActive = true })).Count);
    }

    [Fact]
    public async Task Missing_workflow_is_refused_per_item_when_workflows_exists()
    {
        await _db.ExecuteAsync(TestDatabase.EngineTablesSql + "INSERT INTO workflows VALUES ('wf_bd11290f923b', 'Invoices');");
        var store = new TriggerStore(_db.Connection);
        var result = await store.InsertAsync(new[] { Sample("Known"), Sample("Unknown", workflow: "wf_missing") }, default);
        Assert.Equal("Known", result.Written.Single().Name);
        Assert.Equal("Invoices", result.Written.Single().WorkflowName);
        var rejected = result.Rejected.Single();
        Assert.Equal((1, TriggerRejection.WorkflowNotFound), (rejected.Index, rejected.Reason));
        Assert.Contains("wf_missing", rejected.Message);
    }

    [Fact]
    public async Task Update_changes_only_the_given_fields()
    {
        var row = (await _store.InsertAsync(new[] { new NewTrigger("Keep me", "wf_1", "webhook-event-source", "webhook_received", "desc", null, "{\"a\": 1}") }, default)).Written.Single();
        var result = await _store.UpdateAsync(new[] { new TriggerChange(row.Id, EventType: "pdf_file_added"), new TriggerChange(999999, Name: "Nobody") }, default);
        var updated = result.Written.Single();
        Assert.Equal(("Keep me", "desc", "webhook-event-source", "pdf_file_added"), (updated.Name, updated.Description, updated.Source, updated.EventType));
        Assert.Contains("\"a\": 1", updated.ConfigJson);
        Assert.True(updated.UpdatedAt >= row.UpdatedAt);
        Assert.Equal(TriggerRejection.NotFound, result.Rejected.Single().Reason);

        var cleared = (await _store.UpdateAsync(new[] { new TriggerChange(row.Id, SetDescription: true, Description: null) }, default)).Written.Single();
        Assert.Null(cleared.Description);
    }

    [Fact]
    public async Task Target_node_must_be_in_the_workflow_unless_forced()
    {
        await _db.ExecuteAsync(TestDatabase.EngineTablesSql + """
            INSERT INTO workflows VALUES ('wf_bd11290f923b', 'Invoices'), ('wf_other', 'Other');
            INSERT INTO workflow_nodes (workflow_id, node_id) VALUES ('wf_bd11290f923b', 'pdf_input_validator'), ('wf_other', 'query_input_processor');
            """);
        var store = new TriggerStore(_db.Connection);
        var id = (await store.InsertAsync(new[] { Sample("Route me") }, default)).Written.Single().Id;

        var refused = await store.SetTargetNodeAsync(new[] { (id, (string?)"query_input_processor") }, force: false, default);
        Assert.Equal(TriggerRejection.NodeNotInWorkflow, refused.Rejected.Single().Reason);
        Assert.Contains("wf_bd11290f923b", refused.Rejected.Single().Message);

        Assert.Equal("pdf_input_validator", (await store.SetTargetNodeAsync(new[] { (id, (string?)"pdf_input_validator") }, false, default)).Written.Single().TargetNodeId);
        Assert.Equal("query_input_processor", (await store.SetTargetNodeAsync(new[] { (id, (string?)"query_input_processor") }, true, default)).Written.Single().TargetNodeId);
        Assert.Null((await store.SetTargetNodeAsync(new[] { (id, (string?)null) }, false, default)).Written.Single().TargetNodeId);
        Assert.Equal(TriggerRejection.NotFound, (await store.SetTargetNodeAsync(new[] { (424242, (string?)null) }, false, default)).Rejected.Single().Reason);
    }

    [Fact]
    public async Task Activate_and_delete_report_missing_ids()
    {
        var ids = (await _store.InsertAsync(new[] { Sample("One"), Sample("Two") }, default)).Written.Select(r => r.Id).ToArray();
        var disabled = await _store.SetActiveAsync(new[] { ids[0], 777777 }, false, default);
        Assert.False(disabled.Written.Single().IsActive);
        Assert.Equal(777777, disabled.Rejected.Single().Target);

        var deleted = await _store.DeleteAsync(ids, default);
        Assert.Equal(2, deleted.Written.Count);
        Assert.Empty(await QueryAsync(new TriggerFilter()));
    }

    [Fact]
    public async Task Query_streams_and_cancels()
    {
        await _store.InsertAsync(Enumerable.Range(1, 3000).Select(i => Sample($"Bulk {i}")).ToArray(), default);
        using var cancellation = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in _store.QueryAsync(new TriggerFilter(), cancellation.Token))
            {
                if (++seen == 10)
                {
                    cancellation.Cancel();
                }
            }
        });
        Assert.InRange(seen, 10, 2999);
    }

    [Fact]
    public async Task A_config_too_large_for_the_covering_index_is_a_row_refusal_that_names_the_index()
    {
        var random = new Random(7);
        var blob = new string(Enumerable.Range(0, 10000).Select(_ => (char)random.Next(33, 126)).ToArray());
        var config = System.Text.Json.JsonSerializer.Serialize(new { blob });
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => _store.InsertAsync(new[] { Sample("Small"), Sample("Huge", config: config) }, default));
        Assert.True(error.IsRowRefusal);
        Assert.Contains("idx_trigger_lookup_covering", error.Message);
        Assert.Empty(await QueryAsync(new TriggerFilter()));
    }

    [Fact]
    public async Task Missing_table_is_named_in_the_error()
    {
        await _db.ExecuteAsync("DROP TABLE workflow_triggers CASCADE");
        var error = await Assert.ThrowsAsync<TriggerEngineException>(async () => await QueryAsync(new TriggerFilter()));
        Assert.Equal(TriggerErrorKind.MissingTable, error.Kind);
        Assert.Contains("workflow_triggers", error.Message);
        Assert.Contains("Install-TriggerSchema", error.Message);
    }
}

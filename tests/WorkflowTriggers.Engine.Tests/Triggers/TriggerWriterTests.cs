using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Triggers;
using static WorkflowTriggers.Engine.Tests.TriggerTestData;

namespace WorkflowTriggers.Engine.Tests;

public class TriggerWriterTests : DatabaseTest
{
    private TriggerWriter _writer = null!;

    protected override async Task SetUpAsync()
    {
        await InstallSchemaAsync();
        _writer = new TriggerWriter(Connection);
    }

    [Fact]
    public async Task Insert_returns_each_row_in_input_order_with_the_id_it_was_stored_under_and_a_trimmed_name()
    {
        // Not in name order, so neither an ORDER BY name nor a lucky sort can pass for input order.
        var names = new[] { "  Zulu  ", "alpha", "Mike" };
        var result = await _writer.InsertAsync(names.Select(n => Sample(n)).ToArray(), false, false, default);
        Assert.Equal(new[] { "Zulu", "alpha", "Mike" }, result.Written.Select(r => r.Name));
        foreach (var row in result.Written)
        {
            Assert.Equal(row.Name, await Db.ScalarAsync<string>($"SELECT name FROM workflow_triggers WHERE id = {row.Id}"));
        }

        Assert.All(result.Written, r => Assert.Equal("{}", r.ConfigJson));
    }

    [Fact]
    public async Task Text_that_looks_like_sql_is_stored_verbatim()
    {
        const string hostile = "x'); DROP TABLE workflow_triggers;--";
        var written = (await _writer.InsertAsync(new[] { new NewTrigger(hostile, hostile, "webhook-event-source", "webhook_received", Description: hostile) }, false, false, default)).Written.Single();
        var read = (await ListAsync(new TriggerReader(Connection).QueryAsync(new TriggerFilter { Ids = new[] { written.Id } }, default))).Single();
        Assert.Equal(hostile, read.Name);
        Assert.Equal(hostile, read.WorkflowId);
        Assert.Equal(hostile, read.Description);
    }

    [Fact]
    public async Task Missing_workflow_is_refused_per_item_when_workflows_exists()
    {
        await AddEngineTablesAsync("INSERT INTO workflows VALUES ('wf_bd11290f923b', 'Invoices');");
        var result = await new TriggerWriter(Connection).InsertAsync(new[] { Sample("Known"), Sample("Unknown", workflow: "wf_missing") }, false, false, default);
        Assert.Equal("Known", result.Written.Single().Name);
        Assert.Equal("Invoices", result.Written.Single().WorkflowName);
        Assert.Equal(new RejectedTrigger(1, TriggerRejection.WorkflowNotFound, WorkflowId: "wf_missing"), result.Rejected.Single());
    }

    [Fact]
    public async Task Update_changes_only_the_given_fields_and_moves_updated_at()
    {
        var row = (await _writer.InsertAsync(new[] { new NewTrigger("Keep me", "wf_1", "webhook-event-source", "webhook_received", "desc", null, "{\"a\": 1}") }, false, false, default)).Written.Single();
        // An hour in the past, so a write that forgets updated_at cannot pass for one that sets it.
        await Db.ExecuteAsync($"UPDATE workflow_triggers SET updated_at = now() - interval '1 hour' WHERE id = {row.Id}");
        var before = await Db.ScalarAsync<DateTime>($"SELECT updated_at FROM workflow_triggers WHERE id = {row.Id}");

        var result = await _writer.UpdateAsync(new[] { new TriggerChange(row.Id, EventType: "pdf_file_added"), new TriggerChange(999999, Name: "Nobody") }, false, default);
        var updated = result.Written.Single();
        Assert.Equal(("Keep me", "desc", "webhook-event-source", "pdf_file_added"), (updated.Name, updated.Description, updated.Source, updated.EventType));
        Assert.Contains("\"a\": 1", updated.ConfigJson);
        Assert.True(updated.UpdatedAt > before.AddMinutes(59), $"updated_at {updated.UpdatedAt:o} should have moved on from {before:o}");
        Assert.Equal(new RejectedTrigger(1, TriggerRejection.NotFound, TriggerId: 999999), result.Rejected.Single());

        var cleared = (await _writer.UpdateAsync(new[] { new TriggerChange(row.Id, SetDescription: true, Description: null) }, false, default)).Written.Single();
        Assert.Null(cleared.Description);
    }

    [Fact]
    public async Task A_write_at_an_old_row_version_is_refused_and_changes_nothing()
    {
        var read = (await _writer.InsertAsync(new[] { Sample("Versioned") }, false, false, default)).Written.Single();
        // Someone else changes the row after it was read: its version moves on.
        await Db.ExecuteAsync($"UPDATE workflow_triggers SET config = '{{\"changed\": true}}' WHERE id = {read.Id}");

        var stale = new VersionedId(read.Id, read.RowVersion);
        var update = await _writer.UpdateAsync(new[] { new TriggerChange(read.Id, read.RowVersion, Description: "mine", SetDescription: true) }, false, default);
        var disable = await _writer.SetActiveAsync(new[] { stale }, false, default);
        var delete = await _writer.DeleteAsync(new[] { stale }, default);
        foreach (var result in new[] { update, disable, delete })
        {
            Assert.Empty(result.Written);
            var refused = result.Rejected.Single();
            Assert.Equal((TriggerRejection.ChangedSinceRead, read.Id), (refused.Reason, refused.TriggerId));
            Assert.NotNull(refused.ChangedAt);
        }

        Assert.Equal(("{\"changed\": true}", true), (await Db.ScalarAsync<string>($"SELECT config::text FROM workflow_triggers WHERE id = {read.Id}"), await Db.ScalarAsync<bool>($"SELECT is_active FROM workflow_triggers WHERE id = {read.Id}")));

        // At the current version (or with none: overwrite on purpose) the write goes through, and the new version comes back.
        var current = await Db.ScalarAsync<long>($"SELECT xmin::text::bigint FROM workflow_triggers WHERE id = {read.Id}");
        var written = (await _writer.UpdateAsync(new[] { new TriggerChange(read.Id, current, Description: "mine", SetDescription: true) }, false, default)).Written.Single();
        Assert.NotEqual(current, written.RowVersion);
        Assert.Single((await _writer.SetActiveAsync(new[] { new VersionedId(read.Id) }, false, default)).Written);
    }

    [Fact]
    public void A_change_names_the_fields_it_sets_with_the_trigger_objects_property_names()
    {
        var change = new TriggerChange(1, Name: "n", WorkflowId: "wf", ConfigJson: "{}", SetDescription: true);
        Assert.Equal(new[] { TriggerField.Name, TriggerField.Description, TriggerField.WorkflowId, TriggerField.Config }, change.Fields);
        Assert.Equal("WorkflowId", TriggerField.WorkflowId.ToString());
    }

    [Fact]
    public async Task Activate_and_delete_report_missing_ids()
    {
        var ids = (await _writer.InsertAsync(new[] { Sample("One"), Sample("Two") }, false, false, default)).Written.Select(r => r.Id).ToArray();
        var disabled = await _writer.SetActiveAsync(new[] { new VersionedId(ids[0]), new VersionedId(777777) }, false, default);
        Assert.False(disabled.Written.Single().IsActive);
        Assert.Equal(777777, disabled.Rejected.Single().TriggerId);

        var deleted = await _writer.DeleteAsync(ids.Select(id => new VersionedId(id)).ToArray(), default);
        Assert.Equal(2, deleted.Written.Count);
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers"));
    }

    [Fact]
    public async Task Disabling_a_disabled_trigger_reports_it_and_writes_nothing()
    {
        var id = (await _writer.InsertAsync(new[] { Sample("Already off") with { IsActive = false } }, false, false, default)).Written.Single().Id;
        var before = await Db.ScalarAsync<string>($"SELECT updated_at::text || '/' || xmin::text FROM workflow_triggers WHERE id = {id}");
        await Task.Delay(20);
        var again = await _writer.SetActiveAsync(new[] { new VersionedId(id) }, false, default);
        Assert.False(again.Written.Single().IsActive);
        Assert.Empty(again.Rejected);
        Assert.Equal(before, await Db.ScalarAsync<string>($"SELECT updated_at::text || '/' || xmin::text FROM workflow_triggers WHERE id = {id}"));

        // A real change is still written, once.
        Assert.True((await _writer.SetActiveAsync(new[] { new VersionedId(id) }, true, default)).Written.Single().IsActive);
        Assert.NotEqual(before, await Db.ScalarAsync<string>($"SELECT updated_at::text || '/' || xmin::text FROM workflow_triggers WHERE id = {id}"));
    }

    [Fact]
    public async Task A_config_too_large_for_the_covering_index_is_a_row_refusal_that_names_the_index()
    {
        var random = new Random(7);
        var blob = new string(Enumerable.Range(0, 10000).Select(_ => (char)random.Next(33, 126)).ToArray());
        var config = System.Text.Json.JsonSerializer.Serialize(new { blob });
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => _writer.InsertAsync(new[] { Sample("Small"), Sample("Huge", config: config) }, false, false, default));
        Assert.True(error.IsRowRefusal);
        Assert.Contains("idx_trigger_lookup_covering", error.Message);
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers"));
    }
}

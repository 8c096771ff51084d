using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.History;
using WorkflowTriggers.Engine.Triggers;
using WorkflowTriggers.Engine.TriggersAsCode;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>Change history against a real database: its objects, what it records, and states at a moment.</summary>
public class ChangeHistoryTests : DatabaseTest
{
    protected override async Task SetUpAsync()
    {
        await AddEngineTablesAsync("INSERT INTO workflows VALUES ('wf_one', 'One'); INSERT INTO workflow_nodes (workflow_id, node_id) VALUES ('wf_one', 'n1');");
        await InstallSchemaAsync();
    }

    private Task<List<HistoryEntry>> HistoryAsync(HistoryFilter? filter = null) => ListAsync(new HistoryReader(Connection).QueryAsync(filter ?? new HistoryFilter(), default));

    [Fact]
    public async Task Turning_it_on_twice_at_once_creates_it_once_and_off_removes_every_object()
    {
        var history = new ChangeHistory(Connection);
        var both = await Task.WhenAll(history.EnableAsync(7, default), history.EnableAsync(null, default));
        Assert.All(both, s => Assert.True(s.Enabled));
        Assert.Equal(7, (await history.GetStatusAsync(default)).RetentionDays);
        Assert.Equal(3L, await Db.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'workflow_triggers'::regclass AND NOT tgisinternal"));

        var off = await history.DisableAsync(default);
        Assert.False(off.Enabled);
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'workflow_triggers'::regclass AND NOT tgisinternal"));
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM pg_proc WHERE proname = 'workflow_triggers_history_record'"));
        Assert.False(await Db.ScalarAsync<bool>("SELECT to_regclass('workflow_triggers_history') IS NOT NULL"));
    }

    [Fact]
    public async Task One_statement_of_many_rows_is_one_entry_per_row_with_its_reason_and_a_rewrite_of_the_same_values_is_none()
    {
        await new ChangeHistory(Connection).EnableAsync(null, default);
        var written = await new TriggerWriter(Connection.WithChangeReason("load")).InsertAsync(
            Enumerable.Range(1, 3000).Select(i => new NewTrigger($"Trigger {i}", "wf_one", "pdf-monitor-event-source", "pdf_file_added")).ToList(), false, false, default);
        Assert.Equal(3000, written.Written.Count);
        await Db.ExecuteAsync("UPDATE workflow_triggers SET is_active = is_active");
        await Db.ExecuteAsync("UPDATE workflow_triggers SET is_active = false WHERE id <= 10");

        var entries = await HistoryAsync();
        Assert.Equal(3000, entries.Count(e => e.Operation == HistoryOperation.Insert && e.Reason == "load" && e.NewRow is null));
        var updates = entries.Where(e => e.Operation == HistoryOperation.Update).ToList();
        Assert.Equal(10, updates.Count);
        Assert.All(updates, u => Assert.Equal(new FieldChange(TriggerField.IsActive, "True", "False"), Assert.Single(u.Changes())));
        Assert.All(updates, u => Assert.Null(u.Reason));
    }

    [Fact]
    public async Task The_state_at_a_moment_is_now_with_every_later_change_undone()
    {
        await Db.ExecuteAsync("INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('Before history', 'wf_one', 'pdf-monitor-event-source', 'pdf_file_added')");
        var beforeHistory = await Db.ScalarAsync<DateTime>("SELECT clock_timestamp()");
        await new ChangeHistory(Connection).EnableAsync(null, default);
        var moment = await Db.ScalarAsync<DateTime>("SELECT clock_timestamp()");
        await Db.ExecuteAsync("""
            UPDATE workflow_triggers SET name = 'Renamed' WHERE id = 1;
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('Created after', 'wf_one', 'pdf-monitor-event-source', 'pdf_file_added');
            """);
        var points = await new TriggerRestore(Connection).StateAtAsync(new[] { 1, 2, 3 }.Select(id => new RestoreCut(id, moment)).ToList(), default);
        Assert.Equal(new[] { RestoreState.Existed, RestoreState.Absent, RestoreState.Unknown }, points.Select(p => p.State));
        var entry = TriggerRestore.EntryOf(0, points[0].RowJson!);
        Assert.Equal(("Before history", 1, true), (entry.Name, entry.Id!.Value, entry.IdNamesTrigger));
        Assert.Empty(entry.Violations);

        await Db.ExecuteAsync("DELETE FROM workflow_triggers WHERE id = 1");
        var afterDelete = await Db.ScalarAsync<DateTime>("SELECT clock_timestamp()");
        Assert.Equal(RestoreState.Absent, (await new TriggerRestore(Connection).StateAtAsync(new[] { new RestoreCut(1, afterDelete) }, default)).Single().State);
        var backThen = (await new TriggerRestore(Connection).StateAtAsync(new[] { new RestoreCut(1, moment) }, default)).Single();
        Assert.Equal("Before history", TriggerRestore.EntryOf(0, backThen.RowJson!).Name);
        Assert.Equal(RestoreState.Unknown, (await new TriggerRestore(Connection).StateAtAsync(new[] { new RestoreCut(1, beforeHistory) }, default)).Single().State);
    }

    [Fact]
    public async Task Reading_history_that_is_off_names_the_missing_table()
    {
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => HistoryAsync());
        Assert.Equal((TriggerErrorKind.MissingTable, "workflow_triggers_history"), (error.Kind, error.TableName));
    }
}

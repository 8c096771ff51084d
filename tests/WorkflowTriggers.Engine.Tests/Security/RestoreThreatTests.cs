using WorkflowTriggers.Engine.History;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>Restores that would put back a state a trigger never had: before a clean-up's cut, or over a reused id.</summary>
public class RestoreThreatTests : DatabaseTest
{
    protected override async Task SetUpAsync()
    {
        await AddEngineTablesAsync("INSERT INTO workflows VALUES ('wf_one', 'One'), ('wf_two', 'Two');");
        await InstallSchemaAsync();
        await new ChangeHistory(Connection).EnableAsync(null, default);
    }

    private Task<DateTime> NowAsync() => Db.ScalarAsync<DateTime>("SELECT clock_timestamp()");

    private async Task<RestorePoint> StateAtAsync(int id, DateTime at) =>
        (await new TriggerRestore(Connection).StateAtAsync(new[] { new RestoreCut(id, at) }, default)).Single();

    [Fact]
    public async Task A_moment_before_a_clean_ups_cut_is_not_told_and_one_after_it_is()
    {
        await Db.ExecuteAsync("INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('First name', 'wf_one', 'pdf-monitor-event-source', 'pdf_file_added')");
        var beforeRename = await NowAsync();
        await Db.ExecuteAsync("UPDATE workflow_triggers SET name = 'Second name'");
        var afterRename = await NowAsync();
        await Db.ExecuteAsync("UPDATE workflow_triggers SET name = 'Third name'");

        // The clean-up removes the rename's entry, which the walk back to beforeRename would need.
        var deleted = await ListAsync(new ChangeHistory(Connection).ClearAsync(afterRename, 1000, default));
        Assert.Equal(2, deleted.Sum());

        var cleared = await StateAtAsync(1, beforeRename);
        Assert.Equal(RestoreState.Cleared, cleared.State);
        Assert.NotNull(cleared.ClearedBefore);
        Assert.Equal(cleared.ClearedBefore, (await new ChangeHistory(Connection).GetStatusAsync(default)).ClearedBefore);

        var kept = await StateAtAsync(1, afterRename);
        Assert.Equal("Second name", TriggerRestore.EntryOf(0, kept.RowJson!).Name);
    }

    [Fact]
    public async Task A_deleted_triggers_id_given_to_another_trigger_is_named_and_a_trigger_put_back_with_its_id_is_not()
    {
        await Db.ExecuteAsync("INSERT INTO workflow_triggers (id, name, workflow_id, source, event_type) VALUES (40, 'Invoice PDFs', 'wf_one', 'pdf-monitor-event-source', 'pdf_file_added')");
        var before = await NowAsync();
        await Db.ExecuteAsync("DELETE FROM workflow_triggers WHERE id = 40");
        await Db.ExecuteAsync("INSERT INTO workflow_triggers (id, name, workflow_id, source, event_type) VALUES (40, 'Unrelated', 'wf_two', 'webhook-event-source', 'webhook_received')");

        var reused = await StateAtAsync(40, before);
        Assert.Equal(RestoreState.Existed, reused.State);
        Assert.Equal("Invoice PDFs", TriggerRestore.EntryOf(0, reused.RowJson!).Name);
        Assert.Equal("Unrelated", TriggerRestore.EntryOf(0, reused.ReusedByRowJson!).Name);

        // The same trigger re-created with its id (as a restore does) is still that trigger.
        await Db.ExecuteAsync("""
            DELETE FROM workflow_triggers WHERE id = 40;
            INSERT INTO workflow_triggers (id, name, workflow_id, source, event_type) VALUES (40, 'Invoice PDFs', 'wf_one', 'pdf-monitor-event-source', 'pdf_file_added');
            """);
        Assert.Null((await StateAtAsync(40, before)).ReusedByRowJson);
    }
}

using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>Lock waits that run out: bounded where a lock timeout is given, and worded with who holds the locks.</summary>
public class LockWaitTests : DatabaseTest
{
    private NpgsqlConnection? _holder;

    protected override async Task SetUpAsync()
    {
        await AddEngineTablesAsync("INSERT INTO workflows VALUES ('wf_one', 'One'); INSERT INTO workflow_nodes (workflow_id, node_id) VALUES ('wf_one', 'n1');");
        await InstallSchemaAsync();
        await Db.ExecuteAsync("""
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
            SELECT 'Trigger ' || g, 'wf_one', 'pdf-monitor-event-source', 'pdf_file_added' FROM generate_series(1, 20) g
            """);
    }

    protected override async Task TearDownAsync()
    {
        if (_holder is not null)
        {
            await _holder.DisposeAsync();
        }
    }

    /// <summary>Another session, named wt-lock-holder, that runs <paramref name="sql"/> in a transaction it keeps open.</summary>
    private async Task<int> HoldAsync(string sql)
    {
        _holder = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Db.ConnectionString) { ApplicationName = "wt-lock-holder", Pooling = false }.ConnectionString);
        await _holder.OpenAsync();
        await using (var begin = new NpgsqlCommand("BEGIN; " + sql, _holder))
        {
            await begin.ExecuteNonQueryAsync();
        }

        return _holder.ProcessID;
    }

    [Fact]
    public async Task A_plan_waits_no_longer_than_its_lock_timeout_and_names_the_session_holding_the_table()
    {
        var holder = await HoldAsync("LOCK TABLE workflow_triggers IN ACCESS EXCLUSIVE MODE");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => new TriggerBackfill(Connection).PlanAsync(new BackfillScope(), default, TimeSpan.FromSeconds(1)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        Assert.Equal(("LockTimeout", TriggerErrorKind.Timeout, PostgresErrorCodes.LockNotAvailable), (error.ErrorId, error.Kind, error.SqlState));
        var held = Assert.Single(error.LockHolders);
        Assert.Equal((holder, "wt-lock-holder", "workflow_triggers"), (held.Pid, held.Application, held.Tables));
        Assert.Contains($"server process {holder} (", error.Message, StringComparison.Ordinal);
        Assert.Contains("stopped at the lock timeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_write_that_outwaits_the_command_timeout_on_a_locked_row_names_the_holder_and_writes_nothing()
    {
        var holder = await HoldAsync("UPDATE workflow_triggers SET description = 'held' WHERE id = 3");
        var impatient = TriggerConnection.For(Db.ConnectionString + ";Command Timeout=2");
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => new TriggerWriter(impatient).SetActiveAsync(new[] { new VersionedId(2), new VersionedId(3) }, false, default));
        Assert.Equal(("LockTimeout", TriggerErrorKind.Timeout), (error.ErrorId, error.Kind));
        Assert.Null(error.SqlState);
        Assert.Equal(holder, Assert.Single(error.LockHolders).Pid);
        Assert.Contains("within 2 s (the command timeout)", error.Message, StringComparison.Ordinal);
        Assert.Contains("last statement: UPDATE workflow_triggers SET description = 'held'", error.Message, StringComparison.Ordinal);
        await _holder!.DisposeAsync();
        _holder = null;
        Assert.Equal(20L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers WHERE is_active"));
    }

    [Fact]
    public async Task A_user_who_may_not_see_the_holders_session_is_still_told_which_server_process_holds_the_lock()
    {
        await using var roles = new TestRoles(Db);
        var plain = await roles.LoginAsync("plain", "GRANT SELECT, UPDATE ON workflow_triggers TO {0}; GRANT SELECT ON workflows, workflow_nodes, workflow_connections TO {0};");
        var holder = await HoldAsync("UPDATE workflow_triggers SET description = 'held' WHERE id = 3");
        var impatient = TriggerConnection.For(roles.ConnectionStringFor(plain) + ";Command Timeout=2");
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => new TriggerWriter(impatient).SetActiveAsync(new[] { new VersionedId(3) }, false, default));
        Assert.Equal("LockTimeout", error.ErrorId);
        Assert.Null(Assert.Single(error.LockHolders).TransactionSeconds);
        Assert.True(error.Message.Contains($"server process {holder} (user postgres", StringComparison.Ordinal), error.Message);
        Assert.True(error.Message.Contains("in a transaction, locking workflow_triggers, workflow_triggers_pkey; the server shows this user no more of it", StringComparison.Ordinal), error.Message);
        Assert.DoesNotContain("any more", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("insufficient privilege", error.Message, StringComparison.Ordinal);
        await _holder!.DisposeAsync();
        _holder = null;
    }

    [Fact]
    public async Task A_statement_timeout_is_not_called_a_lock_wait()
    {
        await HoldAsync("SELECT 1");
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => Connection.InTransactionAsync(
            (c, t) => Dapper.SqlMapper.ExecuteAsync(c, "SET LOCAL statement_timeout = '200ms'; SELECT pg_sleep(5)", transaction: t), default));
        Assert.Equal(TriggerErrorKind.Timeout, error.Kind);
        Assert.Null(error.ErrorId);
        Assert.Empty(error.LockHolders);
    }
}

using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Metrics;
using WorkflowTriggers.Engine.Triggers;
using static WorkflowTriggers.Engine.Tests.TriggerTestData;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>What happens to the pool's connections when the server ends them (restart, failover, pg_terminate_backend).</summary>
public class ReconnectTests : DatabaseTest
{
    private string _application = string.Empty;

    protected override async Task SetUpAsync()
    {
        await InstallSchemaAsync();
        _application = "wt-reconnect-" + Guid.NewGuid().ToString("N")[..8];
    }

    // A pool of its own, whose sessions this test can end as an administrator would.
    private TriggerConnection Pooled => TriggerConnection.For($"{Db.ConnectionString};Application Name={_application}");

    private async Task WarmAndEndSessionsAsync()
    {
        await ListAsync(new TriggerReader(Pooled).QueryAsync(new TriggerFilter(), default));
        await new TriggerMetrics(Pooled).GetUsageAsync(default);
        await Db.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{_application}'");
        await Task.Delay(200);
    }

    [Fact]
    public async Task A_statement_another_session_cancels_is_an_engine_error_that_says_so_and_writes_nothing()
    {
        var id = (await new TriggerWriter(Connection).InsertAsync(new[] { Sample("Held") }, false, false, default)).Written.Single().Id;
        await using var holder = new Npgsql.NpgsqlConnection(Db.ConnectionString);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new Npgsql.NpgsqlCommand($"SELECT 1 FROM workflow_triggers WHERE id = {id} FOR UPDATE", holder, hold))
        {
            await lockRow.ExecuteScalarAsync();
        }

        // The write waits for the row; an administrator cancels it once it is seen waiting.
        var write = new TriggerWriter(Pooled).SetActiveAsync(new[] { new VersionedId(id) }, false, default);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && await Db.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{_application}' AND wait_event_type = 'Lock'") == 0)
        {
            await Task.Delay(20);
        }

        await Db.ExecuteAsync($"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = '{_application}' AND wait_event_type = 'Lock'");
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => write);
        Assert.Equal("StatementCancelled", error.ErrorId);
        Assert.Contains("The server cancelled the statement", error.Message);
        await hold.RollbackAsync();
        Assert.True(await Db.ScalarAsync<bool>($"SELECT is_active FROM workflow_triggers WHERE id = {id}"));
    }

    [Fact]
    public async Task A_user_without_a_privilege_gets_PermissionDenied_naming_what_it_lacks()
    {
        var id = (await new TriggerWriter(Connection).InsertAsync(new[] { Sample("Guarded") }, false, false, default)).Written.Single().Id;
        var role = "wt_reader_" + Guid.NewGuid().ToString("N")[..8];
        await Db.ExecuteAsync($"CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA public TO {role}; GRANT SELECT ON workflow_triggers TO {role};");
        try
        {
            var reader = TriggerConnection.For(new Npgsql.NpgsqlConnectionStringBuilder(Db.ConnectionString) { Username = role, ApplicationName = role }.ConnectionString);
            Assert.Single(await ListAsync(new TriggerReader(reader).QueryAsync(new TriggerFilter(), default)));
            var denied = await Assert.ThrowsAsync<TriggerEngineException>(() => new TriggerWriter(reader).SetActiveAsync(new[] { new VersionedId(id) }, false, default));
            Assert.Equal(TriggerErrorKind.PermissionDenied, denied.Kind);
            Assert.Equal("42501", denied.SqlState);
            Assert.Contains($"User {role} lacks INSERT, UPDATE, DELETE on workflow_triggers", denied.Message);
            Assert.True(await Db.ScalarAsync<bool>($"SELECT is_active FROM workflow_triggers WHERE id = {id}"));
        }
        finally
        {
            await Db.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{role}'");
            await Db.ExecuteAsync($"REVOKE ALL ON workflow_triggers FROM {role}; REVOKE ALL ON SCHEMA public FROM {role}; DROP ROLE {role};");
        }
    }

    [Fact]
    public async Task A_read_on_a_connection_the_server_ended_is_retried_once_on_a_fresh_one()
    {
        await new TriggerWriter(Connection).InsertAsync(new[] { Sample("Survivor") }, false, false, default);

        await WarmAndEndSessionsAsync();
        Assert.Equal("Survivor", (await ListAsync(new TriggerReader(Pooled).QueryAsync(new TriggerFilter(), default))).Single().Name);

        await WarmAndEndSessionsAsync();
        Assert.Single(await new TriggerMetrics(Pooled).GetUsageAsync(default));
    }

    [Fact]
    public async Task A_write_on_a_connection_the_server_ended_fails_once_saying_nothing_was_written_and_is_never_run_twice()
    {
        // A writer that has already looked at the database, so its next call goes straight to the write.
        var writer = new TriggerWriter(Pooled);
        await writer.InsertAsync(new[] { Sample("Before") }, false, false, default);
        await Db.ExecuteAsync("DELETE FROM workflow_triggers");
        await WarmAndEndSessionsAsync();
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => writer.InsertAsync(new[] { Sample("Once") }, false, false, default));
        Assert.Equal(TriggerErrorKind.ConnectionFailed, error.Kind);
        Assert.Contains("nothing of it was written", error.Message);
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers"));

        // The pool was cleared with the failure: the next write works.
        Assert.Single((await writer.InsertAsync(new[] { Sample("Once") }, false, false, default)).Written);
        Assert.Equal(1L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers"));
    }
}

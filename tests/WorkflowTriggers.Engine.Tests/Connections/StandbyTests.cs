using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Health;
using WorkflowTriggers.Engine.Schema;
using WorkflowTriggers.Engine.Triggers;
using WorkflowTriggers.TestServer;
using static WorkflowTriggers.Engine.Tests.TriggerTestData;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>A test that needs a streaming standby on loopback; skipped, with the reason, where pg_basebackup is missing.</summary>
public sealed class StandbyFactAttribute : FactAttribute
{
    public StandbyFactAttribute()
    {
        if (ThrowawayPostgres.StandbyUnavailableReason() is { } reason)
        {
            Skip = $"No standby can be made here: {reason}.";
        }
    }
}

/// <summary>A real primary and a streaming standby of it (pg_basebackup -R), then a failover (pg_ctl promote).</summary>
public class StandbyTests
{
    [StandbyFact]
    public async Task A_standby_reads_refuses_writes_before_sending_them_reports_its_role_and_takes_writes_once_promoted()
    {
        var primary = await ThrowawayPostgres.StartLocalClusterAsync(Environment.ProcessId);
        try
        {
            var database = await ThrowawayPostgres.CreateDatabaseAsync(primary.AdminConnectionString, "wt_standby");
            var onPrimary = TriggerConnection.For(database);
            await new SchemaInstaller(onPrimary).ApplyAsync(null, false, true, default);
            await new TriggerWriter(onPrimary).InsertAsync(new[] { Sample("Replicated") }, false, false, default);
            await ThrowawayPostgres.ExecuteAsync(database, "ANALYZE workflow_triggers");

            var standby = await ThrowawayPostgres.StartStandbyAsync(primary, Environment.ProcessId);
            try
            {
                var onStandby = TriggerConnection.For(new NpgsqlConnectionStringBuilder(database) { Port = new NpgsqlConnectionStringBuilder(standby.AdminConnectionString).Port }.ConnectionString);
                Assert.Equal("Replicated", (await ListAsync(new TriggerReader(onStandby).QueryAsync(new TriggerFilter(), default))).Single().Name);

                var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => onStandby.RequireWritableAsync(default));
                Assert.Equal("ReadOnlyServer", refused.ErrorId);
                Assert.Contains("standby", refused.Message);

                // ANALYZE times are not replicated: the standby judges the planner's statistics, and stays healthy.
                var report = await new TriggerHealth(onStandby).GetAsync(default);
                Assert.Equal("standby", report.Role);
                Assert.NotNull(report.ReplayLagSeconds);
                Assert.Equal(HealthStatus.Pass, report.Checks.Single(c => c.Name == TriggerHealth.StatisticsCheck).Status);
                Assert.True(report.IsHealthy, string.Join("; ", report.Checks.Where(c => c.Status == HealthStatus.Fail).Select(c => c.Detail)));

                await standby.PromoteAsync();
                await onStandby.RequireWritableAsync(default);
                Assert.Single((await new TriggerWriter(onStandby).InsertAsync(new[] { Sample("After failover") }, false, false, default)).Written);
                var promoted = await new TriggerHealth(onStandby).GetAsync(default);
                Assert.Equal("primary", promoted.Role);

                // A promoted standby never saw its old primary's ANALYZE times, but it has the planner statistics.
                var statistics = promoted.Checks.Single(c => c.Name == TriggerHealth.StatisticsCheck);
                Assert.Equal(HealthStatus.Pass, statistics.Status);
                Assert.Contains("no record of when they were taken", statistics.Detail);
            }
            finally
            {
                await standby.StopAsync();
            }
        }
        finally
        {
            await primary.StopAsync();
        }
    }

    [StandbyFact]
    public async Task One_connection_reads_from_the_standby_writes_on_the_primary_and_follows_a_promotion()
    {
        var primary = await ThrowawayPostgres.StartLocalClusterAsync(Environment.ProcessId);
        try
        {
            var database = await ThrowawayPostgres.CreateDatabaseAsync(primary.AdminConnectionString, "wt_route");
            await new SchemaInstaller(TriggerConnection.For(database)).ApplyAsync(null, false, true, default);
            var standby = await ThrowawayPostgres.StartStandbyAsync(primary, Environment.ProcessId);
            try
            {
                static int PortOf(ThrowawayPostgres server) => new NpgsqlConnectionStringBuilder(server.AdminConnectionString).Port;
                // Host Recheck Seconds=0: after the failover below, host roles are asked again at once, not after 10 s.
                var both = new NpgsqlConnectionStringBuilder(database)
                {
                    Host = $"127.0.0.1:{PortOf(primary)},127.0.0.1:{PortOf(standby)}",
                    HostRecheckSeconds = 0,
                }.ConnectionString;
                var routed = TriggerConnection.For(both, readFromStandby: true);
                Assert.True(routed.ReadsFromStandby);

                Assert.True((await routed.GetRoleAsync(default)).IsStandby);
                Assert.False((await routed.ForWrites.GetRoleAsync(default)).IsStandby);
                await routed.RequireWritableAsync(default); // asks the primary, not the standby reads go to
                Assert.Single((await new TriggerWriter(routed.ForWrites).InsertAsync(new[] { Sample("Routed") }, false, false, default)).Written);
                Assert.Equal("standby", (await new TriggerHealth(routed).GetAsync(default)).Role);

                await primary.StopAsync();
                await standby.PromoteAsync();
                await routed.RequireWritableAsync(default);
                Assert.Single((await new TriggerWriter(routed.ForWrites).InsertAsync(new[] { Sample("After failover") }, false, false, default)).Written);
                var names = (await ListAsync(new TriggerReader(routed).QueryAsync(new TriggerFilter(), default))).Select(t => t.Name).Order().ToList();
                Assert.Equal(new[] { "After failover", "Routed" }, names); // the row written before the failover was replicated
            }
            finally
            {
                await standby.StopAsync();
            }
        }
        finally
        {
            await primary.StopAsync();
        }
    }

    [Fact]
    public void Reading_from_a_standby_needs_more_than_one_host()
    {
        var error = Assert.Throws<TriggerEngineException>(() => TriggerConnection.For("Host=db1;Database=engine;Username=ops", readFromStandby: true));
        Assert.Equal(TriggerErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("multi-host", error.Message);
    }

    private static async Task<List<T>> ListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}

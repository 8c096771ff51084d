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
                Assert.Equal("primary", (await new TriggerHealth(onStandby).GetAsync(default)).Role);
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

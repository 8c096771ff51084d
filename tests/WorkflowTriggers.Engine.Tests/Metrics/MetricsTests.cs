using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Metrics;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>The document's monitoring queries and views against real data.</summary>
public class MetricsTests : DatabaseTest
{
    protected override async Task SetUpAsync()
    {
        await AddEngineTablesAsync("INSERT INTO workflows VALUES ('wf_a', 'A'), ('wf_b', 'B');");
        await InstallSchemaAsync();
    }

    private Task AddTriggersAsync(int count, string workflow = "wf_a") => Db.ExecuteAsync($"""
        INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
        SELECT 'Trigger ' || g, '{workflow}', 'pdf-monitor-event-source', 'pdf_file_added' FROM generate_series(1, {count}) g
        """);

    [Fact]
    public async Task Execution_stats_keep_triggers_that_never_ran_and_count_only_the_window()
    {
        await AddTriggersAsync(4);
        await Db.ExecuteAsync("""
            INSERT INTO execution_logs (trigger_id, created_at) SELECT 2, now() FROM generate_series(1, 3);
            INSERT INTO execution_logs (trigger_id, created_at) VALUES (3, now()), (4, now() - interval '60 days'), (4, now() - interval '61 days');
            """);
        var stats = await new TriggerMetrics(Connection).GetExecutionStatsAsync(30, 20, default);
        Assert.Equal(new[] { (2, 3L), (3, 1L), (1, 0L), (4, 0L) }, stats.Select(s => (s.Id, s.ExecutionCount)));
        Assert.Null(stats[2].LastExecutedAt);
        Assert.Equal(2, (await new TriggerMetrics(Connection).GetExecutionStatsAsync(30, 2, default)).Count);
        var wider = await new TriggerMetrics(Connection).GetExecutionStatsAsync(90, 20, default);
        Assert.Equal(2L, wider.Single(s => s.Id == 4).ExecutionCount);

        await Db.ExecuteAsync("DROP TABLE execution_logs");
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => new TriggerMetrics(Connection).GetExecutionStatsAsync(30, 20, default));
        Assert.Equal("execution_logs", error.TableName);
    }

    [Fact]
    public async Task Statistics_group_active_triggers_in_sql()
    {
        await AddTriggersAsync(3, "wf_a");
        await AddTriggersAsync(1, "wf_b");
        await Db.ExecuteAsync("UPDATE workflow_triggers SET is_active = false WHERE id = 1; UPDATE workflow_triggers SET target_node_id = 'n1' WHERE id = 2");
        var metrics = new TriggerMetrics(Connection);
        var byWorkflow = await metrics.GetStatisticAsync(TriggerColumn.WorkflowId, default);
        Assert.Equal(new[] { ("wf_a", 2L, 66.67m), ("wf_b", 1L, 33.33m) }, byWorkflow.Select(s => (s.Value!, s.Count, s.Percentage)));
        Assert.All(byWorkflow, s => Assert.Equal(TriggerColumn.WorkflowId, s.By));
        var byNode = await metrics.GetStatisticAsync(TriggerColumn.TargetNodeId, default);
        Assert.Equal(new[] { ((string?)null, 2L), ("n1", 1L) }, byNode.Select(s => (s.Value, s.Count)));

        var usage = await metrics.GetUsageAsync(default);
        Assert.Equal((4L, 3L), (usage.Single().TriggerCount, usage.Single().ActiveCount));
        var targeting = await metrics.GetNodeTargetingAsync(default);
        Assert.Equal(new[] { ("targeted", 1L), ("auto_detected", 2L) }, targeting.Select(t => (t.RoutingType, t.Count)));
    }
}

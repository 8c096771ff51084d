using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>Input nodes, routing dry-run and backfill against a real database with the engine's graph tables.</summary>
public class RoutingTests : DatabaseTest
{
    // wf_one: one node. wf_multi: m2 (id first) -> m3, m1 alone: input nodes m2, m1. wf_cycle: a <-> b, no input node.
    // wf_empty: a workflow without nodes.
    private const string Graph = """
        INSERT INTO workflows VALUES ('wf_one', 'One'), ('wf_multi', 'Multi'), ('wf_cycle', 'Cycle'), ('wf_empty', 'Empty');
        INSERT INTO workflow_nodes (workflow_id, node_id) VALUES
            ('wf_one', 'pdf_input_validator'),
            ('wf_multi', 'm2'), ('wf_multi', 'm3'), ('wf_multi', 'm1'),
            ('wf_cycle', 'a'), ('wf_cycle', 'b');
        INSERT INTO workflow_connections (workflow_id, from_node_id, to_node_id) VALUES
            ('wf_multi', 'm2', 'm3'), ('wf_cycle', 'a', 'b'), ('wf_cycle', 'b', 'a'),
            ('wf_one', 'elsewhere', 'm1');
        """;


    protected override async Task SetUpAsync()
    {
        await AddEngineTablesAsync(Graph);
        await InstallSchemaAsync();
    }

    /// <summary>Triggers round-robin over the four workflows, all without a target node.</summary>
    private Task AddTriggersAsync(int count) => Db.ExecuteAsync($"""
        INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
        SELECT 'Trigger ' || g, (ARRAY['wf_one', 'wf_multi', 'wf_cycle', 'wf_empty'])[1 + g % 4], 'pdf-monitor-event-source', 'pdf_file_added'
        FROM generate_series(1, {count}) g
        """);

    private Task<long> CountAsync(string where) => Db.ScalarAsync<long>($"SELECT count(*) FROM workflow_triggers WHERE {where}");

    [Fact]
    public async Task Input_nodes_follow_the_engine_rule_for_zero_one_several_and_cyclic_workflows()
    {
        var nodes = await new WorkflowGraph(Connection).GetInputNodesAsync(new[] { "wf_multi", "wf_cycle", "wf_one", "wf_empty" }, default);
        Assert.Equal(
            new[] { ("wf_multi", "m2", 1, true), ("wf_multi", "m1", 2, false), ("wf_one", "pdf_input_validator", 1, true) },
            nodes.Select(n => (n.WorkflowId, n.NodeId, n.Ordinal, n.IsFirst)));
    }

    [Fact]
    public async Task Input_nodes_name_the_missing_graph_table()
    {
        await Db.ExecuteAsync("DROP TABLE workflow_connections");
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => new WorkflowGraph(Connection).GetInputNodesAsync(new[] { "wf_one" }, default));
        Assert.Equal(TriggerErrorKind.MissingTable, error.Kind);
        Assert.Equal("workflow_connections", error.TableName);
    }

    [Fact]
    public async Task Routing_dry_run_resolves_targeted_auto_detected_missing_and_unroutable_triggers()
    {
        await AddTriggersAsync(4); // 1 wf_multi, 2 wf_cycle, 3 wf_empty, 4 wf_one
        await Db.ExecuteAsync("""
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type, target_node_id) VALUES
                ('Targeted', 'wf_multi', 'pdf-monitor-event-source', 'pdf_file_added', 'm3'),
                ('Stale target', 'wf_one', 'pdf-monitor-event-source', 'pdf_file_added', 'removed_node');
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type, is_active) VALUES
                ('Inactive', 'wf_one', 'pdf-monitor-event-source', 'pdf_file_added', false),
                ('Other event', 'wf_one', 'pdf-monitor-event-source', 'pdf_file_deleted', true);
            """);
        var routes = (await new WorkflowGraph(Connection).TestRouteAsync("pdf-monitor-event-source", "pdf_file_added", null, default)).ToDictionary(r => r.TriggerName);

        Assert.Equal(6, routes.Count);
        Assert.Equal(("auto_detected", "m2", true), (routes["Trigger 1"].RoutingType, routes["Trigger 1"].NodeId, routes["Trigger 1"].WillRoute));
        Assert.Equal(("auto_detected", null, false), (routes["Trigger 2"].RoutingType, routes["Trigger 2"].NodeId, routes["Trigger 2"].WillRoute));
        Assert.Contains("no input node", routes["Trigger 2"].Reason);
        Assert.Contains("no nodes", routes["Trigger 3"].Reason);
        Assert.Equal(("targeted", "m3", true, false), (routes["Targeted"].RoutingType, routes["Targeted"].NodeId, routes["Targeted"].WillRoute, routes["Targeted"].TargetNodeMissing));
        Assert.True(routes["Stale target"].TargetNodeMissing);
        Assert.False(routes["Stale target"].WillRoute);

        var onlyOne = await new WorkflowGraph(Connection).TestRouteAsync("pdf-monitor-event-source", "pdf_file_added", "wf_one", default);
        Assert.Equal(new[] { "Trigger 4", "Stale target" }, onlyOne.Select(r => r.TriggerName));
    }

    [Fact]
    public async Task Plan_counts_per_workflow_and_names_the_workflows_without_input_node_without_writing()
    {
        await AddTriggersAsync(40);
        var plan = (await new TriggerBackfill(Connection).PlanAsync(new BackfillScope(), default)).ToDictionary(p => p.WorkflowId);
        Assert.Equal((10, "pdf_input_validator"), (plan["wf_one"].TriggerCount, plan["wf_one"].NodeId));
        Assert.Equal((10, "m2"), (plan["wf_multi"].TriggerCount, plan["wf_multi"].NodeId));
        Assert.Null(plan["wf_cycle"].NodeId);
        Assert.Null(plan["wf_empty"].NodeId);
        Assert.Equal(40, await CountAsync("target_node_id IS NULL"));
    }

    [Fact]
    public async Task Backfill_sets_the_first_input_node_in_batches_and_leaves_unroutable_workflows_alone()
    {
        await AddTriggersAsync(1000);
        var batches = await ListAsync(new TriggerBackfill(Connection).RunAsync(new BackfillScope(), 100, null, false, default));

        Assert.Equal(500, batches.Sum(b => b.Updated));
        // Batches are ranges of pages sized to hold about 100 of the triggers to update each.
        Assert.InRange(batches.Count, 4, 7);
        Assert.All(batches, b => Assert.InRange(b.Updated, 0, 150));
        Assert.All(batches.Where(b => b.Updated > 0), b => Assert.True(b.FromId <= b.ToId));
        Assert.Equal(100, batches[^1].PercentComplete, 3);
        Assert.Equal(250, await CountAsync("workflow_id = 'wf_one' AND target_node_id = 'pdf_input_validator'"));
        Assert.Equal(250, await CountAsync("workflow_id = 'wf_multi' AND target_node_id = 'm2'"));
        Assert.Equal(500, await CountAsync("workflow_id IN ('wf_cycle', 'wf_empty') AND target_node_id IS NULL"));
    }

    [Fact]
    public async Task An_interrupted_backfill_keeps_whole_batches_and_a_rerun_finishes_without_writing_any_trigger_twice()
    {
        await AddTriggersAsync(1000);
        using var stop = new CancellationTokenSource();
        var first = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var batch in new TriggerBackfill(Connection).RunAsync(new BackfillScope(), 50, null, false, stop.Token))
            {
                first += batch.Updated;
                if (batch.Number == 3)
                {
                    stop.Cancel();
                }
            }
        });

        Assert.Equal(first, await CountAsync("target_node_id IS NOT NULL"));
        Assert.InRange(first, 100, 250); // three batches of about 50, stopped before the rest

        // Mark what the first run wrote, so a second write of the same row would show.
        await Db.ExecuteAsync("UPDATE workflow_triggers SET description = 'first run' WHERE target_node_id IS NOT NULL");
        var second = await ListAsync(new TriggerBackfill(Connection).RunAsync(new BackfillScope(), 50, null, true, default));
        Assert.Equal(500 - first, second.Sum(b => b.Updated));
        Assert.DoesNotContain(second.SelectMany(b => b.Rows), r => r.Description == "first run");
        Assert.Equal(500, await CountAsync("target_node_id IS NOT NULL"));
        Assert.Equal(0, await CountAsync("workflow_id IN ('wf_one', 'wf_multi') AND target_node_id IS NULL"));
        Assert.Equal(0, await CountAsync("(workflow_id = 'wf_one' AND target_node_id <> 'pdf_input_validator') OR (workflow_id = 'wf_multi' AND target_node_id <> 'm2')"));
    }

    [Fact]
    public async Task A_target_node_set_while_the_backfill_runs_is_not_overwritten()
    {
        await AddTriggersAsync(400);
        var batches = 0;
        await foreach (var _ in new TriggerBackfill(Connection).RunAsync(new BackfillScope(), 100, null, false, default))
        {
            if (++batches == 1)
            {
                await Db.ExecuteAsync("UPDATE workflow_triggers SET target_node_id = 'm1' WHERE id = 390");
            }
        }

        Assert.Equal("m1", await Db.ScalarAsync<string>("SELECT target_node_id FROM workflow_triggers WHERE id = 390"));
    }

    [Fact]
    public async Task A_run_updates_the_triggers_that_existed_when_it_began_wherever_they_are_then_and_no_later_ones()
    {
        await AddTriggersAsync(1000);
        var batches = new List<BackfillBatch>();
        int cleared = 0;
        await foreach (var batch in new TriggerBackfill(Connection).RunAsync(new BackfillScope(), 50, null, false, default))
        {
            batches.Add(batch);
            if (batch.Number == 1)
            {
                // Behind the walk: a trigger it already routed loses its node again. Ahead of it: a trigger created now.
                cleared = batch.FromId;
                await Db.ExecuteAsync($$"""
                    UPDATE workflow_triggers SET target_node_id = NULL WHERE id = {{cleared}};
                    INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('Created during the run', 'wf_one', 'webhook-event-source', 'webhook_received');
                    """);
            }
        }

        Assert.Equal(501, batches.Sum(b => b.Updated));
        Assert.Equal(cleared, batches[^1].FromId); // the last batch took the one the walk had passed
        Assert.Equal(0, await CountAsync("workflow_id IN ('wf_one', 'wf_multi') AND target_node_id IS NULL AND name <> 'Created during the run'"));
        Assert.Equal(1, await CountAsync("name = 'Created during the run' AND target_node_id IS NULL"));
    }

    [Fact]
    public async Task A_second_backfill_fails_while_one_runs_or_waits_for_it()
    {
        await AddTriggersAsync(400);
        await using var running = new TriggerBackfill(Connection).RunAsync(new BackfillScope(), 100, null, false, default).GetAsyncEnumerator();
        Assert.True(await running.MoveNextAsync()); // holds the lock between batches

        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(new TriggerBackfill(Connection).RunAsync(new BackfillScope(), 100, null, false, default)));
        Assert.Equal(TriggerErrorKind.Conflict, error.Kind);
        Assert.Equal("BackfillAlreadyRunning", error.ErrorId);
        Assert.Contains($"the client says host {Environment.MachineName}, process {Environment.ProcessId}", error.Message);
        Assert.Contains("database user postgres (server process ", error.Message);

        var waiting = ListAsync(new TriggerBackfill(Connection).RunAsync(new BackfillScope(), 100, wait: TimeSpan.FromMinutes(1), false, default));
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);
        while (await running.MoveNextAsync())
        {
        }

        await running.DisposeAsync();
        var waited = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, waited.Sum(b => b.Updated)); // the first run did it all
        Assert.Equal(200, await CountAsync("target_node_id IS NOT NULL"));
    }

    [Fact]
    public async Task A_lease_left_by_a_run_that_crashed_blocks_until_it_expires_and_never_longer()
    {
        await AddTriggersAsync(40);
        // What a run killed mid-way leaves: its lease row, renewed a moment ago.
        await ListAsync(new TriggerBackfill(Connection).RunAsync(new BackfillScope(Ids: new[] { 1 }), 10, null, false, default));
        await Db.ExecuteAsync($"""
            INSERT INTO {Lease.Table} (name, token, holder_host, holder_process, expires_at)
            VALUES ('{TriggerBackfill.LeaseName}', '00000000-0000-0000-0000-000000000001', 'crashed-host', 4242, CURRENT_TIMESTAMP + interval '1 minute')
            """);
        var blocked = await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(new TriggerBackfill(Connection).RunAsync(new BackfillScope(), 10, null, false, default)));
        Assert.Equal("BackfillAlreadyRunning", blocked.ErrorId);
        Assert.Contains("the client says host crashed-host, process 4242", blocked.Message);
        Assert.Contains("lease expires at", blocked.Message);

        // Its lease runs out: the next run takes it over, and finishes the work.
        await Db.ExecuteAsync($"UPDATE {Lease.Table} SET expires_at = CURRENT_TIMESTAMP - interval '1 second'");
        var batches = await ListAsync(new TriggerBackfill(Connection).RunAsync(new BackfillScope(), 10, null, false, default));
        Assert.Equal(19, batches.Sum(b => b.Updated)); // wf_one and wf_multi: 20 of the 40, one done before
        Assert.Equal(0, await Db.ScalarAsync<long>($"SELECT count(*) FROM {Lease.Table}"));
    }

    [Fact]
    public async Task A_run_whose_lease_another_run_took_over_stops_before_its_next_batch()
    {
        await AddTriggersAsync(400);
        var written = 0;
        var error = await Assert.ThrowsAsync<TriggerEngineException>(async () =>
        {
            await foreach (var batch in new TriggerBackfill(Connection).RunAsync(new BackfillScope(), 20, null, false, default))
            {
                written += batch.Updated;
                if (batch.Number == 1)
                {
                    // Its lease expired while the pipeline held it, and another run took it.
                    await Db.ExecuteAsync($"UPDATE {Lease.Table} SET token = '00000000-0000-0000-0000-000000000002'");
                }
            }
        });
        Assert.Equal("BackfillLeaseLost", error.ErrorId);
        Assert.Equal(written, await CountAsync("target_node_id IS NOT NULL"));
    }

    [Fact]
    public async Task Backfill_limited_to_ids_or_workflows_touches_nothing_else()
    {
        await AddTriggersAsync(100);
        await ListAsync(new TriggerBackfill(Connection).RunAsync(new BackfillScope(Ids: new[] { 1, 4, 5, 8 }), 2, null, false, default));
        Assert.Equal(new long[] { 1, 4, 5, 8 }, await IdsAsync("target_node_id IS NOT NULL"));

        await ListAsync(new TriggerBackfill(Connection).RunAsync(new BackfillScope(WorkflowIds: new[] { "wf_one" }), 10, null, false, default));
        Assert.Equal(25, await CountAsync("workflow_id = 'wf_one' AND target_node_id IS NOT NULL"));
        Assert.Equal(2, await CountAsync("workflow_id = 'wf_multi' AND target_node_id IS NOT NULL"));
    }

    private async Task<long[]> IdsAsync(string where)
    {
        var text = await Db.ScalarAsync<string>($"SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM workflow_triggers WHERE {where}");
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray();
    }
}

using Npgsql;
using WorkflowTriggers.Engine.Health;
using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>Index health, metrics and health checks against the schema the document installs.</summary>
public class HealthTests : DatabaseTest
{
    protected override async Task SetUpAsync()
    {
        await AddEngineTablesAsync("INSERT INTO workflows VALUES ('wf_a', 'A'), ('wf_b', 'B');");
        await InstallSchemaAsync();
        // Statistics must change only when a test says so.
        await Db.ExecuteAsync("ALTER TABLE workflow_triggers SET (autovacuum_enabled = false)");
    }

    private Task AddTriggersAsync(int count, string workflow = "wf_a") => Db.ExecuteAsync($"""
        INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
        SELECT 'Trigger ' || g, '{workflow}', 'pdf-monitor-event-source', 'pdf_file_added' FROM generate_series(1, {count}) g
        """);

    private async Task<Dictionary<string, TriggerIndexHealth>> IndexesAsync() =>
        (await new IndexHealth(Connection).GetAsync(IndexHealth.DefaultLowUsageThreshold, default)).ToDictionary(i => i.Name);

    private async Task<Dictionary<string, TriggerHealthCheck>> ChecksAsync() =>
        (await new TriggerHealth(Connection).GetAsync(default)).Checks.ToDictionary(c => c.Name);

    [Fact]
    public async Task The_documents_schema_shows_its_duplicate_pair_and_overlaps_and_only_one_copy_is_to_be_dropped()
    {
        var indexes = await IndexesAsync();
        Assert.Equal(12, indexes.Count);
        Assert.Equal("idx_workflow_triggers_event_lookup", indexes["idx_active_triggers_event"].DuplicateOf);
        Assert.Equal("idx_active_triggers_event", indexes["idx_workflow_triggers_event_lookup"].DuplicateOf);
        Assert.StartsWith("-- Keep", indexes["idx_active_triggers_event"].Recommendation);
        Assert.Contains("DROP INDEX CONCURRENTLY public.idx_workflow_triggers_event_lookup;", indexes["idx_workflow_triggers_event_lookup"].Recommendation);
        Assert.Equal(new[] { "idx_trigger_lookup_covering", "idx_workflow_triggers_composite" }, indexes["idx_active_triggers_workflow"].OverlappedBy.Order());
        // Same leading column but no predicate: not overlapped by the partial ones.
        Assert.Empty(indexes["idx_workflow_triggers_workflow_id"].OverlappedBy);
        Assert.Contains("INCLUDE (target_node_id) WHERE (is_active = true);", indexes["idx_trigger_lookup_covering"].Recommendation);
        Assert.Equal("workflow_id, source, event_type INCLUDE (target_node_id, config)", indexes["idx_trigger_lookup_covering"].Columns);

        var pkey = indexes["workflow_triggers_pkey"];
        Assert.True(pkey.IsPrimary && pkey.IsUnique && pkey.IsValid && !pkey.IsPartial);
        Assert.NotEqual(IndexUsageStatus.UNUSED, pkey.UsageStatus);
        Assert.True(indexes["idx_workflow_triggers_active"].IsPartial);
        Assert.Equal("gin", indexes["idx_trigger_config_gin"].Method);
    }

    [Fact]
    public async Task Usage_status_follows_scans_and_the_threshold()
    {
        await AddTriggersAsync(200);
        // Three index scans in one session, then its counters flushed to the shared statistics.
        await Db.ExecuteAsync("""
            ANALYZE workflow_triggers;
            SET enable_seqscan = off;
            SELECT count(*) FROM workflow_triggers WHERE target_node_id = 'x';
            SELECT count(*) FROM workflow_triggers WHERE target_node_id = 'y';
            SELECT count(*) FROM workflow_triggers WHERE target_node_id = 'z';
            """ + TestDatabase.FlushStatisticsSql);
        await Db.WaitForStatisticsAsync(s => s.IndexScans >= 3, "the three index scans");

        var scanned = (await new IndexHealth(Connection).GetAsync(2, default)).Single(i => i.Name == "idx_workflow_triggers_target_node");
        Assert.True(scanned.Scans >= 3);
        Assert.Equal(IndexUsageStatus.ACTIVE, scanned.UsageStatus);
        Assert.Equal(IndexUsageStatus.LOW_USAGE, (await IndexesAsync())["idx_workflow_triggers_target_node"].UsageStatus);
        Assert.Equal(IndexUsageStatus.UNUSED, (await IndexesAsync())["idx_workflow_triggers_source"].UsageStatus);
    }

    [Fact]
    public async Task An_invalid_index_is_reported_with_the_sql_to_fix_it_and_fails_the_health_check()
    {
        Assert.Equal(HealthStatus.Pass, (await ChecksAsync())[TriggerHealth.InvalidIndexCheck].Status);
        await AddTriggersAsync(3);
        // A unique concurrent build over duplicate values fails and leaves the index behind, invalid.
        await Assert.ThrowsAsync<PostgresException>(() => Db.ExecuteAsync("CREATE UNIQUE INDEX CONCURRENTLY idx_broken ON workflow_triggers (workflow_id)"));
        var broken = (await IndexesAsync())["idx_broken"];
        Assert.False(broken.IsValid);
        Assert.Contains("REINDEX INDEX CONCURRENTLY public.idx_broken;", broken.Recommendation);
        var report = await new TriggerHealth(Connection).GetAsync(default);
        Assert.Equal(HealthStatus.Fail, report.Checks.Single(c => c.Name == TriggerHealth.InvalidIndexCheck).Status);
        Assert.False(report.IsHealthy);
    }

    [Fact]
    public async Task Health_checks_pass_warn_and_fail_with_the_data()
    {
        await AddTriggersAsync(10);
        await Db.ExecuteAsync("ANALYZE workflow_triggers");
        await Db.WaitForStatisticsAsync(s => s.LastAnalyze is not null, "the ANALYZE");
        var checks = await ChecksAsync();
        Assert.Equal(HealthStatus.Pass, checks[TriggerHealth.SchemaCheck].Status);
        Assert.Equal(HealthStatus.Pass, checks[TriggerHealth.ForeignKeyCheck].Status);
        Assert.Equal(HealthStatus.Pass, checks[TriggerHealth.OrphanCheck].Status);
        Assert.Equal(HealthStatus.Warn, checks[TriggerHealth.UntargetedCheck].Status);
        Assert.Equal(HealthStatus.Warn, checks[TriggerHealth.DuplicateIndexCheck].Status);
        Assert.Equal(HealthStatus.Pass, checks[TriggerHealth.StatisticsCheck].Status);

        await Db.ExecuteAsync("""
            UPDATE workflow_triggers SET target_node_id = 'n1';
            DROP INDEX idx_workflow_triggers_event_lookup;
            ALTER TABLE workflow_triggers DROP CONSTRAINT fk_workflow_triggers_workflow_id;
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type, target_node_id) VALUES ('Orphan', 'wf_gone', 'pdf-monitor-event-source', 'pdf_file_added', 'n1');
            """);
        checks = await ChecksAsync();
        Assert.Equal(HealthStatus.Pass, checks[TriggerHealth.UntargetedCheck].Status);
        Assert.Equal(HealthStatus.Pass, checks[TriggerHealth.DuplicateIndexCheck].Status);
        Assert.Equal(HealthStatus.Fail, checks[TriggerHealth.ForeignKeyCheck].Status);
        Assert.Equal(HealthStatus.Fail, checks[TriggerHealth.OrphanCheck].Status);

        await Db.ExecuteAsync($"UPDATE workflow_triggers SET is_active = false WHERE workflow_id = 'wf_gone'; {SchemaSteps.ForeignKeySql(validateExisting: false)}");
        checks = await ChecksAsync();
        Assert.Equal(HealthStatus.Warn, checks[TriggerHealth.OrphanCheck].Status);
        Assert.Equal(HealthStatus.Warn, checks[TriggerHealth.ForeignKeyCheck].Status);

        await Db.ExecuteAsync($"DROP TABLE {SchemaSteps.HistoryTable}");
        Assert.Equal(HealthStatus.Fail, (await ChecksAsync())[TriggerHealth.SchemaCheck].Status);
    }

    [Fact]
    public async Task A_large_table_is_estimated_but_orphans_broken_routes_and_small_counts_stay_exact()
    {
        // 12,000 routed active triggers of wf_a, then the findings, a few each: 3 untargeted (6 with the active orphans), 2 active and 1 inactive
        // routed to a node wf_a does not have, 4 orphans of which 1 inactive. The limit is lowered so that this table
        // is read as a large one is.
        await Db.ExecuteAsync($"""
            INSERT INTO workflow_nodes (workflow_id, node_id) VALUES ('wf_a', 'n1'), ('wf_b', 'n9');
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type, target_node_id)
            SELECT 'Trigger ' || g, 'wf_a', 'pdf-monitor-event-source', 'pdf_file_added', 'n1' FROM generate_series(1, 12000) g;
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type) SELECT 'Untargeted ' || g, 'wf_b', 'webhook-event-source', 'webhook_received' FROM generate_series(1, 3) g;
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type, target_node_id, is_active) VALUES
                ('Broken 1', 'wf_b', 'webhook-event-source', 'webhook_received', 'n1', true),
                ('Broken 2', 'wf_b', 'webhook-event-source', 'webhook_received', 'n1', true),
                ('Broken inactive', 'wf_a', 'webhook-event-source', 'webhook_received', 'n9', false);
            ALTER TABLE workflow_triggers DROP CONSTRAINT fk_workflow_triggers_workflow_id;
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type, is_active)
            SELECT 'Orphan ' || g, 'wf_gone_' || (g % 2), 'webhook-event-source', 'webhook_received', g > 1 FROM generate_series(1, 4) g;
            ANALYZE workflow_triggers;
            """);
        var brokenIds = await Db.ScalarAsync<int[]>("SELECT array_agg(id ORDER BY id) FROM workflow_triggers WHERE name LIKE 'Broken _'");

        var large = await new TriggerHealth(Connection) { ExactCountLimit = 1000 }.GetAsync(default);
        var checks = large.Checks.ToDictionary(c => c.Name);
        Assert.Equal(new[] { nameof(large.TotalRecords), nameof(large.ActiveRecords), nameof(large.TargetedRecords) }, large.EstimatedCounts);
        Assert.InRange(large.TotalRecords, 11_000, 13_000);
        Assert.Null(large.LastUpdate);
        Assert.Equal(await Db.ScalarAsync<DateTime>("SELECT created_at FROM workflow_triggers ORDER BY id LIMIT 1"), large.OldestRecord);
        Assert.Equal("6 of about", checks[TriggerHealth.UntargetedCheck].Detail[..10]);
        Assert.Equal(HealthStatus.Fail, checks[TriggerHealth.OrphanCheck].Status);
        Assert.Contains("3 active trigger(s) (4 in all)", checks[TriggerHealth.OrphanCheck].Detail);
        Assert.Equal(HealthStatus.Fail, checks[TriggerHealth.BrokenRoutesCheck].Status);
        Assert.Contains($"2 active trigger(s) route to a node that is not a node of their workflow (ids {brokenIds[0]}, {brokenIds[1]})", checks[TriggerHealth.BrokenRoutesCheck].Detail);

        // Exact, on the same rows: every count, LastUpdate, and the inactive broken route as well.
        var exact = await new TriggerHealth(Connection) { ExactCountLimit = 1000 }.GetAsync(exactCounts: true, default);
        Assert.Empty(exact.EstimatedCounts);
        Assert.Equal(12_010, exact.TotalRecords);
        Assert.NotNull(exact.LastUpdate);
        Assert.Contains("6 of 12,008 active", exact.Checks.Single(c => c.Name == TriggerHealth.UntargetedCheck).Detail);

        // Once the active ones are mended, the inactive one is what an exact count finds and the estimate says it did not read.
        await Db.ExecuteAsync("UPDATE workflow_triggers SET target_node_id = 'n9' WHERE name LIKE 'Broken _'");
        Assert.Contains("Inactive triggers were not checked", (await new TriggerHealth(Connection) { ExactCountLimit = 1000 }.GetAsync(default)).Checks.Single(c => c.Name == TriggerHealth.BrokenRoutesCheck).Detail);
        Assert.Equal(HealthStatus.Warn, (await new TriggerHealth(Connection) { ExactCountLimit = 1000 }.GetAsync(exactCounts: true, default)).Checks.Single(c => c.Name == TriggerHealth.BrokenRoutesCheck).Status);
    }

    [Fact]
    public async Task Statistics_never_analyzed_fail_and_many_changes_since_warn()
    {
        // Each step waits until the server's statistics show what it did: a write's counts arrive after the write
        // (and on PostgreSQL 14 so does ANALYZE's time), and counts that arrive after an ANALYZE are counted as
        // changes since it.
        await Db.ExecuteAsync($"""
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
            SELECT 'Trigger ' || g, 'wf_a', 'pdf-monitor-event-source', 'pdf_file_added' FROM generate_series(1, 2000) g;
            {TestDatabase.FlushStatisticsSql}
            """);
        await Db.WaitForStatisticsAsync(s => s.ModifiedSinceAnalyze >= 2000, "the 2,000 inserted rows");
        Assert.Equal(HealthStatus.Fail, (await ChecksAsync())[TriggerHealth.StatisticsCheck].Status);

        await Db.ExecuteAsync("ANALYZE workflow_triggers");
        await Db.WaitForStatisticsAsync(s => s.LastAnalyze is not null && s.ModifiedSinceAnalyze == 0, "the ANALYZE");
        Assert.Equal(HealthStatus.Pass, (await ChecksAsync())[TriggerHealth.StatisticsCheck].Status);

        await Db.ExecuteAsync($"UPDATE workflow_triggers SET description = 'changed' WHERE id <= 1500; {TestDatabase.FlushStatisticsSql}");
        await Db.WaitForStatisticsAsync(s => s.ModifiedSinceAnalyze >= 1500, "the 1,500 updated rows");
        var stale = (await ChecksAsync())[TriggerHealth.StatisticsCheck];
        Assert.Equal(HealthStatus.Warn, stale.Status);
        Assert.Contains("row(s) changed since, more than 20%", stale.Detail);
    }

    [Fact]
    public async Task Statistics_whose_time_a_reset_lost_pass_with_the_reason_instead_of_never_analyzed()
    {
        // The inserts' counts must have arrived before the ANALYZE and the reset (PostgreSQL 14 sends them later), or
        // they would count as changes since the reset.
        await Db.ExecuteAsync($"""
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
            SELECT 'Trigger ' || g, 'wf_a', 'pdf-monitor-event-source', 'pdf_file_added' FROM generate_series(1, 2000) g;
            {TestDatabase.FlushStatisticsSql}
            """);
        await Db.WaitForStatisticsAsync(s => s.ModifiedSinceAnalyze >= 2000, "the 2,000 inserted rows");
        await Db.ExecuteAsync("ANALYZE workflow_triggers");
        await Db.WaitForStatisticsAsync(s => s.LastAnalyze is not null && s.ModifiedSinceAnalyze == 0, "the ANALYZE");

        // What a crash restart or a promotion does to the table's cumulative statistics; pg_stats stays.
        await Db.ExecuteAsync("SELECT pg_stat_reset_single_table_counters('workflow_triggers'::regclass)");
        await Db.WaitForStatisticsAsync(s => s.LastAnalyze is null && s.ModifiedSinceAnalyze == 0, "the reset");
        var check = (await ChecksAsync())[TriggerHealth.StatisticsCheck];
        Assert.Equal(HealthStatus.Pass, check.Status);
        Assert.Contains("no record of when they were taken", check.Detail);
        Assert.Contains("2,000 row(s)", check.Detail);
    }
}

using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Engine.Tests;

public class SchemaInstallerTests
{
    // workflow_triggers as a database had it before the module: the document's 1.0.0 columns, no index, no CHECK.
    private const string LegacyTableSql = """
        CREATE TABLE workflow_triggers (id SERIAL PRIMARY KEY, name VARCHAR(255) NOT NULL, description TEXT,
          workflow_id VARCHAR(255) NOT NULL, source VARCHAR(255) NOT NULL, event_type VARCHAR(255) NOT NULL,
          config JSONB DEFAULT '{}', is_active BOOLEAN DEFAULT true,
          created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP);

        """;

    private static async Task<(TestDatabase Db, SchemaInstaller Installer)> NewAsync()
    {
        var db = await TestDatabase.CreateAsync();
        return (db, new SchemaInstaller(db.Connection));
    }

    [Fact]
    public async Task Install_creates_every_named_object_of_the_document()
    {
        var (db, installer) = await NewAsync();
        var steps = await installer.ApplyAsync(null, false, true, default);
        Assert.Equal(new[] { "1.0.0", "2.0.0" }, steps.Select(s => s.Version));

        foreach (var (_, name, _) in SchemaSteps.Indexes)
        {
            Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM pg_indexes WHERE tablename = 'workflow_triggers' AND indexname = '{name}'"));
        }

        foreach (var (name, _) in SchemaSteps.CheckConstraints)
        {
            Assert.Equal(1L, await db.ScalarAsync<long>($"SELECT count(*) FROM pg_constraint WHERE conname = '{name}'"));
        }

        Assert.Equal(2L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_views WHERE viewname IN ('trigger_metrics', 'node_targeting_stats')"));
        var status = await installer.GetStatusAsync(default);
        Assert.Equal("2.0.0", status.CurrentVersion);
        Assert.Empty(status.PendingSteps);
        Assert.False(status.HasWorkflowForeignKey);
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Running_install_again_changes_nothing()
    {
        var (db, installer) = await NewAsync();
        await installer.ApplyAsync(null, false, true, default);
        Assert.Empty(await installer.ApplyAsync(null, false, true, default));
        Assert.Equal(2L, await db.ScalarAsync<long>($"SELECT count(*) FROM {SchemaSteps.HistoryTable}"));
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Two_installs_at_once_do_the_work_once()
    {
        var (db, installer) = await NewAsync();
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => new SchemaInstaller(db.Connection).ApplyAsync(null, false, true, default))));
        Assert.Equal(2, runs.Sum(r => r.Count));
        Assert.Equal("2.0.0", (await installer.GetStatusAsync(default)).CurrentVersion);
        await db.DisposeAsync();
    }

    [Fact]
    public async Task A_table_that_predates_the_module_is_adopted()
    {
        var (db, installer) = await NewAsync();
        await db.ExecuteAsync(LegacyTableSql + """
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('Legacy one', 'wf_1', 'scheduler-event-source', 'cron_trigger');
            """);
        var status = await installer.GetStatusAsync(default);
        Assert.Equal("1.0.0", status.CurrentVersion);
        Assert.False(status.IsManaged);

        var steps = await installer.ApplyAsync(null, false, true, default);
        Assert.Equal(new[] { SchemaAction.Adopt, SchemaAction.Upgrade }, steps.Select(s => s.Action));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers WHERE name = 'Legacy one'"));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_trigger_config_gin'"));
        Assert.True((await installer.GetStatusAsync(default)).AppliedSteps.Single(s => s.Version == "1.0.0").Adopted);
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Rows_that_break_the_documents_checks_keep_those_constraints_not_valid_and_are_named()
    {
        var (db, installer) = await NewAsync();
        await db.ExecuteAsync(LegacyTableSql + """
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES
              ('Fine one', 'wf_1', 'scheduler-event-source', 'cron_trigger'),
              ('ab', 'wf_1', 'scheduler-event-source', 'cron_trigger'),
              ('Upper case', 'wf_1', 'scheduler-event-source', 'Cron_Trigger');
            """);

        var steps = await installer.ApplyAsync(null, false, true, default);
        var adopted = steps.First();
        Assert.Equal(SchemaAction.Adopt, adopted.Action);
        Assert.Contains("1 existing row(s) break chk_trigger_name_valid", adopted.Detail);
        Assert.Contains("ids 2)", adopted.Detail);
        Assert.Contains("VALIDATE CONSTRAINT chk_event_type_format", adopted.Detail);
        Assert.Equal(3L, await db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers"));
        Assert.Equal("chk_event_type_format,chk_trigger_name_valid", await db.ScalarAsync<string>(
            "SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'workflow_triggers'::regclass AND contype = 'c' AND NOT convalidated"));

        // New rows are checked all the same; health warns until the rows are fixed and the constraints validated.
        await Assert.ThrowsAsync<PostgresException>(() => db.ExecuteAsync("INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('xy', 'wf_1', 'a1', 'e')"));
        var check = (await new Health.TriggerHealth(db.Connection).GetAsync(default)).Checks.Single(c => c.Name == Health.TriggerHealth.UnvalidatedConstraintsCheck);
        Assert.Equal((Health.HealthStatus.Warn, true), (check.Status, check.Detail.Contains("chk_trigger_name_valid")));
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Drift_from_the_recorded_version_is_reported_with_its_sql_and_repaired_except_extra_indexes()
    {
        var (db, installer) = await NewAsync();
        await installer.ApplyAsync(null, false, true, default);
        Assert.Empty((await installer.GetStatusAsync(default)).Drift);

        // As the document's Alembic migration leaves it (a plain composite index), one index gone, one of our own.
        await db.ExecuteAsync("""
            DROP INDEX idx_workflow_triggers_composite;
            CREATE INDEX idx_workflow_triggers_composite ON workflow_triggers(workflow_id, target_node_id);
            DROP INDEX idx_workflow_triggers_source;
            CREATE INDEX idx_ops_name ON workflow_triggers(name);
            ALTER TABLE workflow_triggers DROP CONSTRAINT chk_source_format;
            """);
        var drift = (await installer.GetStatusAsync(default)).Drift.ToDictionary(d => d.Object);
        Assert.Equal(DriftKind.Different, drift["idx_workflow_triggers_composite"].Kind);
        Assert.Contains("WHERE (is_active = true)", drift["idx_workflow_triggers_composite"].Expected);
        Assert.DoesNotContain("WHERE", drift["idx_workflow_triggers_composite"].Actual);
        Assert.Equal(DriftKind.Missing, drift["idx_workflow_triggers_source"].Kind);
        Assert.Equal(DriftKind.Extra, drift["idx_ops_name"].Kind);
        Assert.Equal(DriftKind.Missing, drift["chk_source_format"].Kind);
        Assert.Equal(4, drift.Count);
        var health = await new Health.TriggerHealth(db.Connection).GetAsync(default);
        Assert.Equal(Health.HealthStatus.Warn, health.Checks.Single(c => c.Name == Health.TriggerHealth.SchemaDriftCheck).Status);

        foreach (var item in drift.Values)
        {
            await installer.RepairAsync(item, default);
        }

        Assert.Equal(new[] { "idx_ops_name" }, (await installer.GetStatusAsync(default)).Drift.Select(d => d.Object));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_workflow_triggers_composite' AND indexdef LIKE '%WHERE (is_active = true)%'"));
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Downgrade_that_loses_target_nodes_is_refused_without_permission()
    {
        var (db, installer) = await NewAsync();
        await installer.ApplyAsync(null, false, true, default);
        await db.ExecuteAsync("INSERT INTO workflow_triggers (name, workflow_id, source, event_type, target_node_id) VALUES ('Routed', 'wf_1', 'webhook-event-source', 'webhook_received', 'node_a')");

        Assert.Equal(1L, await installer.CountTargetedTriggersAsync(default));
        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => installer.ApplyAsync("1.0.0", false, true, default));
        Assert.Equal(TriggerErrorKind.Conflict, refused.Kind);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM information_schema.columns WHERE table_name = 'workflow_triggers' AND column_name = 'target_node_id'"));

        var steps = await installer.ApplyAsync("1.0.0", true, true, default);
        Assert.Equal(SchemaAction.Downgrade, Assert.Single(steps).Action);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM information_schema.columns WHERE table_name = 'workflow_triggers' AND column_name = 'target_node_id'"));
        Assert.Equal("1.0.0", (await installer.GetStatusAsync(default)).CurrentVersion);

        // And back up again.
        await installer.ApplyAsync(null, false, true, default);
        Assert.Equal("2.0.0", (await installer.GetStatusAsync(default)).CurrentVersion);
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Foreign_key_is_added_once_workflows_exists()
    {
        var (db, installer) = await NewAsync();
        await installer.ApplyAsync(null, false, true, default);
        Assert.False((await installer.GetStatusAsync(default)).HasWorkflowForeignKey);

        await db.ExecuteAsync(TestDatabase.EngineTablesSql);
        var pending = (await installer.GetStatusAsync(default)).PendingSteps;
        Assert.Equal(SchemaAction.AddForeignKey, Assert.Single(pending).Action);

        await installer.ApplyAsync(null, false, true, default);
        Assert.True((await installer.GetStatusAsync(default)).HasWorkflowForeignKey);
        await db.ExecuteAsync("INSERT INTO workflows VALUES ('wf_1', 'One'); INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('Cascade me', 'wf_1', 'webhook-event-source', 'webhook_received'); DELETE FROM workflows;");
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers"));
        await db.DisposeAsync();
    }

    [Fact]
    public async Task Unknown_target_version_is_an_invalid_argument()
    {
        var (db, installer) = await NewAsync();
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => installer.PlanAsync("3.0.0", default));
        Assert.Equal(TriggerErrorKind.InvalidArgument, error.Kind);
        await db.DisposeAsync();
    }
}

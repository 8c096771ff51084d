using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Health;
using WorkflowTriggers.Engine.History;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>
/// Change history attacked as the roles that would try it, on a real server: an application role with CREATE on
/// the schema plants the module's objects before a superuser turns history on; history is split across schemas;
/// its triggers and function are switched off or swapped behind the health check's back.
/// </summary>
public class HistoryThreatTests : DatabaseTest
{
    private TestRoles _roles = null!;

    // The history table's columns as the module makes them: a plant that copies them exactly.
    private const string PlantedHistorySql = """
        CREATE TABLE public.workflow_triggers_history (
            id bigserial PRIMARY KEY, changed_at timestamptz NOT NULL DEFAULT statement_timestamp(), operation text NOT NULL,
            trigger_id integer NOT NULL, trigger_name text, workflow_id text, database_user text NOT NULL DEFAULT session_user,
            application_name text, client_addr inet, transaction_id bigint NOT NULL, reason text, old_row jsonb, new_row jsonb);
        CREATE INDEX idx_workflow_triggers_history_trigger ON public.workflow_triggers_history (trigger_id, changed_at);
        CREATE INDEX idx_workflow_triggers_history_changed_at ON public.workflow_triggers_history (changed_at);
        """;

    protected override async Task SetUpAsync()
    {
        _roles = new TestRoles(Db);
        await AddEngineTablesAsync("INSERT INTO workflows VALUES ('wf_one', 'One');");
        await InstallSchemaAsync();
    }

    protected override async Task TearDownAsync() => await _roles.DisposeAsync();

    // The application role the README once described: read/write on the triggers and CREATE on the schema.
    private Task<string> AppRoleAsync() => _roles.LoginAsync("app", """
        GRANT USAGE, CREATE ON SCHEMA public TO {0};
        GRANT SELECT, INSERT, UPDATE, DELETE ON workflow_triggers TO {0};
        GRANT USAGE, SELECT ON SEQUENCE workflow_triggers_id_seq TO {0};
        GRANT SELECT ON workflows, workflow_nodes, workflow_connections TO {0};
        """);

    private static string InsertSql(string name) =>
        $"INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('{name}', 'wf_one', 'pdf-monitor-event-source', 'pdf_file_added')";

    [Fact]
    public async Task A_history_table_planted_by_the_application_role_is_refused_and_its_trigger_never_runs_as_the_superuser()
    {
        var app = await AppRoleAsync();
        await _roles.ExecuteAsAsync(app, PlantedHistorySql + $"""
            CREATE FUNCTION public.escalate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'ALTER ROLE {app} SUPERUSER'; RETURN NULL; END $$;
            CREATE TRIGGER escalate AFTER INSERT ON public.workflow_triggers_history FOR EACH STATEMENT EXECUTE FUNCTION public.escalate();
            """);

        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => new ChangeHistory(Connection).EnableAsync(30, default));
        Assert.Equal((TriggerErrorKind.Untrusted, "ForeignObject", "public.workflow_triggers_history", app), (refused.Kind, refused.ErrorId, refused.TableName, refused.ObjectOwner));
        Assert.Contains($"(owner {app})", refused.Message);

        // Nothing of history was made, so the application's writes run nothing of the plant as anyone else.
        await _roles.ExecuteAsAsync(app, InsertSql("After the refusal"));
        Assert.False(await Db.ScalarAsync<bool>($"SELECT rolsuper FROM pg_roles WHERE rolname = '{app}'"));
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'workflow_triggers'::regclass AND NOT tgisinternal"));
        Assert.False((await new ChangeHistory(Connection).GetStatusAsync(default)).Enabled);
    }

    [Fact]
    public async Task A_function_planted_under_the_recording_functions_name_is_refused_and_kept_as_it_was()
    {
        var app = await AppRoleAsync();
        await _roles.ExecuteAsAsync(app, "CREATE FUNCTION public.workflow_triggers_history_record() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN RETURN NULL; END $$");

        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => new ChangeHistory(Connection).EnableAsync(null, default));
        Assert.Equal(("ForeignObject", "public.workflow_triggers_history_record()", app), (refused.ErrorId, refused.TableName, refused.ObjectOwner));
        Assert.Equal(app, await Db.ScalarAsync<string>("SELECT pg_get_userbyid(proowner)::text FROM pg_proc WHERE proname = 'workflow_triggers_history_record'"));
        Assert.False(await Db.ScalarAsync<bool>("SELECT to_regclass('public.workflow_triggers_history') IS NOT NULL"));
    }

    [Fact]
    public async Task A_planted_table_owned_by_the_tables_owner_is_refused_when_it_carries_a_trigger()
    {
        var owner = await _roles.LoginAsync("owner", "GRANT USAGE, CREATE ON SCHEMA public TO {0}; ALTER TABLE workflow_triggers OWNER TO {0};");
        await _roles.ExecuteAsAsync(owner, PlantedHistorySql + """
            CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
            CREATE TRIGGER watch AFTER INSERT ON public.workflow_triggers_history FOR EACH STATEMENT EXECUTE FUNCTION public.noop();
            """);

        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => new ChangeHistory(Connection).EnableAsync(null, default));
        Assert.Equal("ForeignObject", refused.ErrorId);
        Assert.Contains("it has triggers (watch) the module never makes", refused.Message);
    }

    [Fact]
    public async Task History_of_a_table_in_another_schema_is_made_there_whatever_the_enablers_search_path_and_every_client_can_write()
    {
        var enabler = await _roles.LoginAsync("enabler");
        await Db.ExecuteAsync($"""
            CREATE SCHEMA engine;
            CREATE SCHEMA AUTHORIZATION {enabler};
            ALTER TABLE workflow_triggers SET SCHEMA engine;
            ALTER TABLE workflow_triggers_schema_history SET SCHEMA engine;
            ALTER TABLE workflow_triggers_leases SET SCHEMA engine;
            ALTER TABLE workflow_triggers_backfill_nodes SET SCHEMA engine;
            ALTER TABLE engine.workflow_triggers OWNER TO {enabler};
            GRANT USAGE, CREATE ON SCHEMA engine TO {enabler};
            ALTER ROLE {enabler} SET search_path = "$user", engine;
            """);

        await new ChangeHistory(TriggerConnection.For(_roles.ConnectionStringFor(enabler))).EnableAsync(null, default);
        Assert.True(await Db.ScalarAsync<bool>("SELECT to_regclass('engine.workflow_triggers_history') IS NOT NULL"));
        Assert.False(await Db.ScalarAsync<bool>($"SELECT to_regclass('{enabler}.workflow_triggers_history') IS NOT NULL"));

        // Another client, whose search path finds the table in engine, writes and is recorded.
        await using (var other = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Db.ConnectionString) { SearchPath = "engine" }.ConnectionString))
        {
            await other.OpenAsync();
            await using var insert = new NpgsqlCommand(InsertSql("Split schema"), other);
            await insert.ExecuteNonQueryAsync();
        }

        Assert.Equal("postgres", await Db.ScalarAsync<string>("SELECT database_user FROM engine.workflow_triggers_history WHERE trigger_name = 'Split schema'"));
    }

    [Fact]
    public async Task History_the_tables_owner_turned_on_stays_that_roles_when_a_superuser_upgrades_the_schema_or_turns_it_off()
    {
        var owner = await _roles.LoginAsync("owner", "GRANT USAGE, CREATE ON SCHEMA public TO {0}; ALTER TABLE workflow_triggers OWNER TO {0};");
        await new ChangeHistory(TriggerConnection.For(_roles.ConnectionStringFor(owner))).EnableAsync(null, default);

        // The superuser's schema steps make the recording function again, acting as the role that owns history.
        await new Schema.SchemaInstaller(Connection).ApplyAsync("1.0.0", allowDataLoss: true, addForeignKey: true, default);
        await InstallSchemaAsync();
        var status = await new ChangeHistory(Connection).GetStatusAsync(default);
        Assert.Equal((true, owner), (status.Enabled, status.Owner));
        Assert.Empty(status.Tampering);
        Assert.Equal(owner, await Db.ScalarAsync<string>("SELECT pg_get_userbyid(proowner)::text FROM pg_proc WHERE proname = 'workflow_triggers_history_record'"));
        Assert.Equal("postgres", await Db.ScalarAsync<string>("SELECT current_user::text"));

        Assert.False((await new ChangeHistory(Connection).DisableAsync(default)).Enabled);
        Assert.False(await Db.ScalarAsync<bool>("SELECT to_regclass('public.workflow_triggers_history') IS NOT NULL"));
    }

    [Fact]
    public async Task An_id_change_is_refused_while_history_is_on()
    {
        await new ChangeHistory(Connection).EnableAsync(null, default);
        await Db.ExecuteAsync(InsertSql("Keeps its id"));
        var refused = await Assert.ThrowsAsync<PostgresException>(() => Db.ExecuteAsync("UPDATE workflow_triggers SET id = 900005 WHERE name = 'Keeps its id'"));
        Assert.Equal("23000", refused.SqlState);
        Assert.Contains("cannot change while change history is on", refused.MessageText);
        Assert.Equal(1L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers WHERE id < 900005 AND name = 'Keeps its id'"));
    }

    [Theory]
    [InlineData("ALTER TABLE workflow_triggers DISABLE TRIGGER workflow_triggers_history_update", "is disabled")]
    [InlineData("ALTER TABLE workflow_triggers DISABLE TRIGGER USER", "is disabled")]
    [InlineData("ALTER TABLE workflow_triggers ENABLE REPLICA TRIGGER workflow_triggers_history_delete", "enabled for replicas only")]
    [InlineData("DROP TRIGGER workflow_triggers_history_insert ON workflow_triggers", "workflow_triggers_history_insert on workflow_triggers is missing")]
    [InlineData("DROP TRIGGER workflow_triggers_history_delete ON workflow_triggers", "workflow_triggers_history_delete on workflow_triggers is missing")]
    [InlineData("CREATE OR REPLACE FUNCTION workflow_triggers_history_record() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN RETURN NULL; END $$", "body is not the one")]
    [InlineData("ALTER FUNCTION workflow_triggers_history_record() SET search_path = public, pg_temp", "settings are")]
    [InlineData("ALTER FUNCTION workflow_triggers_history_record() SECURITY INVOKER", "SECURITY INVOKER")]
    [InlineData("ALTER FUNCTION workflow_triggers_history_record() OWNER TO {role}", "not by {role}, whose function writes into it")]
    [InlineData("ALTER TABLE workflow_triggers_history OWNER TO {role}", "is owned by {role}")]
    [InlineData("CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; CREATE TRIGGER watch AFTER INSERT ON workflow_triggers_history FOR EACH STATEMENT EXECUTE FUNCTION public.noop()", "it has triggers (watch)")]
    [InlineData("CREATE POLICY hide ON workflow_triggers_history USING (false); ALTER TABLE workflow_triggers_history ENABLE ROW LEVEL SECURITY", "row security")]
    public async Task Health_fails_for_each_way_history_is_switched_off_or_swapped(string tamperSql, string named)
    {
        var role = await _roles.LoginAsync("other");
        await new ChangeHistory(Connection).EnableAsync(null, default);
        Assert.Equal(HealthStatus.Pass, (await HistoryCheckAsync()).Status);

        await Db.ExecuteAsync(tamperSql.Replace("{role}", role));
        var check = await HistoryCheckAsync();
        Assert.Equal(HealthStatus.Fail, check.Status);
        Assert.Contains(named.Replace("{role}", role), check.Detail);
    }

    private async Task<TriggerHealthCheck> HistoryCheckAsync() =>
        (await new TriggerHealth(Connection).GetAsync(default)).Checks.Single(c => c.Name == TriggerHealth.HistoryCheck);

    [Fact]
    public async Task History_of_version_one_is_taken_over_with_its_entries_and_reads_in_order_without_a_sort()
    {
        // What version 1 of the module made: no cleared_before, an index on changed_at alone.
        await Db.ExecuteAsync(PlantedHistorySql + """
            CREATE TABLE public.workflow_triggers_history_settings (id boolean PRIMARY KEY DEFAULT true CHECK (id), version text NOT NULL,
                retention_days integer CHECK (retention_days > 0), enabled_at timestamptz NOT NULL DEFAULT now(), enabled_by text NOT NULL DEFAULT session_user);
            INSERT INTO public.workflow_triggers_history_settings (version) VALUES ('1');
            INSERT INTO public.workflow_triggers_history (operation, trigger_id, transaction_id) VALUES ('Insert', 1, 1);
            """);
        var status = await new ChangeHistory(Connection).EnableAsync(null, default);
        Assert.Equal(("2", 1L), (status.Version, status.Entries));
        Assert.Empty(status.Tampering);

        // With sorting priced out, only an index in the reading order gives a plan without a Sort node.
        await using var connection = new NpgsqlConnection(Db.ConnectionString);
        await connection.OpenAsync();
        await using (var off = new NpgsqlCommand("SET enable_sort = off; SET enable_incremental_sort = off", connection))
        {
            await off.ExecuteNonQueryAsync();
        }

        var plan = string.Empty;
        await using (var explain = new NpgsqlCommand("EXPLAIN SELECT id FROM public.workflow_triggers_history h ORDER BY h.changed_at, h.id LIMIT 1", connection))
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan += reader.GetString(0) + "\n";
            }
        }

        Assert.Contains("Index", plan);
        Assert.DoesNotContain("Sort", plan);
    }

    [Fact]
    public async Task History_an_earlier_version_made_is_a_warning_to_make_it_again_not_tampering_and_its_cut_is_all_a_history_admin_may_change()
    {
        await new ChangeHistory(Connection).EnableAsync(null, default);
        // What version 1 of the module left: its own body, without the id guard, and version '1' in the settings.
        await Db.ExecuteAsync("""
            CREATE OR REPLACE FUNCTION workflow_triggers_history_record() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
            AS $$ BEGIN RETURN NULL; END $$;
            UPDATE workflow_triggers_history_settings SET version = '1';
            """);
        var checks = (await new TriggerHealth(Connection).GetAsync(default)).Checks.ToDictionary(c => c.Name);
        Assert.Equal(HealthStatus.Pass, checks[TriggerHealth.HistoryCheck].Status);
        Assert.Equal(HealthStatus.Warn, checks[TriggerHealth.HistoryVersionCheck].Status);
        Assert.Contains("made by version 1", checks[TriggerHealth.HistoryVersionCheck].Detail);

        await new ChangeHistory(Connection).EnableAsync(null, default);
        checks = (await new TriggerHealth(Connection).GetAsync(default)).Checks.ToDictionary(c => c.Name);
        Assert.Equal(HealthStatus.Pass, checks[TriggerHealth.HistoryCheck].Status);
        Assert.False(checks.ContainsKey(TriggerHealth.HistoryVersionCheck));

        // A history admin could otherwise turn a swapped body into a mere warning by writing an old version.
        _roles.Track(Enum.GetValues<Security.TriggerRoleKind>().Select(k => Security.TriggerRoles.NameOf(_roles.Prefix, k)).ToArray());
        await new Security.TriggerRoles(Connection).InstallAsync(_roles.Prefix, apply: true, default);
        var admin = await _roles.LoginAsync("admin", $"GRANT {Security.TriggerRoles.NameOf(_roles.Prefix, Security.TriggerRoleKind.HistoryAdmin)} TO {{0}};");
        var denied = await Assert.ThrowsAsync<PostgresException>(() => _roles.ExecuteAsAsync(admin, "UPDATE workflow_triggers_history_settings SET version = '1'"));
        Assert.Equal("42501", denied.SqlState);
        await _roles.ExecuteAsAsync(admin, "UPDATE workflow_triggers_history_settings SET cleared_before = now()");
    }

    [Fact]
    public async Task A_session_level_reason_left_on_a_pooled_session_is_never_recorded_as_a_writes_reason()
    {
        await new ChangeHistory(Connection).EnableAsync(null, default);
        var pooled = TriggerConnection.For(new NpgsqlConnectionStringBuilder(Db.ConnectionString) { MaxPoolSize = 1, NoResetOnClose = true }.ConnectionString);
        // Another client of the same server session sets a reason for the whole session.
        await pooled.RunAsync(async c =>
        {
            await using var set = new NpgsqlCommand("SET workflow_triggers.reason = 'someone else''s reason'", c);
            return await set.ExecuteNonQueryAsync();
        }, default);

        await new TriggerWriter(pooled).InsertAsync(new[] { new NewTrigger("No reason given", "wf_one", "pdf-monitor-event-source", "pdf_file_added") }, false, false, default);
        var entry = Assert.Single(await ListAsync(new HistoryReader(Connection).QueryAsync(new HistoryFilter(), default)));
        Assert.Null(entry.Reason);
    }

    [Fact]
    public async Task A_reason_longer_than_the_limit_from_another_client_is_cut_and_the_module_refuses_one()
    {
        await new ChangeHistory(Connection).EnableAsync(null, default);
        await Db.ExecuteAsync("BEGIN; SET LOCAL workflow_triggers.reason = '" + new string('r', 5000) + "'; " + InsertSql("Long reason") + "; COMMIT;");
        Assert.Equal(ChangeHistory.MaxReasonLength, await Db.ScalarAsync<int>("SELECT length(reason) FROM workflow_triggers_history"));

        Assert.Equal("InvalidReason", TriggerRules.CheckReason(new string('r', ChangeHistory.MaxReasonLength + 1))?.ErrorId);
        Assert.Contains("NUL character", TriggerRules.CheckReason("CHG-1\0")?.Message);
        Assert.Null(TriggerRules.CheckReason("CHG-2041 scanner outage"));
    }
}

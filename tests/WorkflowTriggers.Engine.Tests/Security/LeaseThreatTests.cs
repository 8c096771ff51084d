using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Routing;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>
/// The backfill lease attacked and stalled: a lease planted by a role that may run a backfill, a lease whose row a
/// stalled transaction holds, a wait that must end, and a lease table planted before the first backfill.
/// </summary>
public class LeaseThreatTests : DatabaseTest
{
    private TestRoles _roles = null!;

    protected override async Task SetUpAsync()
    {
        _roles = new TestRoles(Db);
        await AddEngineTablesAsync("INSERT INTO workflows VALUES ('wf_one', 'One'); INSERT INTO workflow_nodes (workflow_id, node_id) VALUES ('wf_one', 'n1');");
        await InstallSchemaAsync();
        await Db.ExecuteAsync("""
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
            SELECT 'Trigger ' || g, 'wf_one', 'pdf-monitor-event-source', 'pdf_file_added' FROM generate_series(1, 30) g
            """);
    }

    protected override async Task TearDownAsync() => await _roles.DisposeAsync();

    private IAsyncEnumerable<BackfillBatch> Run(TriggerConnection connection, TimeSpan? wait = null) =>
        new TriggerBackfill(connection).RunAsync(new BackfillScope(), 10, wait, false, default);

    private Task PlantLeaseAsync(string role, string expires) => _roles.ExecuteAsAsync(role, $"""
        INSERT INTO {Lease.Table} (name, token, holder_user, holder_application, holder_host, holder_process, expires_at)
        VALUES ('{TriggerBackfill.LeaseName}', gen_random_uuid(), 'postgres', 'psql', 'db-admin-01', 1, {expires})
        """);

    [Fact]
    public async Task A_lease_planted_for_a_hundred_years_is_named_as_no_backfills_and_can_be_broken()
    {
        var runner = await _roles.LoginAsync("runner", $"GRANT SELECT, INSERT, UPDATE, DELETE ON {Lease.Table} TO {{0}};");
        await PlantLeaseAsync(runner, "CURRENT_TIMESTAMP + interval '100 years'");

        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(Run(Connection)));
        Assert.Equal("BackfillAlreadyRunning", refused.ErrorId);
        Assert.True(refused.LeaseHolder!.Implausible);
        Assert.Contains("longer than any backfill takes one for: it was not written by a backfill", refused.Message);
        Assert.Contains("the client says host db-admin-01", refused.Message);

        // Waiting for it would never end: it is reported at once.
        var notWaited = await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(Run(Connection, TimeSpan.FromHours(1))).WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(notWaited.LeaseHolder!.Implausible);

        var backfill = new TriggerBackfill(Connection);
        var holder = await backfill.GetLeaseAsync(default);
        Assert.True(await backfill.BreakLeaseAsync(holder!, default));
        Assert.Null(await backfill.GetLeaseAsync(default));
        Assert.Equal(30, (await ListAsync(Run(Connection))).Sum(b => b.Updated));
    }

    [Fact]
    public async Task The_server_not_the_client_names_who_holds_a_lease()
    {
        var runner = await _roles.LoginAsync("runner", $$"""
            GRANT SELECT, INSERT, UPDATE, DELETE ON {{Lease.Table}} TO {0};
            GRANT SELECT, INSERT, DELETE ON {{TriggerBackfill.NodesTable}} TO {0};
            GRANT SELECT, UPDATE ON workflow_triggers TO {0};
            GRANT SELECT ON workflows, workflow_nodes, workflow_connections TO {0};
            """);
        await using var running = Run(TriggerConnection.For(_roles.ConnectionStringFor(runner))).GetAsyncEnumerator();
        Assert.True(await running.MoveNextAsync());

        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(Run(Connection)));
        var holder = refused.LeaseHolder!;
        Assert.Equal(runner, holder.User);
        Assert.True(holder.Connected);
        Assert.NotNull(holder.ServerProcessId);
        Assert.False(holder.Busy);
        Assert.Contains($"by database user {runner} (server process {holder.ServerProcessId}", refused.Message);
    }

    [Fact]
    public async Task A_lease_whose_row_a_stalled_transaction_holds_is_reported_at_once_as_running()
    {
        await PlantLeaseAsync("postgres", "CURRENT_TIMESTAMP + interval '1 minute'");
        await using var stalled = new NpgsqlConnection(Db.ConnectionString);
        await stalled.OpenAsync();
        await using var transaction = await stalled.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand($"SELECT 1 FROM {Lease.Table} FOR UPDATE", stalled, transaction))
        {
            await hold.ExecuteNonQueryAsync();
        }

        // Bounded here only so a regression fails instead of hanging: the answer comes within the lease's row wait.
        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(Run(Connection)).WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("BackfillAlreadyRunning", refused.ErrorId);
        Assert.True(refused.LeaseHolder!.Busy);
        Assert.Contains("A batch of it is being written right now.", refused.Message);

        var backfill = new TriggerBackfill(Connection);
        var held = await backfill.GetLeaseAsync(default);
        Assert.True(held!.Busy);
        var notBroken = await Assert.ThrowsAsync<TriggerEngineException>(() => backfill.BreakLeaseAsync(held, default));
        Assert.Equal(TriggerErrorKind.Timeout, notBroken.Kind);
    }

    [Fact]
    public async Task Waiting_for_a_running_backfill_ends_when_its_time_is_up()
    {
        await PlantLeaseAsync("postgres", "CURRENT_TIMESTAMP + interval '1 minute'");
        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(Run(Connection, TimeSpan.FromSeconds(1))).WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("BackfillAlreadyRunning", refused.ErrorId);
        Assert.Contains("(waited 1 s)", refused.Message);
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers WHERE target_node_id IS NOT NULL"));
    }

    [Fact]
    public async Task A_lease_table_planted_with_a_trigger_is_refused_before_the_backfill_writes_into_it()
    {
        var app = await _roles.LoginAsync("app", "GRANT USAGE, CREATE ON SCHEMA public TO {0};");
        await Db.ExecuteAsync($"DROP TABLE {Lease.Table}");
        await _roles.ExecuteAsAsync(app, $"""
            CREATE TABLE public.{Lease.Table} (name text PRIMARY KEY, token uuid NOT NULL, holder_user text NOT NULL, holder_application text NOT NULL,
                holder_host text NOT NULL, holder_process integer NOT NULL, acquired_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP, expires_at timestamptz NOT NULL,
                holder_address inet, holder_server_pid integer, holder_backend_start timestamptz);
            GRANT ALL ON public.{Lease.Table} TO PUBLIC;
            CREATE FUNCTION public.escalate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'ALTER ROLE {app} SUPERUSER'; RETURN NULL; END $$;
            CREATE TRIGGER escalate AFTER INSERT ON public.{Lease.Table} FOR EACH STATEMENT EXECUTE FUNCTION public.escalate();
            """);

        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(Run(Connection)));
        Assert.Equal(("ForeignObject", $"public.{Lease.Table}", app), (refused.ErrorId, refused.TableName, refused.ObjectOwner));
        Assert.False(await Db.ScalarAsync<bool>($"SELECT rolsuper FROM pg_roles WHERE rolname = '{app}'"));
        Assert.Equal(0L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers WHERE target_node_id IS NOT NULL"));
    }
}

using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Health;
using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Schema;
using WorkflowTriggers.Engine.Triggers;
using WorkflowTriggers.TestServer;
using static WorkflowTriggers.Engine.Tests.TriggerTestData;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>A test that needs a real PgBouncer; skipped, with the reason, where the program is missing.</summary>
public sealed class PgBouncerFactAttribute : FactAttribute
{
    public PgBouncerFactAttribute()
    {
        if (ThrowawayPgBouncer.UnavailableReason() is { } reason)
        {
            Skip = $"No PgBouncer here: {reason}.";
        }
    }
}

/// <summary>One PgBouncer per configuration per test run, in front of the shared throwaway server.</summary>
internal static class SharedPgBouncer
{
    private static readonly Lazy<Task<ThrowawayPgBouncer>> TransactionPooling = new(() => StartAsync(string.Empty));

    private static readonly Lazy<Task<ThrowawayPgBouncer>> DroppingSearchPath = new(() => StartAsync("search_path"));

    public static Task<ThrowawayPgBouncer> GetAsync() => TransactionPooling.Value;

    /// <summary>A PgBouncer told to ignore the search_path startup parameter, which it then silently drops.</summary>
    public static Task<ThrowawayPgBouncer> GetDroppingSearchPathAsync() => DroppingSearchPath.Value;

    private static async Task<ThrowawayPgBouncer> StartAsync(string ignored)
    {
        var server = await SharedServer.GetAsync();
        // Two server connections per database: the module's statements and the other clients' share them.
        var bouncer = await ThrowawayPgBouncer.StartAsync(server.AdminConnectionString, Environment.ProcessId, "transaction", poolSize: 2, ignoreStartupParameters: ignored);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => bouncer.StopAsync().GetAwaiter().GetResult();
        return bouncer;
    }
}

/// <summary>
/// The module behind a real PgBouncer in transaction pooling mode, sharing its small pool with eight other clients
/// that run short statements without pause, so consecutive transactions of one module connection land on different
/// server sessions. Every wait is bounded: a hang fails the test instead of stalling the run.
/// </summary>
public class PoolerTests : DatabaseTest
{
    private const string Graph = """
        INSERT INTO workflows VALUES ('wf_one', 'One'), ('wf_multi', 'Multi');
        INSERT INTO workflow_nodes (workflow_id, node_id) VALUES ('wf_one', 'first'), ('wf_multi', 'm2'), ('wf_multi', 'm3');
        INSERT INTO workflow_connections (workflow_id, from_node_id, to_node_id) VALUES ('wf_multi', 'm2', 'm3');
        """;

    private readonly CancellationTokenSource _limit = new(TimeSpan.FromSeconds(90));

    private ThrowawayPgBouncer _bouncer = null!;

    private OtherClients _others = null!;

    private TriggerConnection Pooled => TriggerConnection.For(_bouncer.Through(Db.ConnectionString));

    protected override async Task SetUpAsync()
    {
        _bouncer = await SharedPgBouncer.GetAsync();
        _others = OtherClients.Start(_bouncer.Through(Db.ConnectionString), 8);
    }

    protected override Task TearDownAsync() => _others?.StopAsync() ?? Task.CompletedTask;

    private Task<long> ScalarAsync(string sql) => Db.ScalarAsync<long>(sql);

    private Task<long> AdvisoryLocksHeldAsync() =>
        ScalarAsync("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");

    [PgBouncerFact]
    public async Task Installs_at_once_and_after_each_other_finish_do_each_step_once_and_leave_no_lock()
    {
        var together = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => new SchemaInstaller(Pooled).ApplyAsync(null, false, true, _limit.Token)));
        var steps = together.SelectMany(r => r).Select(s => s.Version).ToList();
        Assert.Equal(SchemaSteps.Versions.Select(v => v.Version), steps.Order());

        // Before: the lock was taken on one server session and "released" on another, so this install waited forever.
        Assert.Empty(await new SchemaInstaller(Pooled).ApplyAsync(null, false, true, _limit.Token));
        Assert.Equal(SchemaSteps.LatestVersion, (await new SchemaInstaller(Pooled).GetStatusAsync(_limit.Token)).CurrentVersion);
        Assert.Equal(0, await AdvisoryLocksHeldAsync());
    }

    [PgBouncerFact]
    public async Task A_backfill_runs_batch_by_batch_on_any_server_session_and_a_second_run_names_the_first()
    {
        await AddEngineTablesAsync(Graph);
        await InstallSchemaAsync();
        await Db.ExecuteAsync("""
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
            SELECT 'Trigger ' || g, (ARRAY['wf_one', 'wf_multi'])[1 + g % 2], 'pdf-monitor-event-source', 'pdf_file_added'
            FROM generate_series(1, 400) g
            """);

        await using (var running = new TriggerBackfill(Pooled).RunAsync(new BackfillScope(), 50, null, false, _limit.Token).GetAsyncEnumerator())
        {
            Assert.True(await running.MoveNextAsync());
            var busy = await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(new TriggerBackfill(Pooled).RunAsync(new BackfillScope(), 50, null, false, _limit.Token)));
            Assert.Equal("BackfillAlreadyRunning", busy.ErrorId);
            Assert.Contains($"host {Environment.MachineName}, process {Environment.ProcessId}", busy.Message);
            Assert.DoesNotContain(OtherClients.ApplicationName, busy.Message);
            while (await running.MoveNextAsync())
            {
            }
        }

        Assert.Equal(200, await ScalarAsync("SELECT count(*) FROM workflow_triggers WHERE target_node_id = 'first'"));
        Assert.Equal(200, await ScalarAsync("SELECT count(*) FROM workflow_triggers WHERE target_node_id = 'm2'"));
        Assert.Equal(0, await ScalarAsync($"SELECT count(*) FROM {Lease.Table}"));
        Assert.Equal(0, await AdvisoryLocksHeldAsync());

        // Nothing was left behind for the next run to wait on.
        Assert.Equal(0, (await ListAsync(new TriggerBackfill(Pooled).RunAsync(new BackfillScope(), 50, null, false, _limit.Token))).Sum(b => b.Updated));
    }

    [PgBouncerFact]
    public async Task Writes_and_reads_through_the_pooler_see_every_row()
    {
        await InstallSchemaAsync();
        var written = await new TriggerWriter(Pooled).InsertAsync(Enumerable.Range(1, 500).Select(i => Sample($"Pooled {i}")).ToList(), false, false, _limit.Token);
        Assert.Equal(500, written.Written.Count);
        var read = 0;
        await foreach (var _ in new TriggerReader(Pooled).QueryAsync(new TriggerFilter(), _limit.Token))
        {
            read++;
        }

        Assert.Equal(500, read);
    }

    [PgBouncerFact]
    public async Task A_concurrent_rebuild_behind_the_pooler_stops_before_sending_and_no_session_inherits_a_setting()
    {
        await InstallSchemaAsync();
        var health = new IndexHealth(Pooled);
        var (name, qualified, _) = (await health.ListAsync(TimeSpan.FromSeconds(5), _limit.Token)).First();
        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => health.ReindexAsync(name, qualified, TimeSpan.FromSeconds(7), _limit.Token));
        Assert.Equal("SessionRequired", refused.ErrorId);
        await health.AnalyzeAsync(TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(60), _limit.Token);

        // Before: the rebuild's session-level lock_timeout stayed on server sessions that other clients were then given.
        var settings = new List<string>();
        for (var i = 0; i < 60; i++)
        {
            settings.Add(await ThrowawayPostgres.ScalarAsync(new NpgsqlConnectionStringBuilder(_bouncer.Through(Db.ConnectionString)) { Pooling = false }.ConnectionString, "SHOW lock_timeout"));
        }

        Assert.All(settings, s => Assert.Equal("0", s));

        // Directly, the rebuild runs, and the pooled connection it used gets its own setting back.
        var direct = TriggerConnection.For(new NpgsqlConnectionStringBuilder(Db.ConnectionString) { MaxPoolSize = 1 }.ConnectionString);
        Assert.Equal("Reindex", (await new IndexHealth(direct).ReindexAsync(name, qualified, TimeSpan.FromSeconds(7), _limit.Token)).Action);
        Assert.Equal("0", await direct.ReadAsync(c => Dapper.SqlMapper.ExecuteScalarAsync<string>(c, "SHOW lock_timeout"), _limit.Token));
    }

    [PgBouncerFact]
    public async Task A_search_path_the_pooler_dropped_stops_every_command_before_it_reads_another_schema()
    {
        await Db.ExecuteAsync("CREATE SCHEMA engine");
        var inEngine = new NpgsqlConnectionStringBuilder(Db.ConnectionString) { SearchPath = "engine" }.ConnectionString;
        await new SchemaInstaller(TriggerConnection.For(inEngine)).ApplyAsync(null, false, true, _limit.Token);
        await InstallSchemaAsync(); // public.workflow_triggers too: what the dropped search_path would silently reach
        await Db.ExecuteAsync("INSERT INTO public.workflow_triggers (name, workflow_id, source, event_type) VALUES ('Public one', 'wf_x', 'a-source', 'an_event')");

        var dropping = await SharedPgBouncer.GetDroppingSearchPathAsync();
        var throughPooler = TriggerConnection.For(new NpgsqlConnectionStringBuilder(dropping.Through(Db.ConnectionString)) { SearchPath = "engine" }.ConnectionString);
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(new TriggerReader(throughPooler).QueryAsync(new TriggerFilter(), _limit.Token)));
        Assert.Equal("SearchPathIgnored", error.ErrorId);
        Assert.Contains("Search Path=engine", error.Message);

        // Directly, the same search path reaches the session, and the engine schema's (empty) table answers.
        Assert.Empty(await ListAsync(new TriggerReader(TriggerConnection.For(inEngine)).QueryAsync(new TriggerFilter(), _limit.Token)));
    }

    /// <summary>Clients of the same pool that keep its server sessions busy with short statements until stopped.</summary>
    private sealed class OtherClients
    {
        public const string ApplicationName = "other-client";

        private readonly CancellationTokenSource _stop = new();

        private readonly List<Task> _loops = new();

        public static OtherClients Start(string connectionString, int count)
        {
            var clients = new OtherClients();
            var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = ApplicationName, Pooling = false };
            for (var i = 0; i < count; i++)
            {
                clients._loops.Add(Task.Run(() => clients.LoopAsync(builder.ConnectionString)));
            }

            return clients;
        }

        public async Task StopAsync()
        {
            _stop.Cancel();
            await Task.WhenAll(_loops);
        }

        private async Task LoopAsync(string connectionString)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(_stop.Token);
                await using var command = new NpgsqlCommand("SELECT pg_sleep(0.002)", connection);
                while (!_stop.IsCancellationRequested)
                {
                    await command.ExecuteNonQueryAsync(_stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (NpgsqlException) when (_stop.IsCancellationRequested)
            {
            }
        }
    }
}

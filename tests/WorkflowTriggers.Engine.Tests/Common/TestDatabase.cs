using Npgsql;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.TestServer;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>One throwaway server per test run, removed at exit (and by its watchdog if the run is killed).</summary>
internal static class SharedServer
{
    private static readonly Lazy<Task<ThrowawayPostgres>> Server = new(async () =>
    {
        var server = await ThrowawayPostgres.StartAsync(Environment.ProcessId);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopAsync().GetAwaiter().GetResult();
        return server;
    });

    public static Task<ThrowawayPostgres> GetAsync() => Server.Value;
}

/// <summary>A fresh, empty database, dropped at the end: no test sees another's rows.</summary>
public sealed class TestDatabase : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = string.Empty;

    public TriggerConnection Connection => TriggerConnection.For(ConnectionString);

    public static async Task<TestDatabase> CreateAsync()
    {
        var database = new TestDatabase();
        await database.InitializeAsync();
        return database;
    }

    public async Task InitializeAsync()
    {
        var server = await SharedServer.GetAsync();
        ConnectionString = await ThrowawayPostgres.CreateDatabaseAsync(server.AdminConnectionString, "wt_x");
    }

    public Task DisposeAsync() => ThrowawayPostgres.DropDatabaseAsync(ConnectionString);

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// Waits until workflow_triggers' cumulative statistics (pg_stat_all_tables) satisfy <paramref name="condition"/>.
    /// The server counts a session's reads and writes in that session and publishes them later (PostgreSQL 15+ when
    /// the session is idle, at most once a second unless forced; 14 through its statistics collector, with no way
    /// to force it), so a test that asserts on them first waits for the numbers it depends on.
    /// </summary>
    public async Task<TableStatistics> WaitForStatisticsAsync(Func<TableStatistics, bool> condition, string what)
    {
        const string sql = """
            SELECT last_analyze, n_mod_since_analyze, coalesce(idx_scan, 0), coalesce(idx_tup_fetch, 0)
            FROM pg_stat_all_tables WHERE relid = to_regclass('workflow_triggers')
            """;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            var statistics = new TableStatistics(reader.IsDBNull(0) ? null : reader.GetDateTime(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
            if (condition(statistics))
            {
                return statistics;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The server's statistics did not show {what} within 30 s: {statistics}.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// SQL that makes this session publish its statistics as soon as the statement ends (PostgreSQL 15+), and does
    /// nothing on 14: end a batch whose counts a test reads with it, then wait for them with <see cref="WaitForStatisticsAsync"/>.
    /// </summary>
    public const string FlushStatisticsSql = """
        DO $$ BEGIN
            IF current_setting('server_version_num')::int >= 150000 THEN PERFORM pg_stat_force_next_flush(); END IF;
        END $$;
        """;

    /// <summary>The engine's graph tables (tests/sql/engine-tables.sql, copied beside the test assembly).</summary>
    public static readonly string EngineTablesSql = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "engine-tables.sql"));
}

/// <summary>What pg_stat_all_tables says of workflow_triggers.</summary>
public sealed record TableStatistics(DateTime? LastAnalyze, long ModifiedSinceAnalyze, long IndexScans, long IndexRowsFetched);

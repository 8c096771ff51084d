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

    /// <summary>The engine's graph tables (tests/sql/engine-tables.sql, copied beside the test assembly).</summary>
    public static readonly string EngineTablesSql = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "engine-tables.sql"));
}

using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;

namespace WorkflowTriggers.Engine.Connections;

/// <summary>
/// What the module learns about each server session (physical connection) as it opens: whether the search path the
/// connection string asks for reached it, and whether the module talks to the server itself or through a pooler.
/// </summary>
internal sealed class ServerSessions
{
    private const int Unknown = 0;
    private const int Own = 1;
    private const int Pooled = -1;

    private readonly string? _wantedSearchPath;
    private int _sessions = Unknown;

    public ServerSessions(string? wantedSearchPath) => _wantedSearchPath = string.IsNullOrWhiteSpace(wantedSearchPath) ? null : wantedSearchPath;

    /// <summary>
    /// True when every session opened so far is the server's own (no pooler between): a statement prepared on it stays
    /// prepared for the next command that gets it from the pool. Behind a pooler (PgBouncer in transaction mode) the
    /// next transaction may run on another server session, where the statement does not exist.
    /// </summary>
    public bool StatementsStayPrepared => Volatile.Read(ref _sessions) == Own;

    /// <summary>Runs once per new physical connection, before it is handed out.</summary>
    public async Task InitializeAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid(), setting, source FROM pg_settings WHERE name = 'search_path'", connection);
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        await reader.ReadAsync().ConfigureAwait(false);
        var (serverProcess, setting, source) = (reader.GetInt32(0), reader.GetString(1), reader.GetString(2));

        // Once a pooler has been seen it stays seen: a pooler's session can look like the server's own.
        if (serverProcess != connection.ProcessID)
        {
            Volatile.Write(ref _sessions, Pooled);
        }
        else
        {
            Interlocked.CompareExchange(ref _sessions, Own, Unknown);
        }

        if (_wantedSearchPath is { } wanted)
        {
            RequireSearchPath(wanted, setting, source);
        }
    }

    /// <summary>
    /// Fails with SearchPathIgnored when the connection string's Search Path did not reach the server session. A
    /// pooler drops it (PgBouncer with ignore_startup_parameters = search_path), and every unqualified table name
    /// would then resolve in another schema: the module would read, or write, another schema's workflow_triggers.
    /// </summary>
    private static void RequireSearchPath(string wanted, string setting, string source)
    {
        static string Normal(string path) => string.Join(",", path.Split(',').Select(p => p.Trim()));
        if (source is not ("client" or "session") && !string.Equals(Normal(setting), Normal(wanted), StringComparison.Ordinal))
        {
            throw new TriggerEngineException(
                TriggerErrorKind.ConnectionFailed,
                $"The connection string sets Search Path={wanted}, but the server session's search_path is '{setting}' (from its {source} setting): " +
                "something between the module and the server, such as a connection pooler, dropped it. Unqualified table names would resolve in another schema, so nothing was sent.")
            {
                ErrorId = "SearchPathIgnored",
            };
        }
    }

    /// <summary>
    /// Fails with SessionRequired when <paramref name="connection"/> goes through a connection pooler (PgBouncer and
    /// its kind): the pooler announces a process id of its own at startup, so it differs from the server session's
    /// pg_backend_pid(). A direct connection, or a TCP proxy that passes the startup through, shows the same one.
    /// </summary>
    public static async Task RequireOwnSessionAsync(NpgsqlConnection connection, string databaseDisplay, string why, CancellationToken cancellationToken)
    {
        var serverProcess = await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT pg_backend_pid()", cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (serverProcess != connection.ProcessID)
        {
            throw new TriggerEngineException(
                TriggerErrorKind.Conflict,
                $"{databaseDisplay} goes through a connection pooler (the connection was announced as process {connection.ProcessID}, but server process {serverProcess} answered), " +
                $"and {why}: a pooler may run the two on different server sessions. Nothing was sent.")
            {
                ErrorId = "SessionRequired",
            };
        }
    }
}

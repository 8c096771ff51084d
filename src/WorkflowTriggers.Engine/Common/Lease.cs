using Dapper;
using Npgsql;

namespace WorkflowTriggers.Engine.Common;

/// <summary>
/// Who holds a lease. <see cref="User"/>, <see cref="ClientAddress"/>, <see cref="ServerProcessId"/> and
/// <see cref="BackendStart"/> are what the server knew of the session that took or last renewed it; <see cref="Host"/>
/// and <see cref="ProcessId"/> are what that client said of itself. <see cref="Connected"/> tells whether that server
/// session is still there (null when this user may not see it), and <see cref="Busy"/> that a batch of the run is
/// being written right now (its row is locked).
/// </summary>
public sealed class LeaseHolder
{
    public string User { get; init; } = string.Empty;
    public string Application { get; init; } = string.Empty;
    public string Host { get; init; } = string.Empty;
    public int ProcessId { get; init; }
    public DateTime AcquiredAt { get; init; }
    public DateTime ExpiresAt { get; init; }
    public string? ClientAddress { get; init; }
    public int? ServerProcessId { get; init; }
    public DateTime? BackendStart { get; init; }
    public bool? Connected { get; init; }
    public bool Busy { get; init; }
    public DateTime ServerNow { get; init; }

    public bool Expired => ExpiresAt < ServerNow;

    /// <summary>True when the lease claims more time than any run of this module asks for: not a lease it wrote.</summary>
    public bool Implausible => ExpiresAt > ServerNow + Lease.Duration + TimeSpan.FromMinutes(1);
}

/// <summary>
/// A named lease in the module's lease table: one run at a time of work that spans many transactions (a backfill).
/// Unlike a session advisory lock it needs no session of its own, so it holds behind a transaction-pooling PgBouncer;
/// and it expires, so a run that crashed cannot strand it. The holder renews it in each transaction it writes in, and
/// that renewal row-locks it: another run cannot take it while a batch is being written, and sees at once that one is.
/// </summary>
internal sealed class Lease
{
    /// <summary>How long a lease outlives its last renewal: what a crashed run costs the next one at most.</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);

    public const string Table = "workflow_triggers_leases";

    public static readonly ModuleTable Definition = new(Table, new ModuleColumn[]
    {
        new("name", "text", "PRIMARY KEY"),
        new("token", "uuid", "NOT NULL"),
        new("holder_user", "text", "NOT NULL DEFAULT session_user"),
        new("holder_application", "text", "NOT NULL DEFAULT current_setting('application_name')"),
        new("holder_host", "text", "NOT NULL"),
        new("holder_process", "integer", "NOT NULL"),
        new("acquired_at", "timestamp with time zone", "NOT NULL DEFAULT CURRENT_TIMESTAMP"),
        new("expires_at", "timestamp with time zone", "NOT NULL"),
        new("holder_address", "inet"),
        new("holder_server_pid", "integer"),
        new("holder_backend_start", "timestamp with time zone"),
    }, OlderColumnCount: 8);

    // How long taking a lease waits for its row: a batch holding it commits in far less than a lock timeout, but a
    // run stalled inside one would otherwise keep the next run waiting without a word.
    private static readonly TimeSpan RowWait = TimeSpan.FromMilliseconds(500);

    // What the server knows of the session taking or renewing the lease, never what a client says of itself.
    private const string ServerFacts = """
        session_user, current_setting('application_name'), inet_client_addr(), pg_backend_pid(),
        (SELECT a.backend_start FROM pg_stat_activity a WHERE a.pid = pg_backend_pid())
        """;

    private readonly ModuleHome _home;

    private Lease(ModuleHome home, string name, Guid token)
    {
        _home = home;
        Name = name;
        Token = token;
    }

    public string Name { get; }

    public Guid Token { get; }

    /// <summary>Where the lease table is: the schema of workflow_triggers, whose other module tables the run names with it.</summary>
    public ModuleHome Home => _home;

    // Taken only where the row is free or expired; ON CONFLICT waits for a renewing batch to commit, then looks again.
    private static string AcquireSql(ModuleHome home) => $"""
        INSERT INTO {home.Qualify(Table)} AS l (name, token, holder_user, holder_application, holder_address, holder_server_pid, holder_backend_start, holder_host, holder_process, expires_at)
        SELECT @Name, @Token, {ServerFacts}, @Host, @ProcessId, CURRENT_TIMESTAMP + @Duration
        ON CONFLICT (name) DO UPDATE
            SET token = EXCLUDED.token, holder_user = EXCLUDED.holder_user, holder_application = EXCLUDED.holder_application,
                holder_address = EXCLUDED.holder_address, holder_server_pid = EXCLUDED.holder_server_pid, holder_backend_start = EXCLUDED.holder_backend_start,
                holder_host = EXCLUDED.holder_host, holder_process = EXCLUDED.holder_process,
                acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
            WHERE l.expires_at < CURRENT_TIMESTAMP
        RETURNING true
        """;

    // Read without a lock (MVCC), so it answers at once while a batch holds the row; busy is whether one does.
    private static string HolderSql(ModuleHome home) => $"""
        SELECT l.holder_user AS User, l.holder_application AS Application, l.holder_host AS Host, l.holder_process AS ProcessId,
               l.acquired_at AS AcquiredAt, l.expires_at AS ExpiresAt, host(l.holder_address) AS ClientAddress,
               l.holder_server_pid AS ServerProcessId, l.holder_backend_start AS BackendStart, CURRENT_TIMESTAMP AS ServerNow,
               CASE WHEN l.holder_server_pid IS NULL THEN NULL
                    ELSE EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.holder_server_pid
                                 AND (a.backend_start IS NULL OR a.backend_start = l.holder_backend_start)) END AS Connected,
               NOT EXISTS (SELECT 1 FROM {home.Qualify(Table)} f WHERE f.name = l.name FOR UPDATE SKIP LOCKED) AS Busy
        FROM {home.Qualify(Table)} l WHERE l.name = @Name
        """;

    /// <summary>
    /// Takes the lease <paramref name="name"/> in a transaction of its own. Returns null with the holder when another
    /// run has it and <paramref name="wait"/> is null or has run out; while it lasts, polls until the lease is free
    /// or has expired. A lease whose row another run holds locked counts as taken at once, without waiting for it;
    /// one that claims more time than any run takes is reported at once, waiting or not.
    /// </summary>
    public static async Task<(Lease? Lease, LeaseHolder? Holder)> AcquireAsync(NpgsqlConnection connection, string name, TimeSpan? wait, string databaseDisplay, CancellationToken cancellationToken)
    {
        var home = await ModuleObjects.EnsureTableAsync(connection, Definition, databaseDisplay, cancellationToken).ConfigureAwait(false);
        var token = Guid.NewGuid();
        var parameters = new { Name = name, Token = token, Host = Environment.MachineName, Environment.ProcessId, Duration };
        var deadline = wait is { } limit ? DateTime.UtcNow + limit : DateTime.MinValue;
        var pause = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            if (await TryTakeAsync(connection, AcquireSql(home), parameters, cancellationToken).ConfigureAwait(false))
            {
                return (new Lease(home, name, token), null);
            }

            var holder = await connection.QueryFirstOrDefaultAsync<LeaseHolder>(new CommandDefinition(HolderSql(home), new { Name = name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (holder is null)
            {
                // Released between the two statements: try again at once.
                continue;
            }

            // A lease longer than any run takes is not a run's: waiting for it would last until someone breaks it.
            if (DateTime.UtcNow >= deadline || holder.Implausible)
            {
                return (null, holder);
            }

            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            pause = TimeSpan.FromMilliseconds(Math.Min(1000, pause.TotalMilliseconds * 2));
        }
    }

    // False when the lease is held, or its row is locked by a batch being written (the lock wait ran out).
    private static async Task<bool> TryTakeAsync(NpgsqlConnection connection, string sql, object parameters, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await LockWait.SetAsync(connection, transaction, RowWait, cancellationToken).ConfigureAwait(false);
        try
        {
            var taken = await connection.ExecuteScalarAsync<bool?>(new CommandDefinition(sql, parameters, transaction, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return taken == true;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            return false;
        }
    }

    /// <summary>The holder of lease <paramref name="name"/>, or null when nobody holds it. Writes nothing.</summary>
    public static async Task<LeaseHolder?> ReadAsync(NpgsqlConnection connection, string name, string databaseDisplay, CancellationToken cancellationToken)
    {
        var home = await ModuleObjects.ReadAsync(connection, databaseDisplay, cancellationToken).ConfigureAwait(false);
        return await ModuleObjects.ReadRelationAsync(connection, null, home, Table, cancellationToken).ConfigureAwait(false) is null
            ? null
            : await connection.QueryFirstOrDefaultAsync<LeaseHolder>(new CommandDefinition(HolderSql(home), new { Name = name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes lease <paramref name="name"/>, if its holder is still <paramref name="expected"/> (the one the caller
    /// saw and confirmed) and no batch holds its row. Returns false when it changed hands or was released meanwhile.
    /// </summary>
    public static async Task<bool> BreakAsync(NpgsqlConnection connection, string name, LeaseHolder expected, string databaseDisplay, CancellationToken cancellationToken)
    {
        var home = await ModuleObjects.ReadAsync(connection, databaseDisplay, cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await LockWait.SetAsync(connection, transaction, RowWait, cancellationToken).ConfigureAwait(false);
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM {home.Qualify(Table)} WHERE name = @Name AND acquired_at = @AcquiredAt AND holder_process = @ProcessId AND holder_host = @Host",
            new { Name = name, expected.AcquiredAt, expected.ProcessId, expected.Host },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return deleted == 1;
    }

    /// <summary>
    /// Extends the lease inside <paramref name="transaction"/>, holding its row until that commits, and records the
    /// server session that renewed it. False when it is no longer this run's: it expired and another run took it.
    /// </summary>
    public async Task<bool> RenewAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE {_home.Qualify(Table)} SET expires_at = CURRENT_TIMESTAMP + @Duration,
                (holder_user, holder_application, holder_address, holder_server_pid, holder_backend_start) = (SELECT {ServerFacts})
            WHERE name = @Name AND token = @Token
            """,
            new { Name, Token, Duration },
            transaction,
            commandTimeout: 0,
            cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;

    /// <summary>Gives the lease up, if it is still this run's.</summary>
    public Task ReleaseAsync(NpgsqlConnection connection) =>
        connection.ExecuteAsync(new CommandDefinition($"DELETE FROM {_home.Qualify(Table)} WHERE name = @Name AND token = @Token", new { Name, Token }));
}

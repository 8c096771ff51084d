using Dapper;
using Npgsql;

namespace WorkflowTriggers.Engine.Common;

/// <summary>Who holds a lease: enough for an operator to find the run, also behind a pooler where server processes change.</summary>
public sealed record LeaseHolder(string User, string Application, string Host, int ProcessId, DateTime AcquiredAt, DateTime ExpiresAt);

/// <summary>
/// A named lease in the module's lease table: one run at a time of work that spans many transactions (a backfill).
/// Unlike a session advisory lock it needs no session of its own, so it holds behind a transaction-pooling PgBouncer;
/// and it expires, so a run that crashed cannot strand it. The holder renews it in each transaction it writes in, and
/// that renewal row-locks it: another run cannot take it while a batch is being written.
/// </summary>
internal sealed class Lease
{
    /// <summary>How long a lease outlives its last renewal: what a crashed run costs the next one at most.</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);

    public const string Table = "workflow_triggers_leases";

    private const string CreateSql = $"""
        CREATE TABLE IF NOT EXISTS {Table} (
            name TEXT PRIMARY KEY,
            token UUID NOT NULL,
            holder_user TEXT NOT NULL DEFAULT current_user,
            holder_application TEXT NOT NULL DEFAULT current_setting('application_name'),
            holder_host TEXT NOT NULL,
            holder_process INTEGER NOT NULL,
            acquired_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
            expires_at TIMESTAMP WITH TIME ZONE NOT NULL
        )
        """;

    // Taken only where the row is free or expired; ON CONFLICT waits for a renewing batch to commit, then looks again.
    private const string AcquireSql = $"""
        INSERT INTO {Table} AS l (name, token, holder_host, holder_process, expires_at)
        VALUES (@Name, @Token, @Host, @ProcessId, CURRENT_TIMESTAMP + @Duration)
        ON CONFLICT (name) DO UPDATE
            SET token = EXCLUDED.token, holder_user = EXCLUDED.holder_user, holder_application = EXCLUDED.holder_application,
                holder_host = EXCLUDED.holder_host, holder_process = EXCLUDED.holder_process,
                acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
            WHERE l.expires_at < CURRENT_TIMESTAMP
        RETURNING true
        """;

    private const string HolderSql = $"""
        SELECT holder_user AS User, holder_application AS Application, holder_host AS Host, holder_process AS ProcessId,
               acquired_at AS AcquiredAt, expires_at AS ExpiresAt
        FROM {Table} WHERE name = @Name
        """;

    private const string RenewSql = $"UPDATE {Table} SET expires_at = CURRENT_TIMESTAMP + @Duration WHERE name = @Name AND token = @Token";

    private const string ReleaseSql = $"DELETE FROM {Table} WHERE name = @Name AND token = @Token";

    private Lease(string name, Guid token)
    {
        Name = name;
        Token = token;
    }

    public string Name { get; }

    public Guid Token { get; }

    /// <summary>
    /// Takes the lease <paramref name="name"/> in a transaction of its own. Returns null with the holder when another
    /// run has it and <paramref name="wait"/> is false; with it, polls until the lease is free or has expired.
    /// </summary>
    public static async Task<(Lease? Lease, LeaseHolder? Holder)> AcquireAsync(NpgsqlConnection connection, string name, bool wait, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(connection, CreateSql, Table, cancellationToken).ConfigureAwait(false);
        var token = Guid.NewGuid();
        var parameters = new { Name = name, Token = token, Host = Environment.MachineName, Environment.ProcessId, Duration };
        var pause = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var taken = await connection.ExecuteScalarAsync<bool?>(new CommandDefinition(AcquireSql, parameters, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (taken == true)
            {
                return (new Lease(name, token), null);
            }

            if (!wait)
            {
                var holder = await connection.QueryFirstOrDefaultAsync<LeaseHolder>(new CommandDefinition(HolderSql, new { Name = name }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (holder is not null)
                {
                    return (null, holder);
                }

                // Released between the two statements: try again at once.
                continue;
            }

            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            pause = TimeSpan.FromMilliseconds(Math.Min(1000, pause.TotalMilliseconds * 2));
        }
    }

    /// <summary>
    /// Extends the lease inside <paramref name="transaction"/>, holding its row until that commits. False when it is
    /// no longer this run's: it expired and another run took it.
    /// </summary>
    public async Task<bool> RenewAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        await connection.ExecuteAsync(new CommandDefinition(RenewSql, new { Name, Token, Duration }, transaction, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false) == 1;

    /// <summary>Gives the lease up, if it is still this run's.</summary>
    public Task ReleaseAsync(NpgsqlConnection connection) =>
        connection.ExecuteAsync(new CommandDefinition(ReleaseSql, new { Name, Token }));

    /// <summary>
    /// Creates one of the module's own small tables where it is missing. The transaction-scoped lock keeps two first
    /// runs from racing on CREATE TABLE IF NOT EXISTS, and is released at commit, also behind a pooler.
    /// </summary>
    internal static async Task EnsureTableAsync(NpgsqlConnection connection, string createSql, string table, CancellationToken cancellationToken)
    {
        if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT to_regclass(@Table) IS NOT NULL", new { Table = table }, cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            return;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition($"SELECT pg_advisory_xact_lock({LockKeys.Schema})", transaction: transaction, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(createSql, transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

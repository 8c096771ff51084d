using System.Globalization;
using Dapper;
using Npgsql;

namespace WorkflowTriggers.Engine.Common;

/// <summary>A session that held locks on the module's or the engine's tables when a statement of ours gave up waiting.</summary>
/// <remarks>
/// A user who is not a superuser or a member of pg_read_all_stats sees another user's session without its state,
/// transaction start, client or statement: <see cref="TransactionSeconds"/> is then null, and the holder still named.
/// </remarks>
public sealed record LockHolder(int Pid, string? UserName, string? Application, string? Client, string? State, int? TransactionSeconds, string? Query, string Tables)
{
    public override string ToString()
    {
        var who = new[]
        {
            string.IsNullOrEmpty(UserName) ? null : $"user {UserName}",
            string.IsNullOrEmpty(Application) ? null : $"application '{Application}'",
            string.IsNullOrEmpty(Client) ? null : $"client {Client}",
            TransactionSeconds is { } seconds
                ? $"{State ?? "in a transaction"} for {seconds} s, locking {Tables}"
                : $"in a transaction, locking {Tables}; the server shows this user no more of it (a member of pg_read_all_stats sees it all)",
            string.IsNullOrWhiteSpace(Query) ? null : $"last statement: {Query}",
        };
        return $"server process {Pid} ({string.Join(", ", who.Where(w => w is not null))})";
    }
}

/// <summary>
/// Bounded lock waits, in one place: how a transaction sets its lock timeout (transaction-scoped, so it never stays
/// on a pooled session or reaches another client behind a pooler), and what the server can tell about who held the
/// locks when a wait ran out.
/// </summary>
public static class LockWait
{
    private const string HoldersSql = """
        SELECT a.pid AS Pid, a.usename AS UserName, nullif(a.application_name, '') AS Application, host(a.client_addr) AS Client,
               a.state AS State, floor(extract(epoch FROM clock_timestamp() - a.xact_start))::int AS TransactionSeconds,
               CASE WHEN a.xact_start IS NOT NULL THEN left(regexp_replace(a.query, '\s+', ' ', 'g'), 160) END AS Query,
               string_agg(DISTINCT c.relname, ', ' ORDER BY c.relname) AS Tables
        FROM pg_locks l
        JOIN pg_class c ON c.oid = l.relation
        JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND c.relname LIKE 'workflow%' AND a.pid <> pg_backend_pid()
        GROUP BY a.pid, a.usename, a.application_name, a.client_addr, a.state, a.xact_start, a.query
        ORDER BY a.xact_start NULLS LAST
        LIMIT 3
        """;

    /// <summary>A timeout as set_config takes it: whole milliseconds, as text.</summary>
    internal static string Milliseconds(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>Sets the lock timeout for the rest of <paramref name="transaction"/> only.</summary>
    public static Task SetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, TimeSpan lockTimeout, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "SELECT set_config('lock_timeout', @LockTimeout, true)",
            new { LockTimeout = Milliseconds(lockTimeout) },
            transaction,
            cancellationToken: cancellationToken));

    /// <summary>
    /// A timed-out statement, worded with how long it waited and, asked on a fresh connection, the sessions in open
    /// transactions that hold locks on the module's and the engine's tables (oldest first): the likely holders. The
    /// error stands as it was when the server cannot be asked.
    /// </summary>
    internal static async Task<TriggerEngineException> ExplainAsync(
        TriggerEngineException timedOut, TimeSpan waited, int commandTimeoutSeconds, string databaseDisplay, Func<CancellationToken, ValueTask<NpgsqlConnection>> open, CancellationToken cancellationToken)
    {
        var lockTimedOut = timedOut.SqlState == PostgresErrorCodes.LockNotAvailable;
        if (!lockTimedOut && timedOut.SqlState is not null)
        {
            // A statement timeout or another server-side cancel: not a lock wait.
            return timedOut;
        }

        IReadOnlyList<LockHolder> holders;
        try
        {
            await using var connection = await open(cancellationToken).ConfigureAwait(false);
            holders = (await connection.QueryAsync<LockHolder>(new CommandDefinition(HoldersSql, commandTimeout: 10, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return timedOut;
        }

        if (!lockTimedOut && holders.Count == 0)
        {
            return timedOut;
        }

        // The server's lock timeout is reported after about as long as the work ran; the client's is its setting.
        var what = lockTimedOut
            ? $"Waited {Math.Max(1, (int)Math.Round(waited.TotalSeconds))} s for a lock in {databaseDisplay} and stopped at the lock timeout"
            : $"No answer from {databaseDisplay} within {commandTimeoutSeconds} s (the command timeout), so the statement was cancelled; it was most likely waiting for a lock";
        var who = holders.Count == 0
            ? " No session holds a lock on the workflow tables any more."
            : $" Held by {string.Join("; ", holders)}.";
        return new TriggerEngineException(
            TriggerErrorKind.Timeout,
            $"{what}; its transaction was rolled back, so nothing of it was written.{who}",
            timedOut.SqlState,
            timedOut.InnerException ?? timedOut)
        {
            ErrorId = "LockTimeout",
            LockHolders = holders,
        };
    }
}

using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers.Engine.History;

/// <summary>Whether change history is on, and what it holds.</summary>
public sealed record HistoryStatus(bool Enabled, string? Version, int? RetentionDays, DateTime? EnabledAt, string? EnabledBy, long Entries, long SizeBytes, DateTime? OldestEntry)
{
    /// <summary>The role that owns history's objects (its recording function runs as that role).</summary>
    public string? Owner { get; init; }

    /// <summary>The latest moment whose entries a clean-up removed: states before it cannot be told.</summary>
    public DateTime? ClearedBefore { get; init; }

    /// <summary>
    /// What differs from the objects the module made: a recording trigger missing, disabled or calling something
    /// else, the function's owner, body or search_path changed, a history table with another owner or someone's
    /// trigger on it. Empty when history is exactly the module's.
    /// </summary>
    public IReadOnlyList<string> Tampering { get; init; } = Array.Empty<string>();

    /// <summary>False when this user may not read history's tables: then only what the catalogs tell is known.</summary>
    public bool Readable { get; init; } = true;
}

/// <summary>
/// The opt-in change history of workflow_triggers: a module-owned table fed by statement-level database triggers
/// with transition tables, so every client's changes (the engine's application, psql, this module) are recorded,
/// and a write of 100,000 rows costs one trigger call per statement, not 100,000. Turning it on or off is one
/// transaction under the schema's transaction-scoped advisory lock: idempotent, safe to run twice at once, and safe
/// behind a transaction pooler. An object of history's names that is not exactly the module's is never adopted.
/// </summary>
public sealed partial class ChangeHistory
{
    /// <summary>The version of the history objects this module creates.</summary>
    public const string Version = "2";

    public const string Table = "workflow_triggers_history";

    public const string SettingsTable = "workflow_triggers_history_settings";

    /// <summary>The transaction-local setting a write's reason travels in, read by the history trigger function.</summary>
    public const string ReasonSetting = "workflow_triggers.reason";

    private readonly TriggerConnection _connection;

    public ChangeHistory(TriggerConnection connection) => _connection = connection;

    public Task<HistoryStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        _connection.ReadAsync(c => StatusAsync(c, null, cancellationToken), cancellationToken);

    /// <summary>
    /// Creates the history table, its settings row, the trigger function and the three statement-level triggers
    /// where missing, and sets the retention (kept as it is when null). Existing history is kept, if it is the module's.
    /// </summary>
    public Task<HistoryStatus> EnableAsync(int? retentionDays, CancellationToken cancellationToken) =>
        _connection.InTransactionAsync(
            async (c, t) =>
            {
                await LockAsync(c, t, cancellationToken).ConfigureAwait(false);
                var home = await ModuleObjects.ReadAsync(c, _connection.ToString(), cancellationToken, t).ConfigureAwait(false);
                await AsOwnerAsync(
                    c,
                    t,
                    home,
                    async found =>
                    {
                        await BuildAsync(c, t, home, found, cancellationToken).ConfigureAwait(false);
                        // The module's roles, where they were set up, get their rights on history's tables.
                        await Security.TriggerRoles.GrantAsync(c, t, home, Security.TriggerRoles.DefaultPrefix, createRoles: false, apply: true, cancellationToken).ConfigureAwait(false);
                    },
                    cancellationToken).ConfigureAwait(false);
                await c.ExecuteAsync(new CommandDefinition(
                    $"""
                    INSERT INTO {home.Qualify(SettingsTable)} AS s (version, retention_days) VALUES (@Version, @RetentionDays)
                    ON CONFLICT (id) DO UPDATE SET version = excluded.version, retention_days = coalesce(@RetentionDays, s.retention_days)
                    """,
                    new { Version, RetentionDays = retentionDays },
                    t,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
                return await StatusAsync(c, t, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken,
            lockTimeout: TimeSpan.FromSeconds(30));

    /// <summary>Drops the triggers, the function and both tables: the history is gone, the triggers are untouched.</summary>
    public Task<HistoryStatus> DisableAsync(CancellationToken cancellationToken) =>
        _connection.InTransactionAsync(
            async (c, t) =>
            {
                await LockAsync(c, t, cancellationToken).ConfigureAwait(false);
                var home = await ModuleObjects.ReadAsync(c, _connection.ToString(), cancellationToken, t).ConfigureAwait(false);
                await AsOwnerAsync(
                    c,
                    t,
                    home,
                    _ => c.ExecuteAsync(new CommandDefinition(
                        DropFunctionSql(home) + $"DROP TABLE IF EXISTS {home.Qualify(Table)};\nDROP TABLE IF EXISTS {home.Qualify(SettingsTable)};",
                        transaction: t,
                        cancellationToken: cancellationToken)),
                    cancellationToken).ConfigureAwait(false);
                return await StatusAsync(c, t, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken,
            lockTimeout: TimeSpan.FromSeconds(30));

    /// <summary>The cut-off a clear without a date uses: the retention's days before now. Null when no retention is set.</summary>
    public static DateTime? RetentionCutoff(HistoryStatus status, DateTime utcNow) =>
        status.RetentionDays is { } days ? utcNow.AddDays(-days) : null;

    /// <summary>
    /// Deletes the entries recorded before <paramref name="before"/>, oldest first, in transactions of
    /// <paramref name="batchSize"/> entries so a large clean-up holds no long lock; yields each committed batch's count.
    /// Each batch also records how far history now reaches back, so no state before that is put back from what is left.
    /// </summary>
    public async IAsyncEnumerable<int> ClearAsync(DateTime before, int batchSize, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var deleted = await _connection.InTransactionAsync(
                async (c, t) =>
                {
                    var home = await RequireOnAsync(c, _connection.ToString(), cancellationToken, t).ConfigureAwait(false);
                    var sql = $"""
                        WITH gone AS (
                            DELETE FROM {home.Qualify(Table)} WHERE id IN (SELECT id FROM {home.Qualify(Table)} WHERE changed_at < @Before ORDER BY changed_at, id LIMIT @BatchSize)
                            RETURNING changed_at
                        ), cut AS (
                            UPDATE {home.Qualify(SettingsTable)} SET cleared_before = greatest(cleared_before, (SELECT max(changed_at) FROM gone))
                            WHERE EXISTS (SELECT 1 FROM gone)
                        )
                        SELECT count(*)::int FROM gone
                        """;
                    return await c.ExecuteScalarAsync<int>(new CommandDefinition(sql, new { Before = before.ToUniversalTime(), BatchSize = batchSize }, t, cancellationToken: cancellationToken)).ConfigureAwait(false);
                },
                cancellationToken,
                lockTimeout: TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            if (deleted == 0)
            {
                yield break;
            }

            yield return deleted;
        }
    }

    /// <summary>
    /// Makes the recording function again for the table's columns as they are now, when history is on: the schema
    /// steps call it in their own transaction, so a column added or dropped is recorded from the same commit on, and
    /// no write ever meets a function that names a column the table no longer has.
    /// </summary>
    internal static async Task RefreshIfOnAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (await ModuleHome.ReadAsync(connection, transaction, cancellationToken).ConfigureAwait(false) is { } home
            && await ModuleObjects.ReadRelationAsync(connection, transaction, home, SettingsTable, cancellationToken).ConfigureAwait(false) is not null)
        {
            await AsOwnerAsync(connection, transaction, home, found => BuildAsync(connection, transaction, home, found, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The module's home when change history is on there; MissingTable naming the history table when it is not: the
    /// one check its readers share, and the names they read through.
    /// </summary>
    internal static async Task<ModuleHome> RequireOnAsync(NpgsqlConnection connection, string databaseDisplay, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        var home = await ModuleHome.ReadAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        if (home is null || !await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT to_regclass(@Table) IS NOT NULL AND to_regclass(@Settings) IS NOT NULL",
                new { Table = home.Qualify(Table), Settings = home.Qualify(SettingsTable) },
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            throw TriggerEngineException.MissingTable(Table, databaseDisplay, "Change history is not on in this database.");
        }

        return home;
    }

    private static Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition($"SELECT pg_advisory_xact_lock({LockKeys.Schema})", transaction: transaction, commandTimeout: 0, cancellationToken: cancellationToken));

    /// <summary>
    /// Runs <paramref name="work"/> as the one role history's objects belong to: this user where there are none yet
    /// or they are its own, or the table's owner where they are that role's and this user may act as it (a superuser
    /// upgrading the schema of history the table's owner turned on). Objects of any other owner, of two owners, or
    /// not exactly the module's stop the work with an error that names them.
    /// </summary>
    private static async Task AsOwnerAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ModuleHome home, Func<HistoryObjects, Task> work, CancellationToken cancellationToken)
    {
        var found = await ReadObjectsAsync(connection, transaction, home, cancellationToken).ConfigureAwait(false);
        var owned = found.Owned().ToList();
        var owner = owned.Count > 0 && owned.All(o => o.Owner == home.TableOwner) && home.MayActAsTableOwner ? home.TableOwner : home.CurrentUser;
        foreach (var stranger in owned.Where(o => o.Owner != owner).Take(1))
        {
            throw ModuleObjects.Foreign(home, stranger.Kind, stranger.Name, stranger.Owner, new[]
            {
                $"change history's objects must all belong to the role its SECURITY DEFINER function runs as, here {owner}",
            });
        }

        foreach (var (table, facts) in new[] { (HistoryTable, found.History), (SettingsTableDefinition, found.Settings) })
        {
            if (facts is not null && ModuleObjects.Problems(facts, table, f => f.Owner == owner) is { Count: > 0 } problems)
            {
                throw ModuleObjects.Foreign(home, "table", table.Name, facts.Owner, problems);
            }
        }

        var switchRole = owner != home.CurrentUser;
        if (switchRole)
        {
            await SetRoleAsync(connection, transaction, owner, cancellationToken).ConfigureAwait(false);
        }

        await work(found).ConfigureAwait(false);
        if (switchRole)
        {
            await SetRoleAsync(connection, transaction, home.CurrentUser, cancellationToken).ConfigureAwait(false);
        }
    }

    // For the rest of the transaction only: SET LOCAL ROLE, with the role as a parameter.
    private static Task SetRoleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string role, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("SELECT set_config('role', @Role, true)", new { Role = role }, transaction, cancellationToken: cancellationToken));
}

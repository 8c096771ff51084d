using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers.Engine.History;

/// <summary>Whether change history is on, and what it holds.</summary>
public sealed record HistoryStatus(bool Enabled, string? Version, int? RetentionDays, DateTime? EnabledAt, string? EnabledBy, long Entries, long SizeBytes, DateTime? OldestEntry);

/// <summary>
/// The opt-in change history of workflow_triggers: a module-owned table fed by statement-level database triggers
/// with transition tables, so every client's changes (the engine's application, psql, this module) are recorded,
/// and a write of 100,000 rows costs one trigger call per statement, not 100,000. Turning it on or off is one
/// transaction under the schema's transaction-scoped advisory lock: idempotent, safe to run twice at once, and safe
/// behind a transaction pooler. Nothing of it is needed by the cmdlets that do not read history.
/// </summary>
public sealed class ChangeHistory
{
    /// <summary>The version of the history objects this module creates.</summary>
    public const string Version = "1";

    public const string Table = "workflow_triggers_history";

    public const string SettingsTable = "workflow_triggers_history_settings";

    /// <summary>The transaction-local setting a write's reason travels in, read by the history trigger function.</summary>
    public const string ReasonSetting = "workflow_triggers.reason";

    private const string Function = "workflow_triggers_history_record";

    private readonly TriggerConnection _connection;

    public ChangeHistory(TriggerConnection connection) => _connection = connection;

    public Task<HistoryStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        _connection.ReadAsync(c => StatusAsync(c, null, cancellationToken), cancellationToken);

    /// <summary>
    /// Creates the history table, its settings row, the trigger function and the three statement-level triggers
    /// where missing, and sets the retention (kept as it is when null). Existing history is kept.
    /// </summary>
    public Task<HistoryStatus> EnableAsync(int? retentionDays, CancellationToken cancellationToken) =>
        _connection.InTransactionAsync(
            async (c, t) =>
            {
                await LockAsync(c, t, cancellationToken).ConfigureAwait(false);
                if (!await CreateAsync(c, t, cancellationToken).ConfigureAwait(false))
                {
                    throw TriggerEngineException.MissingTable("workflow_triggers", _connection.ToString(), "Change history records its changes.");
                }

                await c.ExecuteAsync(new CommandDefinition(
                    $"""
                    INSERT INTO {SettingsTable} (version, retention_days) VALUES (@Version, @RetentionDays)
                    ON CONFLICT (id) DO UPDATE SET version = excluded.version, retention_days = coalesce(@RetentionDays, {SettingsTable}.retention_days)
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
                await c.ExecuteAsync(new CommandDefinition(DropSql, transaction: t, cancellationToken: cancellationToken)).ConfigureAwait(false);
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
    /// </summary>
    public async IAsyncEnumerable<int> ClearAsync(DateTime before, int batchSize, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        const string sql = $"DELETE FROM {Table} WHERE id IN (SELECT id FROM {Table} WHERE changed_at < @Before ORDER BY changed_at, id LIMIT @BatchSize)";
        while (true)
        {
            var deleted = await _connection.InTransactionAsync(
                (c, t) => c.ExecuteAsync(new CommandDefinition(sql, new { Before = before.ToUniversalTime(), BatchSize = batchSize }, t, cancellationToken: cancellationToken)),
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
        if (await connection.ExecuteScalarAsync<bool>(new CommandDefinition($"SELECT to_regclass('{SettingsTable}') IS NOT NULL", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            await CreateAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        }
    }

    // The objects, for the columns workflow_triggers has now; false when there is no such table.
    private static async Task<bool> CreateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var table = await connection.QueryFirstOrDefaultAsync<(string? Schema, string[]? Columns)>(new CommandDefinition(
            """
            SELECT quote_ident(n.nspname), array(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped)
            FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = to_regclass('workflow_triggers')
            """,
            transaction: transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (table.Schema is null)
        {
            return false;
        }

        // The schema name is the server's own quoting of a catalog name; the columns come from a fixed list.
        var recorded = RecordedColumns.Where(table.Columns!.Contains).ToList();
        await connection.ExecuteAsync(new CommandDefinition(CreateSql(table.Schema, recorded), transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return true;
    }

    /// <summary>Stops with MissingTable naming the history table when change history is not on: the one check its readers share.</summary>
    internal static async Task RequireOnAsync(NpgsqlConnection connection, string databaseDisplay, CancellationToken cancellationToken)
    {
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                $"SELECT to_regclass('{Table}') IS NOT NULL AND to_regclass('{SettingsTable}') IS NOT NULL", cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            throw TriggerEngineException.MissingTable(Table, databaseDisplay, "Change history is not on in this database.");
        }
    }

    private static Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition($"SELECT pg_advisory_xact_lock({LockKeys.Schema})", transaction: transaction, commandTimeout: 0, cancellationToken: cancellationToken));

    private static async Task<HistoryStatus> StatusAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"SELECT to_regclass('{SettingsTable}') IS NOT NULL AND to_regclass('{Table}') IS NOT NULL", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (!exists)
        {
            return new HistoryStatus(false, null, null, null, null, 0, 0, null);
        }

        // The entry count is the planner's estimate once the table is large: exact counts of millions cost seconds.
        return await connection.QuerySingleAsync<HistoryStatus>(new CommandDefinition(
            $"""
            SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass('workflow_triggers') AND tgname = 'workflow_triggers_history_update') AS Enabled,
                   s.version AS Version, s.retention_days AS RetentionDays, s.enabled_at AS EnabledAt, s.enabled_by AS EnabledBy,
                   CASE WHEN c.reltuples > 100000 THEN c.reltuples::bigint ELSE (SELECT count(*) FROM {Table}) END AS Entries,
                   pg_total_relation_size(c.oid) AS SizeBytes,
                   (SELECT min(changed_at) FROM {Table}) AS OldestEntry
            FROM {SettingsTable} s, pg_class c
            WHERE c.oid = to_regclass('{Table}')
            """,
            transaction: transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>The columns an update's entry records, old and new, when they change (updated_at and id never do on their own).</summary>
    private static readonly string[] RecordedColumns = { "name", "description", "workflow_id", "source", "event_type", "target_node_id", "is_active", "config" };

    // Only what changed, as {"column": value}: one small object per side, built from constants where nothing changed.
    private static string Changed(IReadOnlyList<string> columns, string side) => string.Join(
        "\n                      || ",
        columns.Select(c => $"(CASE WHEN o.{c} IS DISTINCT FROM n.{c} THEN jsonb_build_object('{c}', {side}.{c}) ELSE '{{}}'::jsonb END)"));

    private static string CreateSql(string schema, IReadOnlyList<string> columns) => $$"""
        CREATE TABLE IF NOT EXISTS {{Table}} (
            id BIGSERIAL PRIMARY KEY,
            changed_at TIMESTAMPTZ NOT NULL DEFAULT statement_timestamp(),
            operation TEXT NOT NULL CHECK (operation IN ('Insert', 'Update', 'Delete')),
            trigger_id INTEGER NOT NULL,
            trigger_name TEXT,
            workflow_id TEXT,
            database_user TEXT NOT NULL DEFAULT session_user,
            application_name TEXT DEFAULT nullif(current_setting('application_name', true), ''),
            client_addr INET DEFAULT inet_client_addr(),
            transaction_id BIGINT NOT NULL DEFAULT txid_current(),
            reason TEXT DEFAULT nullif(current_setting('{{ReasonSetting}}', true), ''),
            old_row JSONB,
            new_row JSONB
        );
        CREATE INDEX IF NOT EXISTS idx_workflow_triggers_history_trigger ON {{Table}} (trigger_id, changed_at);
        CREATE INDEX IF NOT EXISTS idx_workflow_triggers_history_changed_at ON {{Table}} (changed_at);
        CREATE TABLE IF NOT EXISTS {{SettingsTable}} (
            id BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
            version TEXT NOT NULL,
            retention_days INTEGER CHECK (retention_days > 0),
            enabled_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            enabled_by TEXT NOT NULL DEFAULT session_user
        );
        -- SECURITY DEFINER: the engine's application records its changes without a privilege on the history table;
        -- session_user still names who made the change. The fixed search_path keeps the function to its own schema.
        CREATE OR REPLACE FUNCTION {{schema}}.{{Function}}() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
        DECLARE
            -- Once per statement, not per row.
            at TIMESTAMPTZ := statement_timestamp();
            who TEXT := session_user;
            app TEXT := nullif(current_setting('application_name', true), '');
            client INET := inet_client_addr();
            xid BIGINT := txid_current();
            why TEXT := nullif(current_setting('{{ReasonSetting}}', true), '');
        BEGIN
            IF TG_OP = 'INSERT' THEN
                -- The new row is the trigger itself, and each later change records its old values: who, when and why suffice.
                INSERT INTO {{schema}}.{{Table}} (changed_at, operation, trigger_id, trigger_name, workflow_id, database_user, application_name, client_addr, transaction_id, reason)
                SELECT at, 'Insert', n.id, n.name, n.workflow_id, who, app, client, xid, why FROM new_rows n;
            ELSIF TG_OP = 'UPDATE' THEN
                -- The changed columns only, old and new; a row rewritten with its own values records nothing.
                INSERT INTO {{schema}}.{{Table}} (changed_at, operation, trigger_id, trigger_name, workflow_id, database_user, application_name, client_addr, transaction_id, reason, old_row, new_row)
                SELECT at, 'Update', n.id, n.name, n.workflow_id, who, app, client, xid, why,
                       {{Changed(columns, "o")}},
                       {{Changed(columns, "n")}}
                FROM new_rows n JOIN old_rows o ON o.id = n.id
                WHERE {{string.Join(" OR ", columns.Select(c => $"o.{c} IS DISTINCT FROM n.{c}"))}};
            ELSE
                -- The whole row: what puts a deleted trigger back.
                INSERT INTO {{schema}}.{{Table}} (changed_at, operation, trigger_id, trigger_name, workflow_id, database_user, application_name, client_addr, transaction_id, reason, old_row)
                SELECT at, 'Delete', o.id, o.name, o.workflow_id, who, app, client, xid, why, to_jsonb(o) FROM old_rows o;
            END IF;
            RETURN NULL;
        END
        $body$;
        CREATE OR REPLACE TRIGGER workflow_triggers_history_insert AFTER INSERT ON {{schema}}.workflow_triggers
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.{{Function}}();
        CREATE OR REPLACE TRIGGER workflow_triggers_history_update AFTER UPDATE ON {{schema}}.workflow_triggers
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.{{Function}}();
        CREATE OR REPLACE TRIGGER workflow_triggers_history_delete AFTER DELETE ON {{schema}}.workflow_triggers
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.{{Function}}();
        """;

    private const string DropSql = $"""
        DROP TRIGGER IF EXISTS workflow_triggers_history_insert ON workflow_triggers;
        DROP TRIGGER IF EXISTS workflow_triggers_history_update ON workflow_triggers;
        DROP TRIGGER IF EXISTS workflow_triggers_history_delete ON workflow_triggers;
        DROP FUNCTION IF EXISTS {Function}();
        DROP TABLE IF EXISTS {Table};
        DROP TABLE IF EXISTS {SettingsTable};
        """;
}

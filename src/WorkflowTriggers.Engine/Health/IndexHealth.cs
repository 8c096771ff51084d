using System.Diagnostics;
using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers.Engine.Health;

/// <summary>
/// The document's index health check and index maintenance, for the indexes of workflow_triggers in the
/// connection's schema. The health check only reads the catalogs and the statistics views.
/// </summary>
public sealed class IndexHealth
{
    public const int DefaultLowUsageThreshold = 100;

    /// <summary>Statistics younger than this say little about "unused".</summary>
    public static readonly TimeSpan MeaningfulStatisticsAge = TimeSpan.FromDays(7);

    private const string IndexesSql = """
        SELECT c.relname AS Name, n.nspname AS Schema, am.amname AS Method,
               format('%I.%I', n.nspname, c.relname) AS QualifiedName,
               pg_get_indexdef(i.indexrelid) AS Definition,
               pg_get_expr(i.indpred, i.indrelid) AS Predicate,
               i.indexprs IS NOT NULL AS HasExpressions,
               i.indisunique AS IsUnique, i.indisprimary AS IsPrimary, i.indisvalid AS IsValid,
               EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x')) AS BacksConstraint,
               coalesce(s.idx_scan, 0) AS Scans, coalesce(s.idx_tup_read, 0) AS TuplesRead, coalesce(s.idx_tup_fetch, 0) AS TuplesFetched,
               pg_relation_size(i.indexrelid) AS SizeBytes, pg_size_pretty(pg_relation_size(i.indexrelid)) AS Size,
               ARRAY(SELECT pg_get_indexdef(i.indexrelid, k + 1, true) FROM generate_series(0, i.indnkeyatts - 1) k ORDER BY k) AS KeyColumns,
               ARRAY(SELECT pg_get_indexdef(i.indexrelid, k + 1, true) FROM generate_series(i.indnkeyatts, i.indnatts - 1) k ORDER BY k) AS IncludeColumns,
               ARRAY(SELECT att.attname::text FROM unnest(i.indkey) a JOIN pg_attribute att ON att.attrelid = i.indrelid AND att.attnum = a
                     WHERE att.atttypid IN ('jsonb'::regtype, 'json'::regtype)) AS JsonColumns,
               format('%I.%I', n.nspname, t.relname) AS TableName, quote_ident(c.relname) AS QuotedName,
               quote_ident(left(c.relname, 55) || '_rebuilt') AS RebuiltName,
               format('%I.%I', n.nspname, left(c.relname, 55) || '_rebuilt') AS QualifiedRebuiltName,
               (SELECT coalesce(d.stats_reset, pg_postmaster_start_time()) FROM pg_stat_database d WHERE d.datname = current_database()) AS StatsSince
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_am am ON am.oid = c.relam
        JOIN pg_class t ON t.oid = i.indrelid
        LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = i.indexrelid
        WHERE i.indrelid = to_regclass('workflow_triggers')
        ORDER BY c.relname
        """;

    private readonly TriggerConnection _connection;

    public IndexHealth(TriggerConnection connection) => _connection = connection;

    /// <summary>Every index of workflow_triggers with usage, duplicates, overlaps and a recommendation. Reads only.</summary>
    public async Task<IReadOnlyList<TriggerIndexHealth>> GetAsync(int lowUsageThreshold, CancellationToken cancellationToken, TimeSpan? lockTimeout = null)
    {
        var rows = await _connection.ReadAsync(
            async c =>
            {
                await RequireTableAsync(c, cancellationToken).ConfigureAwait(false);
                return await c.QueryAsync<TriggerIndexHealth>(new CommandDefinition(IndexesSql, cancellationToken: cancellationToken)).ConfigureAwait(false);
            },
            cancellationToken,
            lockTimeout).ConfigureAwait(false);
        return Assess(rows.ToList(), lowUsageThreshold, DateTime.UtcNow);
    }

    /// <summary>Duplicates, overlaps and recommendations, from the indexes alone (no database needed).</summary>
    internal static IReadOnlyList<TriggerIndexHealth> Assess(List<TriggerIndexHealth> indexes, int lowUsageThreshold, DateTime now)
    {
        foreach (var index in indexes)
        {
            // Constraint indexes do their work on every write, scanned or not: never "unused".
            index.UsageStatus = index.Scans == 0 && !(index.IsPrimary || index.IsUnique) ? IndexUsageStatus.UNUSED
                : index.Scans < lowUsageThreshold ? IndexUsageStatus.LOW_USAGE
                : IndexUsageStatus.ACTIVE;
            var twins = indexes.Where(o => o != index && o.Signature == index.Signature).ToList();
            index.DuplicateOf = twins.Select(o => o.Name).FirstOrDefault();
            index.OverlappedBy = index.Method != "btree" || index.HasExpressions || index.IsUnique
                ? Array.Empty<string>()
                : indexes.Where(o => o != index && o.Method == "btree" && !o.HasExpressions && o.Predicate == index.Predicate
                                     && o.Signature != index.Signature && o.KeyColumns.Length > index.KeyColumns.Length
                                     && o.KeyColumns.Take(index.KeyColumns.Length).SequenceEqual(index.KeyColumns))
                    .Select(o => o.Name).ToArray();
        }

        foreach (var index in indexes)
        {
            index.Recommendation = Recommend(index, indexes, now);
        }

        return indexes;
    }

    private static string Recommend(TriggerIndexHealth index, List<TriggerIndexHealth> all, DateTime now)
    {
        if (!index.IsValid)
        {
            return index.Name.Contains("_ccnew", StringComparison.Ordinal) || index.Name.Contains("_ccold", StringComparison.Ordinal)
                ? $"-- Left behind by a failed REINDEX CONCURRENTLY; it slows every write and serves no query.\nDROP INDEX CONCURRENTLY {index.QualifiedName};"
                : $"-- Invalid (a failed concurrent build): it slows every write and serves no query. Rebuild it:\nREINDEX INDEX CONCURRENTLY {index.QualifiedName};";
        }

        if (index.DuplicateOf is not null && !index.BacksConstraint)
        {
            // Of a set of identical indexes keep one: one a constraint needs, else the most used, else the first by name.
            var keep = all.Where(o => o.Signature == index.Signature && o.IsValid)
                .OrderByDescending(o => o.BacksConstraint).ThenByDescending(o => o.Scans).ThenBy(o => o.Name, StringComparer.Ordinal)
                .First();
            return keep == index
                ? $"-- Keep: the other copies of this index can be dropped."
                : $"-- Exact duplicate of {keep.Name}: every write maintains both, queries use one.\nDROP INDEX CONCURRENTLY {index.QualifiedName};";
        }

        if (index.OverlappedBy.Count > 0 && !index.BacksConstraint)
        {
            return $"-- Its columns lead {string.Join(", ", index.OverlappedBy)} (same predicate), which can serve the same look-ups. "
                   + "If this index's scans do not matter more than the write cost:\n"
                   + $"DROP INDEX CONCURRENTLY {index.QualifiedName};";
        }

        if (index.Method == "btree" && index.JsonColumns.Length > 0)
        {
            const string why = "-- A b-tree index row holds at most about 2.7 KB, so with a JSON column in it a row whose JSON is larger cannot be written";
            var jsonIncluded = index.IncludeColumns.Where(c => index.JsonColumns.Contains(c)).ToArray();
            if (jsonIncluded.Length == index.JsonColumns.Length)
            {
                // Only in INCLUDE: the same index without it keeps the look-ups and lifts the limit.
                var include = index.IncludeColumns.Except(jsonIncluded).ToArray();
                return $"{why} ({string.Join(", ", jsonIncluded)} in INCLUDE). Rebuild it without:\n"
                       + $"CREATE INDEX CONCURRENTLY {index.RebuiltName} ON {index.TableName} USING btree ({string.Join(", ", index.KeyColumns)})"
                       + (include.Length > 0 ? $" INCLUDE ({string.Join(", ", include)})" : string.Empty)
                       + (index.Predicate is null ? string.Empty : $" WHERE {index.Predicate}") + ";\n"
                       + $"DROP INDEX CONCURRENTLY {index.QualifiedName};\n"
                       + $"ALTER INDEX {index.QualifiedRebuiltName} RENAME TO {index.QuotedName};";
            }

            return $"{why}. JSON is better served by a GIN index; consider:\nDROP INDEX CONCURRENTLY {index.QualifiedName};";
        }

        if (index.UsageStatus == IndexUsageStatus.UNUSED && !index.BacksConstraint)
        {
            return now - index.StatsSince < MeaningfulStatisticsAge
                ? $"-- No scans, but the statistics only go back to {index.StatsSince:u}: look again after a full business cycle."
                : $"-- No scans since {index.StatsSince:u}: if that spans a full business cycle, it only costs writes.\nDROP INDEX CONCURRENTLY {index.QualifiedName};";
        }

        return string.Empty;
    }

    /// <summary>
    /// The table's indexes by name, with their server-quoted qualified names and sizes. Reading a size takes a lock
    /// on the index, so a table another session has locked makes this wait, at most <paramref name="lockTimeout"/>.
    /// </summary>
    public async Task<IReadOnlyList<(string Name, string QualifiedName, long SizeBytes)>> ListAsync(TimeSpan lockTimeout, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT c.relname, format('%I.%I', n.nspname, c.relname), pg_relation_size(i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE i.indrelid = to_regclass('workflow_triggers')
            ORDER BY c.relname
            """;
        return await _connection.ReadAsync(
            async c =>
            {
                await RequireTableAsync(c, cancellationToken).ConfigureAwait(false);
                var rows = await c.QueryAsync<(string, string, long)>(new CommandDefinition(sql, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return (IReadOnlyList<(string, string, long)>)rows.ToList();
            },
            cancellationToken,
            lockTimeout).ConfigureAwait(false);
    }

    /// <summary>
    /// REINDEX INDEX CONCURRENTLY, outside any transaction (it cannot run in one), with the lock timeout set on its
    /// session and reset afterwards. <paramref name="qualifiedName"/> must come from <see cref="ListAsync"/>: it is
    /// the server's own quoting of a catalog name, never the caller's text. Behind a connection pooler the setting and
    /// the statement could run on different server sessions (and the setting stay behind for another client), so
    /// there it fails with SessionRequired before sending either.
    /// </summary>
    public async Task<IndexMaintenanceResult> ReindexAsync(string name, string qualifiedName, TimeSpan lockTimeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        return await _connection.RunAsync(
            async c =>
            {
                await ServerSessions.RequireOwnSessionAsync(c, _connection.ToString(), "REINDEX CONCURRENTLY runs outside a transaction with its lock timeout set on its session", cancellationToken).ConfigureAwait(false);
                // Set before the size is read: that read takes a lock on the index as well.
                await c.ExecuteAsync(new CommandDefinition(
                    "SELECT set_config('lock_timeout', @LockTimeout, false), set_config('statement_timeout', '0', false)",
                    new { LockTimeout = LockWait.Milliseconds(lockTimeout) }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                long? before, after;
                try
                {
                    before = await SizeAsync(c, qualifiedName, cancellationToken).ConfigureAwait(false);
                    await c.ExecuteAsync(new CommandDefinition($"REINDEX INDEX CONCURRENTLY {qualifiedName}", commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
                    after = await SizeAsync(c, qualifiedName, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    // The pooled connection goes on to serve other commands: they get the session's own values back.
                    if (c.State == System.Data.ConnectionState.Open)
                    {
                        await c.ExecuteAsync("RESET lock_timeout; RESET statement_timeout").ConfigureAwait(false);
                    }
                }

                return new IndexMaintenanceResult { Name = name, Action = "Reindex", SizeBeforeBytes = before, SizeAfterBytes = after, Duration = clock.Elapsed };
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// ANALYZE workflow_triggers, bounded by a lock timeout and a statement timeout as the document's maintenance is.
    /// A user who may not analyze the table gets only a WARNING from the server, which skips it: that is an error
    /// here, not a success.
    /// </summary>
    public async Task<IndexMaintenanceResult> AnalyzeAsync(TimeSpan lockTimeout, TimeSpan statementTimeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var skipped = await _connection.InTransactionAsync(
            async (c, t) =>
            {
                await c.ExecuteAsync(new CommandDefinition(
                    "SELECT set_config('lock_timeout', @LockTimeout, true), set_config('statement_timeout', @StatementTimeout, true)",
                    new { LockTimeout = LockWait.Milliseconds(lockTimeout), StatementTimeout = LockWait.Milliseconds(statementTimeout) }, t, cancellationToken: cancellationToken)).ConfigureAwait(false);
                var warnings = new List<string>();
                NoticeEventHandler collect = (_, e) =>
                {
                    if (e.Notice.InvariantSeverity == "WARNING")
                    {
                        warnings.Add(e.Notice.MessageText);
                    }
                };
                c.Notice += collect;
                try
                {
                    await c.ExecuteAsync(new CommandDefinition("ANALYZE workflow_triggers", transaction: t, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
                }
                finally
                {
                    c.Notice -= collect;
                }

                return warnings.FirstOrDefault(w => w.Contains("skipping", StringComparison.OrdinalIgnoreCase));
            },
            cancellationToken).ConfigureAwait(false);
        if (skipped is not null)
        {
            throw new TriggerEngineException(
                TriggerErrorKind.PermissionDenied,
                $"The server skipped ANALYZE of workflow_triggers in {_connection}: {skipped}. Only the table's owner (or, from PostgreSQL 17, a role with the MAINTAIN privilege on it) may analyze it; its statistics were not updated.")
            {
                ErrorId = "PermissionDenied",
                TableName = "workflow_triggers",
            };
        }

        return new IndexMaintenanceResult { Name = "workflow_triggers", Action = "Analyze", Duration = clock.Elapsed };
    }

    /// <summary>Invalid indexes of the table: what a failed concurrent rebuild leaves (name ending in _ccnew).</summary>
    public async Task<IReadOnlyList<TriggerIndexHealth>> GetInvalidAsync(TimeSpan lockTimeout, CancellationToken cancellationToken) =>
        (await GetAsync(DefaultLowUsageThreshold, cancellationToken, lockTimeout).ConfigureAwait(false)).Where(i => !i.IsValid).ToList();

    private static async Task<long?> SizeAsync(NpgsqlConnection connection, string qualifiedName, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT pg_relation_size(to_regclass(@Name))", new { Name = qualifiedName }, cancellationToken: cancellationToken)).ConfigureAwait(false);


    private async Task RequireTableAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (!(await EngineTables.ProbeAsync(connection, cancellationToken).ConfigureAwait(false)).WorkflowTriggers)
        {
            throw TriggerEngineException.MissingTable("workflow_triggers", _connection.ToString());
        }
    }
}

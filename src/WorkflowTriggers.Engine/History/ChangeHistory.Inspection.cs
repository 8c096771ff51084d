using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;

namespace WorkflowTriggers.Engine.History;

/// <summary>What the server says of the recording function.</summary>
internal sealed class FunctionFacts
{
    public long Oid { get; init; }
    public string Owner { get; init; } = string.Empty;
    public bool SecurityDefiner { get; init; }
    public string[]? Config { get; init; }
    public string Body { get; init; } = string.Empty;
    public string Language { get; init; } = string.Empty;
}

/// <summary>What the server says of a trigger on workflow_triggers with one of the recording triggers' names.</summary>
internal sealed class RecordingTriggerFacts
{
    public string Name { get; init; } = string.Empty;
    public string Enabled { get; init; } = string.Empty;
    public long FunctionOid { get; init; }
    public int Type { get; init; }
    public string? OldTable { get; init; }
    public string? NewTable { get; init; }
}

/// <summary>History's objects as they are: each null where missing.</summary>
internal sealed record HistoryObjects(RelationFacts? History, RelationFacts? Settings, FunctionFacts? Function, IReadOnlyList<RecordingTriggerFacts> Triggers)
{
    public IEnumerable<(string Kind, string Name, string Owner)> Owned()
    {
        if (History is { } h) yield return ("table", ChangeHistory.Table, h.Owner);
        if (Settings is { } s) yield return ("table", ChangeHistory.SettingsTable, s.Owner);
        if (Function is { } f) yield return ("function", "workflow_triggers_history_record()", f.Owner);
    }
}

public sealed partial class ChangeHistory
{
    private const string FunctionSql = """
        SELECT p.oid::bigint AS Oid, pg_get_userbyid(p.proowner) AS Owner, p.prosecdef AS SecurityDefiner, p.proconfig AS Config,
               p.prosrc AS Body, l.lanname::text AS Language
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
        WHERE n.nspname = @Schema AND p.proname = @Name AND p.pronargs = 0
        """;

    private const string TriggersSql = """
        SELECT t.tgname::text AS Name, t.tgenabled::text AS Enabled, t.tgfoid::bigint AS FunctionOid, t.tgtype::int AS Type,
               t.tgoldtable::text AS OldTable, t.tgnewtable::text AS NewTable
        FROM pg_trigger t WHERE t.tgrelid = to_regclass(@Table) AND t.tgname = ANY(@Names)
        """;

    private static async Task<HistoryObjects> ReadObjectsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, ModuleHome home, CancellationToken cancellationToken)
    {
        var history = await ModuleObjects.ReadRelationAsync(connection, transaction, home, Table, cancellationToken).ConfigureAwait(false);
        var settings = await ModuleObjects.ReadRelationAsync(connection, transaction, home, SettingsTable, cancellationToken).ConfigureAwait(false);
        var function = await connection.QueryFirstOrDefaultAsync<FunctionFacts>(new CommandDefinition(
            FunctionSql, new { home.Schema, Name = Function }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var triggers = (await connection.QueryAsync<RecordingTriggerFacts>(new CommandDefinition(
            TriggersSql,
            new { Table = home.Qualify("workflow_triggers"), Names = RecordingTriggers.Select(t => t.Name).ToArray() },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        return new HistoryObjects(history, settings, function, triggers);
    }

    /// <summary>
    /// What makes <paramref name="function"/> differ from the module's recording function, in words. A body made by
    /// an earlier version of the module (<paramref name="olderVersion"/>, as its settings record) is not counted.
    /// </summary>
    private static List<string> FunctionProblems(FunctionFacts function, string expectedBody, bool olderVersion = false)
    {
        var problems = new List<string>();
        if (!function.SecurityDefiner || function.Language != "plpgsql")
        {
            problems.Add($"the recording function is not the module's ({function.Language}, {(function.SecurityDefiner ? "SECURITY DEFINER" : "SECURITY INVOKER")})");
        }

        if (function.Config is not [FunctionSearchPath])
        {
            problems.Add($"the recording function's settings are ({string.Join(", ", function.Config ?? Array.Empty<string>())}), not ({FunctionSearchPath})");
        }

        if (function.Body != expectedBody && !olderVersion)
        {
            problems.Add("the recording function's body is not the one the module made for the table's columns: changes may go unrecorded");
        }

        return problems;
    }

    /// <summary>Everything about history's objects that differs from what the module made, in words.</summary>
    private static async Task<IReadOnlyList<string>> TamperingAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, ModuleHome home, HistoryObjects found, CancellationToken cancellationToken, bool olderVersion = false)
    {
        var problems = new List<string>();
        var owned = found.Owned().ToList();
        var owner = found.Function?.Owner ?? owned.FirstOrDefault().Owner;
        problems.AddRange(owned.Where(o => o.Owner != owner).Select(o => $"the {o.Kind} {home.Qualify(o.Name)} is owned by {o.Owner}, not by {owner}, whose function writes into it"));
        foreach (var (table, facts) in new[] { (HistoryTable, found.History), (SettingsTableDefinition, found.Settings) })
        {
            if (facts is null)
            {
                problems.Add($"the table {home.Qualify(table.Name)} is missing");
                continue;
            }

            problems.AddRange(ModuleObjects.Problems(facts, table, f => f.Owner == owner)
                .Where(p => !p.StartsWith("it is owned by", StringComparison.Ordinal))
                .Select(p => $"the table {home.Qualify(table.Name)}: {p}"));
        }

        if (found.Function is not { } function)
        {
            problems.Add($"the recording function {home.Qualify(Function)}() is missing");
        }
        else
        {
            problems.AddRange(FunctionProblems(function, FunctionBody(home, await RecordedColumnsAsync(connection, transaction, home, cancellationToken).ConfigureAwait(false)), olderVersion));
        }

        foreach (var (name, operation, type, referencing) in RecordingTriggers)
        {
            var what = $"{operation.ToLowerInvariant()}s are not recorded";
            switch (found.Triggers.FirstOrDefault(t => t.Name == name))
            {
                case null:
                    problems.Add($"the trigger {name} on workflow_triggers is missing: {what}");
                    break;
                case { Enabled: not ("O" or "A") } disabled:
                    problems.Add($"the trigger {name} on workflow_triggers is {(disabled.Enabled == "R" ? "enabled for replicas only" : "disabled")} (tgenabled '{disabled.Enabled}'): {what}");
                    break;
                case var t when t.FunctionOid != found.Function?.Oid:
                    problems.Add($"the trigger {name} on workflow_triggers calls another function than the recording function: {what}");
                    break;
                case var t when t.Type != type || (t.OldTable is null) == referencing.Contains("OLD", StringComparison.Ordinal) || (t.NewTable is null) == referencing.Contains("NEW", StringComparison.Ordinal):
                    problems.Add($"the trigger {name} on workflow_triggers is not the module's (AFTER {operation} FOR EACH STATEMENT with transition tables): {what}");
                    break;
            }
        }

        return problems;
    }

    private static async Task<HistoryStatus> StatusAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var off = new HistoryStatus(false, null, null, null, null, 0, 0, null);
        if (await ModuleHome.ReadAsync(connection, transaction, cancellationToken).ConfigureAwait(false) is not { } home)
        {
            return off;
        }

        var found = await ReadObjectsAsync(connection, transaction, home, cancellationToken).ConfigureAwait(false);
        if (found.History is null && found.Settings is null && found.Function is null && found.Triggers.Count == 0)
        {
            return off;
        }

        var tampering = await TamperingAsync(connection, transaction, home, found, cancellationToken).ConfigureAwait(false);
        var recording = RecordingTriggers.All(r => found.Triggers.Any(t => t.Name == r.Name && t.Enabled is "O" or "A" && t.FunctionOid == found.Function?.Oid));
        if (found.History is null || found.Settings is null)
        {
            return off with { Enabled = recording, Version = "?", Owner = found.Function?.Owner, Tampering = tampering };
        }

        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT has_table_privilege(@Table, 'SELECT') AND has_table_privilege(@Settings, 'SELECT')",
                new { Table = home.Qualify(Table), Settings = home.Qualify(SettingsTable) },
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false))
        {
            // A user who may not read history still learns, from the catalogs, whether it records.
            return off with { Enabled = recording, Version = "?", Owner = found.Function?.Owner ?? found.History.Owner, Tampering = tampering, Readable = false };
        }

        // The entry count is the planner's estimate once the table is large: exact counts of millions cost seconds.
        var clearedBefore = found.Settings.Columns.Length == SettingsTableDefinition.Columns.Count ? "s.cleared_before" : "NULL::timestamptz";
        var row = await connection.QuerySingleAsync<StatusRow>(new CommandDefinition(
            $"""
            SELECT s.version AS Version, s.retention_days AS RetentionDays, s.enabled_at AS EnabledAt, s.enabled_by AS EnabledBy, {clearedBefore} AS ClearedBefore,
                   CASE WHEN c.reltuples > 100000 THEN c.reltuples::bigint ELSE (SELECT count(*) FROM {home.Qualify(Table)}) END AS Entries,
                   pg_total_relation_size(c.oid) AS SizeBytes,
                   (SELECT min(changed_at) FROM {home.Qualify(Table)}) AS OldestEntry
            FROM pg_class c LEFT JOIN {home.Qualify(SettingsTable)} s ON true
            WHERE c.oid = to_regclass(@Table)
            """,
            new { Table = home.Qualify(Table) },
            transaction,
            cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (row.Version != Version)
        {
            // Objects an earlier version of the module made: its function's body is that version's, not tampering.
            tampering = await TamperingAsync(connection, transaction, home, found, cancellationToken, olderVersion: true).ConfigureAwait(false);
        }

        return new HistoryStatus(recording, row.Version ?? "?", row.RetentionDays, row.EnabledAt, row.EnabledBy, row.Entries, row.SizeBytes, row.OldestEntry)
        {
            Owner = found.Function?.Owner ?? found.History.Owner,
            ClearedBefore = row.ClearedBefore,
            Tampering = tampering,
        };
    }

    private sealed class StatusRow
    {
        public string? Version { get; init; }
        public int? RetentionDays { get; init; }
        public DateTime? EnabledAt { get; init; }
        public string? EnabledBy { get; init; }
        public DateTime? ClearedBefore { get; init; }
        public long Entries { get; init; }
        public long SizeBytes { get; init; }
        public DateTime? OldestEntry { get; init; }
    }
}

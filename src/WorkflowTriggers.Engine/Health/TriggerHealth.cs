using Dapper;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Engine.Health;

/// <summary>Pass, Warn or Fail: Fail makes the report unhealthy, Warn asks for a look.</summary>
public enum HealthStatus
{
    Pass,
    Warn,
    Fail,
}

/// <summary>One named check of the health report: its status and the facts behind it (what to do is the caller's to word).</summary>
public sealed record TriggerHealthCheck(string Name, HealthStatus Status, string Detail);

/// <summary>The document's table health check plus named checks; healthy when no check fails.</summary>
public sealed class TriggerHealthReport
{
    public string Database { get; init; } = string.Empty;
    public long TotalRecords { get; init; }
    public long ActiveRecords { get; init; }
    public long TargetedRecords { get; init; }
    public DateTime? OldestRecord { get; init; }
    public DateTime? LastUpdate { get; init; }

    /// <summary>
    /// Which of TotalRecords, ActiveRecords and TargetedRecords are the planner's estimates: on a table of
    /// <see cref="TriggerCountReader.ExactCountLimit"/> rows or more, counts over
    /// <see cref="TriggerCountReader.ExactCountBound"/>. There LastUpdate is not read either.
    /// </summary>
    public IReadOnlyList<string> EstimatedCounts { get; init; } = Array.Empty<string>();

    /// <summary>primary or standby.</summary>
    public string Role { get; init; } = "primary";

    /// <summary>On a standby, seconds since the last replayed transaction was committed on the primary.</summary>
    public double? ReplayLagSeconds { get; init; }
    public IReadOnlyList<TriggerHealthCheck> Checks { get; init; } = Array.Empty<TriggerHealthCheck>();
    public bool IsHealthy => Checks.All(c => c.Status != HealthStatus.Fail);
}

/// <summary>
/// Builds the health report. The independent queries run at once on separate pooled connections, so a monitoring
/// loop on a million-trigger table waits for the slowest one, not for their sum.
/// </summary>
public sealed class TriggerHealth
{
    public const string SchemaCheck = "SchemaVersion";
    public const string ForeignKeyCheck = "WorkflowForeignKey";
    public const string OrphanCheck = "OrphanTriggers";
    public const string UntargetedCheck = "ActiveTriggersWithoutTargetNode";
    public const string BrokenRoutesCheck = "BrokenRoutes";
    public const string UnvalidatedConstraintsCheck = "UnvalidatedConstraints";
    public const string SchemaDriftCheck = "SchemaDrift";
    public const string InvalidIndexCheck = "InvalidIndexes";
    public const string DuplicateIndexCheck = "DuplicateIndexes";
    public const string StatisticsCheck = "StatisticsFreshness";
    public const string HistoryCheck = "ChangeHistory";
    public const string HistoryVersionCheck = "ChangeHistoryVersion";

    /// <summary>Rows changed since the last analyze, as a share of the table, above which statistics count as stale.</summary>
    public const double StaleShare = 0.2;

    private const int StaleMinimumRows = 1000;

    private const string ForeignKeySql = """
        SELECT convalidated FROM pg_constraint
        WHERE conrelid = to_regclass('workflow_triggers') AND contype = 'f' AND conname = @Name
        """;

    private const string StatisticsSql = """
        SELECT greatest(s.last_analyze, s.last_autoanalyze) AS LastAnalyzed, s.n_live_tup AS LiveRows, s.n_mod_since_analyze AS ModifiedSinceAnalyze,
               c.reltuples::bigint AS PlannerRows,
               EXISTS (SELECT 1 FROM pg_stats ps JOIN pg_namespace n ON n.nspname = ps.schemaname
                       WHERE n.oid = c.relnamespace AND ps.tablename = c.relname) AS HasPlannerStatistics
        FROM pg_stat_all_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relid = to_regclass('workflow_triggers')
        """;

    private readonly TriggerConnection _connection;

    public TriggerHealth(TriggerConnection connection) => _connection = connection;

    /// <summary>Planner rows from which counts are estimated (tests lower it to reach that path with few rows).</summary>
    internal long ExactCountLimit { get; init; } = TriggerCountReader.ExactCountLimit;

    public Task<TriggerHealthReport> GetAsync(CancellationToken cancellationToken) => GetAsync(exactCounts: false, cancellationToken);

    /// <summary>The report; with <paramref name="exactCounts"/> a large table is counted row by row instead of estimated.</summary>
    public async Task<TriggerHealthReport> GetAsync(bool exactCounts, CancellationToken cancellationToken)
    {
        var tables = await _connection.ProbeTablesAsync(cancellationToken).ConfigureAwait(false);
        if (!tables.WorkflowTriggers)
        {
            return new TriggerHealthReport
            {
                Database = _connection.ToString(),
                Checks = new[] { new TriggerHealthCheck(SchemaCheck, HealthStatus.Fail, "workflow_triggers does not exist.") },
            };
        }

        var role = _connection.GetRoleAsync(cancellationToken);
        var schema = new SchemaInstaller(_connection).GetStatusAsync(cancellationToken);
        var counts = new TriggerCountReader(_connection, ExactCountLimit).ReadAsync(tables, exactCounts, cancellationToken);
        var foreignKey = tables.Workflows ? Query<bool?>(ForeignKeySql, new { Name = SchemaSteps.ForeignKeyName }, cancellationToken) : null;
        var statistics = Query<StatisticsRow>(StatisticsSql, null, cancellationToken);
        var unvalidated = _connection.ReadAsync(
            async c => (IReadOnlyList<string>)(await c.QueryAsync<string>(new CommandDefinition(SchemaSteps.UnvalidatedChecksSql, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList(),
            cancellationToken);
        var indexes = new IndexHealth(_connection).GetAsync(IndexHealth.DefaultLowUsageThreshold, cancellationToken);
        var history = HistoryStatusAsync(cancellationToken);
        await Task.WhenAll(new Task[] { role, schema, counts, statistics, indexes, unvalidated, history }.Concat(new Task?[] { foreignKey }.OfType<Task>())).ConfigureAwait(false);

        var table = counts.Result;
        var checks = new List<TriggerHealthCheck>
        {
            CheckSchema(schema.Result),
            CheckDrift(schema.Result),
            CheckForeignKey(tables.Workflows, foreignKey?.Result),
            CheckOrphans(table.Orphans),
            CheckUntargeted(table),
            CheckBrokenRoutes(table.BrokenRoutes),
            CheckUnvalidatedConstraints(unvalidated.Result),
            CheckInvalidIndexes(indexes.Result),
            CheckDuplicateIndexes(indexes.Result),
            role.Result.IsStandby ? StandbyStatistics(statistics.Result) : CheckStatistics(statistics.Result, table.TotalRecords, DateTime.UtcNow),
        };
        if (CheckHistory(history.Result, DateTime.UtcNow) is { } historyCheck)
        {
            checks.Add(historyCheck);
        }

        if (history.Result is { Version: { } made } && made != "?" && made != History.ChangeHistory.Version)
        {
            checks.Add(new(HistoryVersionCheck, HealthStatus.Warn,
                $"Change history's objects were made by version {made} of the module's history, not {History.ChangeHistory.Version}: until they are made again, id changes are not refused and reasons are not cut to {History.ChangeHistory.MaxReasonLength:N0} characters."));
        }

        return new TriggerHealthReport
        {
            Database = _connection.ToString(),
            TotalRecords = table.TotalRecords,
            ActiveRecords = table.ActiveRecords,
            TargetedRecords = table.TargetedRecords,
            OldestRecord = table.OldestRecord,
            LastUpdate = table.LastUpdate,
            EstimatedCounts = table.EstimatedCounts.Where(c => c != nameof(TriggerCounts.UntargetedActive)).ToArray(),
            Role = role.Result.Role,
            ReplayLagSeconds = role.Result.ReplayLagSeconds,
            Checks = checks,
        };
    }

    // A user who may read the triggers but not their history still gets the rest of the report.
    private async Task<History.HistoryStatus?> HistoryStatusAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await new History.ChangeHistory(_connection).GetStatusAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (TriggerEngineException ex) when (ex.Kind == TriggerErrorKind.PermissionDenied)
        {
            return null;
        }
    }

    // Only where history was turned on: its size and age, and whether it still records and is still cleared.
    private static TriggerHealthCheck? CheckHistory(History.HistoryStatus? history, DateTime utcNow)
    {
        if (history is null)
        {
            return new(HistoryCheck, HealthStatus.Pass, "Change history is there, but this user may not read it, so its size and age are not judged.");
        }

        if (history.Version is null)
        {
            return null;
        }

        if (history.Tampering.Count > 0)
        {
            return new(HistoryCheck, HealthStatus.Fail, $"Change history is not the module's as it made it, so changes may go unrecorded or be recorded by someone else's code: {string.Join("; ", history.Tampering)}.");
        }

        if (!history.Readable)
        {
            return new(HistoryCheck, HealthStatus.Pass, $"Change history records every change (its objects are the module's, owned by {history.Owner}); this user may not read its entries, so their size and age are not judged.");
        }

        var oldest = history.OldestEntry is { } first ? first.ToString("u") : "none";
        var retention = history.RetentionDays is { } days ? $"retention {days} day(s)" : "no retention set";
        var facts = $"{history.Entries:N0} entries, {history.SizeBytes / 1024.0 / 1024:N1} MB, oldest {oldest}, {retention}";
        if (!history.Enabled)
        {
            return new(HistoryCheck, HealthStatus.Fail, $"The history table is there ({facts}) but its database triggers are gone: changes are not recorded.");
        }

        // A day of slack: a clean-up scheduled daily leaves up to a day more than the retention.
        return History.ChangeHistory.RetentionCutoff(history, utcNow.AddDays(-1)) is { } cutoff && history.OldestEntry < cutoff
            ? new(HistoryCheck, HealthStatus.Warn, $"Entries older than the retention are still there ({facts}): the clean-up has not run.")
            : new(HistoryCheck, HealthStatus.Pass, $"On since {history.EnabledAt:u}: {facts}.");
    }

    // A standby replays the primary's planner statistics (pg_class.reltuples, pg_stats) but not its ANALYZE times,
    // which crash recovery also resets: judge what the planner has, and say why the times are not judged.
    private static TriggerHealthCheck StandbyStatistics(StatisticsRow? statistics) =>
        statistics is { PlannerRows: < 0 }
            ? new(StatisticsCheck, HealthStatus.Warn, "Standby: the planner has no statistics for workflow_triggers (pg_class.reltuples is -1); they come from an ANALYZE on the primary.")
            : new(StatisticsCheck, HealthStatus.Pass, $"Standby: the planner's statistics replayed from the primary estimate {statistics?.PlannerRows ?? 0:N0} row(s); ANALYZE times are not replicated, so their age is judged on the primary.");

    private static TriggerHealthCheck CheckSchema(SchemaStatus status) => status switch
    {
        { IsManaged: false } => new(SchemaCheck, HealthStatus.Fail, "workflow_triggers has no schema history (it predates this module)."),
        // Only the version: a missing foreign key, the other pending step, has a check of its own.
        _ when status.CurrentVersion == status.LatestVersion => new(SchemaCheck, HealthStatus.Pass, $"At {status.LatestVersion}, the latest version."),
        _ => new(SchemaCheck, HealthStatus.Fail, $"At {status.CurrentVersion ?? "no version"}; the latest is {status.LatestVersion}."),
    };

    private static TriggerHealthCheck CheckDrift(SchemaStatus status) => status.Drift.Count == 0
        ? new(SchemaDriftCheck, HealthStatus.Pass, $"Indexes and CHECK constraints are those of version {status.CurrentVersion ?? "(none)"}.")
        : new(SchemaDriftCheck, HealthStatus.Warn, $"{status.Drift.Count} object(s) differ from version {status.CurrentVersion}: {string.Join(", ", status.Drift.Select(d => $"{d.Object} ({d.Kind})"))}.");

    private static TriggerHealthCheck CheckForeignKey(bool workflowsExists, bool? validated) => (workflowsExists, validated) switch
    {
        (false, _) => new(ForeignKeyCheck, HealthStatus.Pass, "No workflows table: the document adds the key only where it exists."),
        (true, null) => new(ForeignKeyCheck, HealthStatus.Fail, $"{SchemaSteps.ForeignKeyName} is missing: deleting a workflow leaves its triggers behind."),
        (true, false) => new(ForeignKeyCheck, HealthStatus.Warn, $"{SchemaSteps.ForeignKeyName} is NOT VALID: rows older than the key are unchecked."),
        (true, true) => new(ForeignKeyCheck, HealthStatus.Pass, $"{SchemaSteps.ForeignKeyName} is present and validated."),
    };

    private static TriggerHealthCheck CheckOrphans((long Total, long Active)? orphans) => orphans switch
    {
        null => new(OrphanCheck, HealthStatus.Pass, "No workflows table: orphans cannot be told apart, so none are reported."),
        { Total: 0 } => new(OrphanCheck, HealthStatus.Pass, "Every trigger's workflow exists."),
        { Active: 0 } o => new(OrphanCheck, HealthStatus.Warn, $"{o.Total:N0} archived (inactive) trigger(s) name a workflow that does not exist."),
        var o => new(OrphanCheck, HealthStatus.Fail, $"{o.Value.Active:N0} active trigger(s) ({o.Value.Total:N0} in all) name a workflow that does not exist."),
    };

    private static TriggerHealthCheck CheckUntargeted(TriggerCounts counts)
    {
        if (counts.UntargetedActive == 0)
        {
            return new(UntargetedCheck, HealthStatus.Pass, "Every active trigger has a target node.");
        }

        string About(string count) => counts.EstimatedCounts.Contains(count) ? "about " : string.Empty;
        var source = counts.EstimatedCounts.Count > 0 ? " (counts marked 'about' are the planner's estimates)" : string.Empty;
        return new(UntargetedCheck, HealthStatus.Warn,
            $"{About(nameof(counts.UntargetedActive))}{counts.UntargetedActive:N0} of {About(nameof(counts.ActiveRecords))}{counts.ActiveRecords:N0} active trigger(s) have no target node and rely on input-node auto-detection{source}.");
    }

    private static TriggerHealthCheck CheckBrokenRoutes(BrokenRoutes? broken) => broken switch
    {
        null => new(BrokenRoutesCheck, HealthStatus.Pass, "No workflow_nodes table: which nodes a workflow has cannot be checked."),
        { Active: > 0 } b => new(BrokenRoutesCheck, HealthStatus.Fail, $"{b.Active:N0} active trigger(s) route to a node that is not a node of their workflow (ids {string.Join(", ", b.FirstActive)}{(b.Active > b.FirstActive.Length ? ", ..." : string.Empty)}): their events reach no node."),
        { Inactive: > 0 } b => new(BrokenRoutesCheck, HealthStatus.Warn, $"{b.Inactive:N0} inactive trigger(s) route to a node that is not a node of their workflow (ids {string.Join(", ", b.FirstInactive)}{(b.Inactive > b.FirstInactive.Length ? ", ..." : string.Empty)}): enabling them would route nowhere."),
        { InactiveChecked: false } => new(BrokenRoutesCheck, HealthStatus.Pass, "Every active targeted trigger's node is a node of its workflow. Inactive triggers were not checked: on a table this large only an exact count reads them."),
        _ => new(BrokenRoutesCheck, HealthStatus.Pass, "Every targeted trigger's node is a node of its workflow."),
    };

    private static TriggerHealthCheck CheckUnvalidatedConstraints(IReadOnlyList<string> names) => names.Count == 0
        ? new(UnvalidatedConstraintsCheck, HealthStatus.Pass, "Every CHECK constraint is validated.")
        : new(UnvalidatedConstraintsCheck, HealthStatus.Warn, $"NOT VALID: {string.Join(", ", names)}. Rows older than the constraint may break it; new rows are checked.");

    private static TriggerHealthCheck CheckInvalidIndexes(IReadOnlyList<TriggerIndexHealth> indexes)
    {
        var invalid = indexes.Where(i => !i.IsValid).ToList();
        return invalid.Count == 0
            ? new(InvalidIndexCheck, HealthStatus.Pass, $"All {indexes.Count} indexes are valid.")
            : new(InvalidIndexCheck, HealthStatus.Fail, $"Invalid: {string.Join(", ", invalid.Select(i => i.Name))}.");
    }

    private static TriggerHealthCheck CheckDuplicateIndexes(IReadOnlyList<TriggerIndexHealth> indexes)
    {
        var pairs = indexes.Where(i => i.DuplicateOf is not null && string.CompareOrdinal(i.Name, i.DuplicateOf) < 0).Select(i => $"{i.Name} = {i.DuplicateOf}").ToList();
        return pairs.Count == 0
            ? new(DuplicateIndexCheck, HealthStatus.Pass, "No index duplicates another.")
            : new(DuplicateIndexCheck, HealthStatus.Warn, $"Duplicate indexes: {string.Join("; ", pairs)}. Each write maintains both.");
    }

    internal static TriggerHealthCheck CheckStatistics(StatisticsRow? statistics, long rows, DateTime now)
    {
        if (statistics is { LastAnalyzed: null, HasPlannerStatistics: true })
        {
            // The ANALYZE time lives in the cumulative statistics, which a crash restart, a promoted standby and
            // pg_stat_reset start afresh; the planner's statistics it took are still there.
            var changed = statistics.ModifiedSinceAnalyze;
            var detail = $"The planner has statistics for workflow_triggers (an estimate of {statistics.PlannerRows:N0} row(s)), but the server has no record of when they were taken: " +
                         $"its activity statistics were reset (a crash restart, a promotion or pg_stat_reset). {changed:N0} row(s) changed since the reset.";
            return changed > Math.Max(StaleMinimumRows, StaleShare * Math.Max(statistics.LiveRows, rows))
                ? new(StatisticsCheck, HealthStatus.Warn, detail + $" That is more than {StaleShare * 100:N0}% of the table.")
                : new(StatisticsCheck, HealthStatus.Pass, detail);
        }

        if (statistics?.LastAnalyzed is not { } analyzed)
        {
            return rows == 0
                ? new(StatisticsCheck, HealthStatus.Pass, "The table is empty and has not been analyzed yet.")
                : new(StatisticsCheck, HealthStatus.Fail, $"workflow_triggers ({rows:N0} rows) has never been analyzed: the planner guesses.");
        }

        var modified = statistics.ModifiedSinceAnalyze;
        var age = now - analyzed;
        var ageText = age.TotalDays >= 1 ? $"{age.TotalDays:N0} day(s) ago" : age.TotalHours >= 1 ? $"{age.TotalHours:N0} hour(s) ago" : age.TotalMinutes >= 1 ? $"{age.TotalMinutes:N0} minute(s) ago" : "under a minute ago";
        return modified > Math.Max(StaleMinimumRows, StaleShare * Math.Max(statistics.LiveRows, rows))
            ? new(StatisticsCheck, HealthStatus.Warn, $"Last analyzed {ageText} ({analyzed:u}); {modified:N0} row(s) changed since, more than {StaleShare * 100:N0}% of the table.")
            : new(StatisticsCheck, HealthStatus.Pass, $"Last analyzed {ageText} ({analyzed:u}); {modified:N0} row(s) changed since.");
    }

    private Task<T> Query<T>(string sql, object? parameters, CancellationToken cancellationToken) =>
        _connection.ReadAsync(c => c.QueryFirstOrDefaultAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken)), cancellationToken)!;



    internal sealed class StatisticsRow
    {
        public DateTime? LastAnalyzed { get; init; }
        public long LiveRows { get; init; }
        public long ModifiedSinceAnalyze { get; init; }
        public long PlannerRows { get; init; }

        /// <summary>True when an ANALYZE has left column statistics (pg_stats), whether or not its time is known.</summary>
        public bool HasPlannerStatistics { get; init; }
    }
}

using System.Text.Json;
using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Orphans;
using WorkflowTriggers.Engine.Routing;

namespace WorkflowTriggers.Engine.Health;

/// <summary>How many triggers there are, and how many are orphaned or route to a node outside their workflow.</summary>
internal sealed class TriggerCounts
{
    public long TotalRecords { get; init; }
    public long ActiveRecords { get; init; }
    public long TargetedRecords { get; init; }
    public long UntargetedActive { get; init; }
    public DateTime? OldestRecord { get; init; }
    public DateTime? LastUpdate { get; init; }

    /// <summary>True when the table was counted by estimate: LastUpdate was not read, inactive routes not checked.</summary>
    public bool Estimated { get; init; }

    /// <summary>Which of TotalRecords, ActiveRecords, TargetedRecords and UntargetedActive are the planner's estimates.</summary>
    public IReadOnlyList<string> EstimatedCounts { get; init; } = Array.Empty<string>();

    /// <summary>Orphaned triggers, in all and active; null without a workflows table. Always exact.</summary>
    public (long Total, long Active)? Orphans { get; init; }

    /// <summary>Triggers routed to a node their workflow does not have; null without a workflow_nodes table. Always exact.</summary>
    public BrokenRoutes? BrokenRoutes { get; init; }
}

/// <summary>Targeted triggers whose node is not a node of their workflow, active and inactive, with the first ids of each.</summary>
internal sealed class BrokenRoutes
{
    public long Active { get; init; }
    public long Inactive { get; init; }
    public int[] FirstActive { get; init; } = Array.Empty<int>();
    public int[] FirstInactive { get; init; } = Array.Empty<int>();

    /// <summary>False when only active triggers were checked (a large table counted by estimate).</summary>
    public bool InactiveChecked { get; init; } = true;
}

/// <summary>
/// Counts triggers for the health report. A table the planner estimates under <see cref="ExactCountLimit"/> rows is
/// counted exactly, in one pass. A larger one (unless exact counts are asked for) costs about what a small one does:
/// counts up to <see cref="ExactCountBound"/> are exact and larger ones the planner's estimates, orphans are
/// found by a skip scan of the distinct workflow ids, and broken routes of active triggers by a skip scan of their
/// distinct (workflow, node) pairs; only the triggers of an orphaned workflow or of a broken pair are then counted.
/// </summary>
internal sealed class TriggerCountReader
{
    /// <summary>Planner rows from which counts are estimated unless exact counts are asked for.</summary>
    public const long ExactCountLimit = 250_000;

    /// <summary>On a table counted by estimate, a count up to this many is still exact.</summary>
    public const long ExactCountBound = 10_000;

    private const string PlannerRowsSql = "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass('workflow_triggers')";

    // The document's health-check query has no FROM clause; this one reads the table, in one pass.
    private const string ExactSql = """
        SELECT count(*) AS TotalRecords,
               count(CASE WHEN is_active THEN 1 END) AS ActiveRecords,
               count(CASE WHEN target_node_id IS NOT NULL THEN 1 END) AS TargetedRecords,
               count(CASE WHEN is_active AND target_node_id IS NULL THEN 1 END) AS UntargetedActive,
               min(created_at) AS OldestRecord,
               max(updated_at) AS LastUpdate
        FROM workflow_triggers
        """;

    private const string ExactOrphansSql = $"""
        SELECT count(*) AS Total, count(CASE WHEN t.is_active THEN 1 END) AS Active
        FROM workflow_triggers t
        WHERE {OrphanRule.Predicate}
        """;

    // Targeted triggers whose node is not a node of their workflow: the routing rule, broken by a write that did not
    // check it (psql, the engine's application, -Force) or by a node removed from the workflow since.
    private static readonly string ExactBrokenRoutesSql = $"""
        SELECT count(*) FILTER (WHERE t.is_active) AS Active,
               count(*) FILTER (WHERE t.is_active IS NOT TRUE) AS Inactive,
               coalesce((array_agg(t.id ORDER BY t.id) FILTER (WHERE t.is_active))[1:5], ARRAY[]::int[]) AS FirstActive,
               coalesce((array_agg(t.id ORDER BY t.id) FILTER (WHERE t.is_active IS NOT TRUE))[1:5], ARRAY[]::int[]) AS FirstInactive
        FROM workflow_triggers t
        WHERE t.target_node_id IS NOT NULL AND NOT {RoutingRule.NodeInWorkflow("t.workflow_id", "t.target_node_id")}
        """;

    // The lowest id is the first trigger created: the sequence hands ids out in order.
    private const string OldestSql = "SELECT created_at FROM workflow_triggers ORDER BY id LIMIT 1";

    private static readonly string OrphanedWorkflowsSql = $"""
        WITH RECURSIVE {SkipScan.DistinctValues("v", "workflow_id")}
        SELECT v.value FROM v WHERE v.value IS NOT NULL AND NOT EXISTS (SELECT 1 FROM workflows o WHERE o.id = v.value)
        """;

    private const string OrphansOfSql = """
        SELECT count(*) AS Total, count(CASE WHEN t.is_active THEN 1 END) AS Active
        FROM workflow_triggers t WHERE t.workflow_id = ANY(@WorkflowIds)
        """;

    // Distinct active (workflow, node) pairs: each active workflow from a skip scan, then its nodes in turn, each
    // the next one above the last within the workflow (the document's index on (workflow_id, target_node_id) of
    // active triggers serves both).
    private static readonly string BrokenActivePairsSql = $"""
        WITH RECURSIVE {SkipScan.DistinctValues("w", "workflow_id", "t.is_active = true")},
        p AS (
            SELECT w.value AS workflow_id, (SELECT min(t.target_node_id) FROM workflow_triggers t WHERE t.is_active = true AND t.workflow_id = w.value) AS node
            FROM w WHERE w.value IS NOT NULL
            UNION ALL
            SELECT p.workflow_id, (SELECT min(t.target_node_id) FROM workflow_triggers t WHERE t.is_active = true AND t.workflow_id = p.workflow_id AND t.target_node_id > p.node)
            FROM p WHERE p.node IS NOT NULL
        )
        SELECT p.workflow_id AS WorkflowId, p.node AS NodeId FROM p
        WHERE p.node IS NOT NULL AND NOT {RoutingRule.NodeInWorkflow("p.workflow_id", "p.node")}
        """;

    private const string ActiveOfPairsSql = """
        SELECT count(*) AS Active, coalesce((array_agg(t.id ORDER BY t.id))[1:5], ARRAY[]::int[]) AS FirstActive
        FROM workflow_triggers t JOIN unnest(@WorkflowIds, @NodeIds) AS b(workflow_id, node_id)
          ON t.workflow_id = b.workflow_id AND t.target_node_id = b.node_id
        WHERE t.is_active = true
        """;

    private readonly TriggerConnection _connection;
    private readonly long _exactCountLimit;

    public TriggerCountReader(TriggerConnection connection, long exactCountLimit = ExactCountLimit)
    {
        _connection = connection;
        _exactCountLimit = exactCountLimit;
    }

    public async Task<TriggerCounts> ReadAsync(EngineTables tables, bool exact, CancellationToken cancellationToken)
    {
        var plannerRows = await Read(c => c.ExecuteScalarAsync<long>(new CommandDefinition(PlannerRowsSql, cancellationToken: cancellationToken)), cancellationToken).ConfigureAwait(false);
        var estimate = !exact && plannerRows >= _exactCountLimit;
        var counts = estimate ? EstimatedAsync(cancellationToken) : Read(c => c.QuerySingleAsync<TriggerCounts>(new CommandDefinition(ExactSql, cancellationToken: cancellationToken)), cancellationToken);
        var orphans = !tables.Workflows ? null : estimate ? OrphansBySkipScanAsync(cancellationToken)
            : Read(c => c.QuerySingleAsync<(long, long)>(new CommandDefinition(ExactOrphansSql, cancellationToken: cancellationToken)), cancellationToken);
        var broken = !RoutingRule.Applies(tables) ? null : estimate ? ActiveBrokenRoutesAsync(cancellationToken)
            : Read(c => c.QuerySingleAsync<BrokenRoutes>(new CommandDefinition(ExactBrokenRoutesSql, cancellationToken: cancellationToken)), cancellationToken);
        await Task.WhenAll(new Task?[] { counts, orphans, broken }.OfType<Task>()).ConfigureAwait(false);
        var result = counts.Result;
        return new TriggerCounts
        {
            TotalRecords = result.TotalRecords,
            ActiveRecords = result.ActiveRecords,
            TargetedRecords = result.TargetedRecords,
            UntargetedActive = result.UntargetedActive,
            OldestRecord = result.OldestRecord,
            LastUpdate = result.LastUpdate,
            Estimated = estimate,
            EstimatedCounts = result.EstimatedCounts,
            Orphans = orphans?.Result,
            BrokenRoutes = broken?.Result,
        };
    }

    private async Task<TriggerCounts> EstimatedAsync(CancellationToken cancellationToken)
    {
        var total = CountAsync("true", cancellationToken);
        var active = CountAsync("t.is_active", cancellationToken);
        var targeted = CountAsync("t.target_node_id IS NOT NULL", cancellationToken);
        var untargeted = CountAsync("t.is_active AND t.target_node_id IS NULL", cancellationToken);
        var oldest = Read(c => c.ExecuteScalarAsync<DateTime?>(new CommandDefinition(OldestSql, cancellationToken: cancellationToken)), cancellationToken);
        await Task.WhenAll(total, active, targeted, untargeted, oldest).ConfigureAwait(false);
        var counts = new[]
        {
            (nameof(TriggerCounts.TotalRecords), total.Result),
            (nameof(TriggerCounts.ActiveRecords), active.Result),
            (nameof(TriggerCounts.TargetedRecords), targeted.Result),
            (nameof(TriggerCounts.UntargetedActive), untargeted.Result),
        };
        return new TriggerCounts
        {
            TotalRecords = total.Result.Count,
            ActiveRecords = active.Result.Count,
            TargetedRecords = targeted.Result.Count,
            UntargetedActive = untargeted.Result.Count,
            OldestRecord = oldest.Result,
            EstimatedCounts = counts.Where(c => c.Item2.Estimated).Select(c => c.Item1).ToArray(),
        };
    }

    // The triggers that meet a condition of the engine's (fixed text): counted exactly up to ExactCountBound, which
    // stops reading there, and above it the planner's estimate. So none, a few and a thousand are exact, and the
    // planner's floor of one row never reads as a trigger that is not there.
    private Task<(long Count, bool Estimated)> CountAsync(string condition, CancellationToken cancellationToken) =>
        Read(
            async c =>
            {
                var bounded = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                    $"SELECT count(*) FROM (SELECT 1 FROM workflow_triggers t WHERE {condition} LIMIT @Bound) s", new { Bound = ExactCountBound + 1 }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (bounded <= ExactCountBound)
                {
                    return (bounded, false);
                }

                var plan = await c.ExecuteScalarAsync<string>(new CommandDefinition($"EXPLAIN (FORMAT JSON) SELECT 1 FROM workflow_triggers t WHERE {condition}", cancellationToken: cancellationToken)).ConfigureAwait(false);
                using var document = JsonDocument.Parse(plan!);
                return (Math.Max(bounded, (long)document.RootElement[0].GetProperty("Plan").GetProperty("Plan Rows").GetDouble()), true);
            },
            cancellationToken);

    private Task<(long Total, long Active)> OrphansBySkipScanAsync(CancellationToken cancellationToken) =>
        Read(
            async c =>
            {
                var orphaned = (await c.QueryAsync<string>(new CommandDefinition(OrphanedWorkflowsSql, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToArray();
                return orphaned.Length == 0
                    ? (0L, 0L)
                    : await c.QuerySingleAsync<(long, long)>(new CommandDefinition(OrphansOfSql, new { WorkflowIds = orphaned }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            },
            cancellationToken);

    private Task<BrokenRoutes> ActiveBrokenRoutesAsync(CancellationToken cancellationToken) =>
        Read(
            async c =>
            {
                var pairs = (await c.QueryAsync<(string WorkflowId, string NodeId)>(new CommandDefinition(BrokenActivePairsSql, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToArray();
                if (pairs.Length == 0)
                {
                    return new BrokenRoutes { InactiveChecked = false };
                }

                var active = await c.QuerySingleAsync<(long Active, int[] FirstActive)>(new CommandDefinition(
                    ActiveOfPairsSql, new { WorkflowIds = pairs.Select(p => p.WorkflowId).ToArray(), NodeIds = pairs.Select(p => p.NodeId).ToArray() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return new BrokenRoutes { Active = active.Active, FirstActive = active.FirstActive, InactiveChecked = false };
            },
            cancellationToken);

    private Task<T> Read<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken) => _connection.ReadAsync(work, cancellationToken);
}

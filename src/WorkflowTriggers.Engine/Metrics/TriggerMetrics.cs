using Dapper;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Metrics;

/// <summary>A row of the document's "Monitor trigger usage".</summary>
public sealed class TriggerUsage
{
    public string Source { get; init; } = string.Empty;
    public string EventType { get; init; } = string.Empty;
    public long TriggerCount { get; init; }
    public long ActiveCount { get; init; }
}

/// <summary>Active triggers of one group (a workflow, a source, an event type or a target node).</summary>
public sealed class TriggerStatistic
{
    public TriggerColumn By { get; init; }

    /// <summary>The group's value; null for active triggers without a target node when grouping by TargetNode.</summary>
    public string? Value { get; init; }
    public long Count { get; init; }

    /// <summary>Share of all active triggers, in percent.</summary>
    public decimal Percentage { get; init; }
}

/// <summary>A row of the trigger_metrics view.</summary>
public sealed class TriggerMetric
{
    public DateTime Hour { get; init; }
    public string Source { get; init; } = string.Empty;
    public string EventType { get; init; } = string.Empty;
    public long TriggerCount { get; init; }
    public long ActiveCount { get; init; }
    public decimal NodeTargetingRatio { get; init; }
}

/// <summary>A row of the node_targeting_stats view.</summary>
public sealed class NodeTargetingStat
{
    public string RoutingType { get; init; } = string.Empty;
    public long Count { get; init; }
    public decimal Percentage { get; init; }
}

/// <summary>A trigger and how often it fired in the window (the document's "frequently accessed triggers").</summary>
public sealed class TriggerExecutionStat
{
    public int Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;
    public string? TargetNodeId { get; init; }
    public long ExecutionCount { get; init; }
    public DateTime? LastExecutedAt { get; init; }
}

/// <summary>The document's monitoring queries and views, each one statement computed in SQL.</summary>
public sealed class TriggerMetrics
{
    private readonly TriggerConnection _connection;

    public TriggerMetrics(TriggerConnection connection) => _connection = connection;

    /// <summary>Triggers and active triggers per (source, event type), most triggers first.</summary>
    public Task<IReadOnlyList<TriggerUsage>> GetUsageAsync(CancellationToken cancellationToken) => QueryAsync<TriggerUsage>("""
        SELECT source AS Source, event_type AS EventType, count(*) AS TriggerCount,
               count(CASE WHEN is_active THEN 1 END) AS ActiveCount
        FROM workflow_triggers
        GROUP BY source, event_type
        ORDER BY TriggerCount DESC, source, event_type
        """, null, cancellationToken);

    /// <summary>Active triggers per group, most first ("Count triggers per workflow" and its siblings).</summary>
    public Task<IReadOnlyList<TriggerStatistic>> GetStatisticAsync(TriggerColumn by, CancellationToken cancellationToken)
    {
        var column = TriggerReader.ColumnName(by);
        return QueryAsync<TriggerStatistic>($"""
            SELECT @By AS By, {column} AS Value, count(*) AS Count,
                   round(count(*) * 100.0 / sum(count(*)) OVER (), 2) AS Percentage
            FROM workflow_triggers
            WHERE is_active = true
            GROUP BY {column}
            ORDER BY Count DESC, Value NULLS LAST
            """, new { By = (int)by }, cancellationToken);
    }

    /// <summary>Rows of trigger_metrics in the window, optionally for one source and/or event type, by hour.</summary>
    public Task<IReadOnlyList<TriggerMetric>> GetMetricsAsync(DateTime? since, DateTime? until, string? source, string? eventType, CancellationToken cancellationToken) =>
        QueryAsync<TriggerMetric>("""
            SELECT hour AS Hour, source AS Source, event_type AS EventType, trigger_count AS TriggerCount,
                   active_count AS ActiveCount, node_targeting_ratio AS NodeTargetingRatio
            FROM trigger_metrics
            WHERE (@Since::timestamptz IS NULL OR hour >= @Since) AND (@Until::timestamptz IS NULL OR hour < @Until)
              AND (@Source::text IS NULL OR source = @Source) AND (@EventType::text IS NULL OR event_type = @EventType)
            ORDER BY hour, source, event_type
            """, new { Since = since, Until = until, Source = source, EventType = eventType }, cancellationToken);

    /// <summary>The node_targeting_stats view: targeted vs auto-detected active triggers.</summary>
    public Task<IReadOnlyList<NodeTargetingStat>> GetNodeTargetingAsync(CancellationToken cancellationToken) => QueryAsync<NodeTargetingStat>("""
        SELECT routing_type AS RoutingType, count AS Count, percentage AS Percentage
        FROM node_targeting_stats
        ORDER BY routing_type DESC
        """, null, cancellationToken);

    /// <summary>
    /// The most executed triggers in the last <paramref name="days"/> days. The document's query filters on
    /// el.created_at in WHERE, after its LEFT JOIN, which drops triggers that never ran; here the window is part of
    /// the join, so they appear with 0 when fewer than <paramref name="top"/> triggers ran.
    /// </summary>
    public async Task<IReadOnlyList<TriggerExecutionStat>> GetExecutionStatsAsync(int days, int top, CancellationToken cancellationToken)
    {
        const string sql = """
            WITH recent AS (
                SELECT el.trigger_id, count(el.id) AS executions, max(el.created_at) AS last_executed
                FROM execution_logs el
                WHERE el.created_at > CURRENT_DATE - make_interval(days => @Days)
                GROUP BY el.trigger_id
            )
            SELECT t.id AS Id, t.name AS Name, t.workflow_id AS WorkflowId, t.target_node_id AS TargetNodeId,
                   coalesce(r.executions, 0) AS ExecutionCount, r.last_executed AS LastExecutedAt
            FROM workflow_triggers t LEFT JOIN recent r ON r.trigger_id = t.id
            ORDER BY ExecutionCount DESC, t.id
            LIMIT @Top
            """;
        return await _connection.ReadAsync(
            async c =>
            {
                if (!(await EngineTables.ProbeAsync(c, cancellationToken).ConfigureAwait(false)).ExecutionLogs)
                {
                    throw TriggerEngineException.MissingTable("execution_logs", _connection.ToString(), "Execution statistics come from the workflow engine's execution_logs table.");
                }

                var rows = await c.QueryAsync<TriggerExecutionStat>(new CommandDefinition(sql, new { Days = days, Top = top }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return (IReadOnlyList<TriggerExecutionStat>)rows.ToList();
            },
            cancellationToken).ConfigureAwait(false);
    }

    private Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters, CancellationToken cancellationToken) =>
        _connection.ReadAsync(
            async c => (IReadOnlyList<T>)(await c.QueryAsync<T>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList(),
            cancellationToken);
}

using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers.Engine.Triggers;

/// <summary>A value tab completion offers, with what it is (a workflow's name, a node's type and workflow).</summary>
public sealed record CompletionValue(string Value, string Description);

/// <summary>
/// What tab completion offers, from the engine's tables where they exist (workflows, workflow_nodes) and from the
/// triggers otherwise, narrowed by what the command line already says (the sources, the workflows). Every value is
/// matched by its beginning, without regard to case. Distinct values of a column come from a skip scan of its index
/// (one index probe per distinct value), so their cost follows the number of values, not of triggers. Each query
/// runs under a short statement and lock timeout: completion must answer at once or not at all.
/// </summary>
public sealed class TriggerCompletions
{
    private readonly TriggerConnection _connection;

    public TriggerCompletions(TriggerConnection connection) => _connection = connection;

    /// <summary>Distinct values of a column of workflow_triggers; event types only of <paramref name="sources"/> when given.</summary>
    public Task<IReadOnlyList<CompletionValue>> ColumnValuesAsync(
        TriggerColumn column, string prefix, IReadOnlyList<string>? sources, int limit, CancellationToken cancellationToken)
    {
        var name = TriggerReader.ColumnName(column);
        var description = column switch
        {
            TriggerColumn.Source => "event source",
            TriggerColumn.EventType => sources is { Count: > 0 } ? $"event type of {string.Join(", ", sources)}" : "event type",
            TriggerColumn.WorkflowId => "workflow",
            _ => "target node",
        };
        var sql = column == TriggerColumn.EventType && sources is { Count: > 0 }
            ? "SELECT DISTINCT event_type FROM workflow_triggers WHERE source = ANY(@Sources) AND event_type ILIKE @Pattern ESCAPE '\\' ORDER BY 1 LIMIT @Limit"
            : $"WITH RECURSIVE {SkipScan.DistinctValues("v", name)}\nSELECT value FROM v WHERE value IS NOT NULL AND value ILIKE @Pattern ESCAPE '\\' LIMIT @Limit";
        return QueryAsync(
            async c => (await c.QueryAsync<string>(new CommandDefinition(sql, new { Pattern = Prefix(prefix), Sources = sources?.ToArray(), Limit = limit }, cancellationToken: cancellationToken)).ConfigureAwait(false))
                .Select(v => new CompletionValue(v, description)).ToList(),
            cancellationToken);
    }

    /// <summary>Workflows whose id starts with <paramref name="prefix"/> or whose name contains it, with their names.</summary>
    public Task<IReadOnlyList<CompletionValue>> WorkflowsAsync(string prefix, int limit, CancellationToken cancellationToken) =>
        QueryAsync(
            async c =>
            {
                if (!(await EngineTables.ProbeAsync(c, cancellationToken).ConfigureAwait(false)).Workflows)
                {
                    return null;
                }

                const string sql = """
                    SELECT id AS Value, coalesce(nullif(name, ''), id) AS Description FROM workflows
                    WHERE id ILIKE @Pattern ESCAPE '\' OR name ILIKE @Contains ESCAPE '\'
                    ORDER BY id ILIKE @Pattern ESCAPE '\' DESC, id LIMIT @Limit
                    """;
                return (await c.QueryAsync<CompletionValue>(new CommandDefinition(sql, new { Pattern = Prefix(prefix), Contains = "%" + Escape(prefix) + "%", Limit = limit }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
            },
            cancellationToken,
            fallback: () => ColumnValuesAsync(TriggerColumn.WorkflowId, prefix, null, limit, cancellationToken));

    /// <summary>
    /// Nodes of <paramref name="workflowIds"/> (of every workflow when none is known), from workflow_nodes: each with
    /// its type, name and workflow. Without that table, the target nodes triggers already use.
    /// </summary>
    public Task<IReadOnlyList<CompletionValue>> NodesAsync(string prefix, IReadOnlyList<string>? workflowIds, int limit, CancellationToken cancellationToken) =>
        QueryAsync(
            async c =>
            {
                var tables = await EngineTables.ProbeAsync(c, cancellationToken).ConfigureAwait(false);
                if (!tables.WorkflowNodes)
                {
                    return null;
                }

                var workflowName = tables.Workflows ? "(SELECT w.name FROM workflows w WHERE w.id = n.workflow_id)" : "NULL";
                var sql = $"""
                    SELECT n.node_id AS Value, concat_ws(' ', coalesce(nullif(n.node_type, ''), 'node'), '''' || nullif(n.name, '') || '''', 'of ' || n.workflow_id, '(' || {workflowName} || ')') AS Description
                    FROM workflow_nodes n
                    WHERE n.node_id ILIKE @Pattern ESCAPE '\' AND (@Workflows::text[] IS NULL OR n.workflow_id = ANY(@Workflows))
                    ORDER BY n.node_id, n.workflow_id LIMIT @Limit
                    """;
                var rows = await c.QueryAsync<CompletionValue>(new CommandDefinition(sql, new { Pattern = Prefix(prefix), Workflows = workflowIds?.ToArray(), Limit = limit }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                // A node id several workflows use is offered once, with each of them.
                return rows.GroupBy(r => r.Value, StringComparer.Ordinal)
                    .Select(g => new CompletionValue(g.Key, string.Join("; ", g.Select(r => r.Description))))
                    .ToList();
            },
            cancellationToken,
            fallback: () => ColumnValuesAsync(TriggerColumn.TargetNodeId, prefix, null, limit, cancellationToken));

    /// <summary>Trigger names that start with <paramref name="prefix"/>, of <paramref name="workflowIds"/> when given.</summary>
    public Task<IReadOnlyList<CompletionValue>> NamesAsync(string prefix, IReadOnlyList<string>? workflowIds, int limit, CancellationToken cancellationToken)
    {
        // Without ORDER BY the scan stops at the first matches; they are sorted here.
        const string sql = """
            SELECT name AS Value, 'trigger ' || id || ' of ' || workflow_id AS Description FROM workflow_triggers
            WHERE name ILIKE @Pattern ESCAPE '\' AND (@Workflows::text[] IS NULL OR workflow_id = ANY(@Workflows))
            LIMIT @Limit
            """;
        return QueryAsync(
            async c => (await c.QueryAsync<CompletionValue>(new CommandDefinition(sql, new { Pattern = Prefix(prefix), Workflows = workflowIds?.ToArray(), Limit = limit * 4 }, cancellationToken: cancellationToken)).ConfigureAwait(false))
                .GroupBy(r => r.Value, StringComparer.Ordinal)
                .Select(g => g.Count() == 1 ? g.First() : new CompletionValue(g.Key, $"{g.Count()} triggers"))
                .OrderBy(r => r.Value, StringComparer.OrdinalIgnoreCase)
                .Take(limit)
                .ToList(),
            cancellationToken);
    }

    /// <summary>The workflows of the given triggers: what a command line that names triggers by id is about.</summary>
    public Task<IReadOnlyList<CompletionValue>> WorkflowsOfTriggersAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken) =>
        QueryAsync(
            async c => (await c.QueryAsync<string>(new CommandDefinition(
                    "SELECT DISTINCT workflow_id FROM workflow_triggers WHERE id = ANY(@Ids) ORDER BY 1", new { Ids = ids.ToArray() }, cancellationToken: cancellationToken)).ConfigureAwait(false))
                .Select(w => new CompletionValue(w, "workflow")).ToList(),
            cancellationToken);

    private async Task<IReadOnlyList<CompletionValue>> QueryAsync(
        Func<NpgsqlConnection, Task<List<CompletionValue>?>> query, CancellationToken cancellationToken, Func<Task<IReadOnlyList<CompletionValue>>>? fallback = null)
    {
        var values = await _connection.InTransactionAsync(
            async (c, t) =>
            {
                await c.ExecuteAsync(new CommandDefinition(
                    "SELECT set_config('statement_timeout', '1500', true), set_config('lock_timeout', '1000', true)", transaction: t, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return await query(c).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        return values ?? (fallback is null ? Array.Empty<CompletionValue>() : await fallback().ConfigureAwait(false));
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    private static string Prefix(string prefix) => Escape(prefix) + "%";
}

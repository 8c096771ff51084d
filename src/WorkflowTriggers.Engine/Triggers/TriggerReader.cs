using System.Runtime.CompilerServices;
using System.Text;
using Dapper;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Orphans;

namespace WorkflowTriggers.Engine.Triggers;

/// <summary>Reads workflow_triggers: streaming queries by filter, distinct values for completion, and names for prompts.</summary>
public sealed class TriggerReader
{
    private readonly TriggerConnection _connection;
    private EngineTables? _tables;

    public TriggerReader(TriggerConnection connection) => _connection = connection;

    /// <summary>Streams the triggers that match every given filter, in id order, one row at a time.</summary>
    public async IAsyncEnumerable<TriggerRecord> QueryAsync(TriggerFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tables = _tables ??= await _connection.ProbeTablesAsync(cancellationToken).ConfigureAwait(false);
        if (filter.Orphans)
        {
            OrphanRule.RequireWorkflows(tables, _connection.ToString());
        }

        var sql = new StringBuilder(TriggerColumns.SelectFrom("workflow_triggers", tables)).Append("\nWHERE true");
        // Each fragment is fixed text chosen by which filters are present; the values travel as parameters.
        if (filter.Ids is not null) sql.Append("\n  AND t.id = ANY(@Ids)");
        if (filter.NamePattern is not null) sql.Append("\n  AND t.name ~* @NameRegex");
        if (filter.WorkflowId is not null) sql.Append("\n  AND t.workflow_id = @WorkflowId");
        if (filter.Source is not null) sql.Append("\n  AND t.source = @Source");
        if (filter.EventType is not null) sql.Append("\n  AND t.event_type = @EventType");
        if (filter.TargetNodeId is not null) sql.Append("\n  AND t.target_node_id = @TargetNodeId");
        // Literal true/false rather than a parameter, so the planner can match the document's partial indexes
        // (WHERE is_active = true) also with a generic plan.
        if (filter.IsActive == true) sql.Append("\n  AND t.is_active = true");
        if (filter.IsActive == false) sql.Append("\n  AND t.is_active IS NOT TRUE");
        if (filter.Untargeted) sql.Append("\n  AND t.target_node_id IS NULL");
        if (filter.Orphans) sql.Append("\n  AND " + OrphanRule.Predicate);
        sql.Append("\nORDER BY t.id");

        var parameters = new
        {
            Ids = filter.Ids?.ToArray(),
            NameRegex = filter.NamePattern is null ? null : WildcardTranslator.ToRegex(filter.NamePattern),
            filter.WorkflowId,
            filter.Source,
            filter.EventType,
            filter.TargetNodeId,
        };

        // Dapper's row parser over its own reader: typed rows, one at a time. (QueryUnbufferedAsync measured about
        // 4 ms more per call than this on the same query, which matters for lookups in monitoring loops.)
        await using var connection = await _connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        System.Data.Common.DbDataReader reader;
        try
        {
            reader = await connection.ExecuteReaderAsync(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw _connection.Translate(ex);
        }

        await using (reader.ConfigureAwait(false))
        {
            var parse = reader.GetRowParser<TriggerRecord>();
            while (true)
            {
                // Rows already in the driver's buffer do not look at the token; this makes Ctrl+C prompt.
                cancellationToken.ThrowIfCancellationRequested();
                bool more;
                try
                {
                    more = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    throw _connection.Translate(ex);
                }

                if (!more)
                {
                    yield break;
                }

                yield return parse(reader);
            }
        }
    }

    /// <summary>
    /// Up to <paramref name="limit"/> distinct values of a column that start with <paramref name="prefix"/>: for tab
    /// completion, so bounded by a short statement timeout rather than allowed to scan a large table for long.
    /// </summary>
    public Task<IReadOnlyList<string>> DistinctValuesAsync(TriggerColumn column, string prefix, int limit, CancellationToken cancellationToken)
    {
        var name = ColumnName(column);
        var sql = $"SELECT DISTINCT {name} FROM workflow_triggers WHERE {name} LIKE @Pattern ESCAPE '\\' ORDER BY 1 LIMIT @Limit";
        var pattern = prefix.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
        return _connection.InTransactionAsync<IReadOnlyList<string>>(
            async (connection, transaction) =>
            {
                await connection.ExecuteAsync(new CommandDefinition("SET LOCAL statement_timeout = '1500ms'", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                var values = await connection.QueryAsync<string>(new CommandDefinition(sql, new { Pattern = pattern, Limit = limit }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return values.ToArray();
            },
            cancellationToken);
    }

    /// <summary>Id, name and workflow of the given triggers that exist: to name them in prompts and errors.</summary>
    public Task<Dictionary<int, TriggerKey>> DescribeAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken) =>
        _connection.RunAsync(c => TriggerLookups.DescribeAsync(c, null, ids, cancellationToken), cancellationToken);

    /// <summary>The column of workflow_triggers a <see cref="TriggerColumn"/> names. SQL takes column names from here, never from a caller's text.</summary>
    internal static string ColumnName(TriggerColumn column) => column switch
    {
        TriggerColumn.WorkflowId => "workflow_id",
        TriggerColumn.Source => "source",
        TriggerColumn.EventType => "event_type",
        TriggerColumn.TargetNodeId => "target_node_id",
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };
}

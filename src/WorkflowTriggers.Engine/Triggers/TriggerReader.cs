using System.Runtime.CompilerServices;
using System.Text;
using Dapper;
using Npgsql;
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

        string? nameRegex = null;
        if (filter.NamePattern is not null && (nameRegex = WildcardTranslator.ToRegex(filter.NamePattern, out var invalid)) is null)
        {
            throw new TriggerEngineException(TriggerErrorKind.InvalidArgument, $"The name pattern '{filter.NamePattern}' is not a valid wildcard: {invalid}.")
            {
                ErrorId = "InvalidNamePattern",
            };
        }

        // Dapper's row parser over the driver's own command and reader: typed rows, one at a time, and a command this
        // method can cancel on the server when the caller stops reading early (Select-Object -First).
        NpgsqlConnection connection;
        NpgsqlCommand command;
        NpgsqlDataReader reader;
        bool more;
        for (var attempt = 1; ; attempt++)
        {
            connection = await _connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            command = new NpgsqlCommand(sql.ToString(), connection);
            if (filter.Ids is not null) command.Parameters.Add(new NpgsqlParameter<int[]>("Ids", filter.Ids.ToArray()));
            if (nameRegex is not null) command.Parameters.Add(new NpgsqlParameter<string>("NameRegex", nameRegex));
            if (filter.WorkflowId is not null) command.Parameters.Add(new NpgsqlParameter<string>("WorkflowId", filter.WorkflowId));
            if (filter.Source is not null) command.Parameters.Add(new NpgsqlParameter<string>("Source", filter.Source));
            if (filter.EventType is not null) command.Parameters.Add(new NpgsqlParameter<string>("EventType", filter.EventType));
            if (filter.TargetNodeId is not null) command.Parameters.Add(new NpgsqlParameter<string>("TargetNodeId", filter.TargetNodeId));
            try
            {
                reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                more = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Exception ex)
            {
                var failure = _connection.Translate(ex);
                await command.DisposeAsync().ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
                // No row has been returned yet: a pooled connection the server had closed is retried once, fresh.
                if (attempt == 1 && failure is TriggerEngineException { Kind: TriggerErrorKind.ConnectionFailed })
                {
                    continue;
                }

                throw failure;
            }
        }

        var finished = false;
        try
        {
            var parse = reader.GetRowParser<TriggerRecord>();
            while (more)
            {
                yield return parse(reader);

                // Rows already in the driver's buffer do not look at the token; this makes Ctrl+C prompt.
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    more = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    throw _connection.Translate(ex);
                }
            }

            finished = true;
        }
        finally
        {
            if (!finished)
            {
                // Stopped early: without this the reader's disposal would read every remaining row of the result.
                // The server ends the statement instead, so stopping costs the same on a million rows as on a thousand.
                command.Cancel();
            }

            try
            {
                await reader.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception) when (!finished)
            {
                // The statement was cancelled on purpose; its cancellation error is not news.
            }

            await command.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
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

    /// <summary>The given triggers that exist, as they are now (with their versions): to compare, name and confirm before a write.</summary>
    public async Task<Dictionary<int, TriggerRecord>> CurrentAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        var tables = _tables ??= await _connection.ProbeTablesAsync(cancellationToken).ConfigureAwait(false);
        return await _connection.ReadAsync(c => TriggerLookups.CurrentAsync(c, null, tables, ids, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

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

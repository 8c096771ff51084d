using System.Runtime.CompilerServices;
using System.Text;
using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Orphans;

namespace WorkflowTriggers.Engine.Triggers;

/// <summary>Reads workflow_triggers: streaming queries by filter, and the rows as they are now for prompts and checks.</summary>
public sealed class TriggerReader
{
    private readonly TriggerConnection _connection;
    private EngineTables? _tables;

    public TriggerReader(TriggerConnection connection) => _connection = connection;

    /// <summary>Streams the triggers that match every given filter, in id order, one row at a time.</summary>
    public async IAsyncEnumerable<TriggerRecord> QueryAsync(TriggerFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? nameRegex = null;
        if (filter.NamePattern is not null && (nameRegex = WildcardTranslator.ToRegex(filter.NamePattern, out var invalid)) is null)
        {
            throw new TriggerEngineException(TriggerErrorKind.InvalidArgument, $"The name pattern '{filter.NamePattern}' is not a valid wildcard: {invalid}.")
            {
                ErrorId = "InvalidNamePattern",
            };
        }

        var columns = new[]
        {
            ValueFilter.Of("workflow_id", "WorkflowIds", filter.WorkflowIds),
            ValueFilter.Of("source", "Sources", filter.Sources),
            ValueFilter.Of("event_type", "EventTypes", filter.EventTypes),
            ValueFilter.Of("target_node_id", "TargetNodeIds", filter.TargetNodeIds),
        }.OfType<ValueFilter>().ToList();

        // Dapper's row parser over the driver's own batch and reader: typed rows, one at a time, and statements this
        // method can cancel on the server when the caller stops reading early (Select-Object -First). One round trip
        // asks which tables exist and runs the query written for the tables seen last time; when they differ, the
        // query is written again and resent. On a session of the server's own (no pooler) both are prepared, which
        // spares the planner most of a lookup's cost from the second call on.
        NpgsqlConnection connection;
        NpgsqlBatch batch;
        NpgsqlDataReader reader;
        bool more;
        for (var attempt = 1; ; attempt++)
        {
            connection = await _connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            batch = new NpgsqlBatch(connection);
            NpgsqlDataReader? opened = null;
            try
            {
                // A remembered absence of workflows is asked again before it can refuse an orphan query.
                var expected = _connection.LastSeenTables is { } seenBefore && (seenBefore.Workflows || !filter.Orphans)
                    ? seenBefore
                    : await EngineTables.ProbeAsync(connection, cancellationToken).ConfigureAwait(false);
                batch.BatchCommands.Add(new NpgsqlBatchCommand(EngineTables.Sql));
                batch.BatchCommands.Add(Query(filter, expected, columns, nameRegex));
                if (_connection.StatementsStayPrepared)
                {
                    await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
                }

                opened = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await opened.ReadAsync(cancellationToken).ConfigureAwait(false);
                var seen = EngineTables.From(opened);
                _connection.LastSeenTables = seen;
                if (seen == expected)
                {
                    await opened.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    more = await opened.ReadAsync(cancellationToken).ConfigureAwait(false);
                    reader = opened;
                    break;
                }
            }
            catch (Exception ex)
            {
                var failure = _connection.Translate(ex);
                await CloseQuietlyAsync(opened, batch, connection).ConfigureAwait(false);
                // No row has been returned yet: a pooled connection the server had closed is retried once, fresh.
                if (attempt == 1 && failure is TriggerEngineException { Kind: TriggerErrorKind.ConnectionFailed })
                {
                    continue;
                }

                throw failure;
            }

            // A table came or went since the query was written: it is written again for the tables there now.
            await CloseQuietlyAsync(opened, batch, connection).ConfigureAwait(false);
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
                batch.Cancel();
            }

            try
            {
                await reader.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception) when (!finished)
            {
                // The statement was cancelled on purpose; its cancellation error is not news.
            }

            await batch.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    // The statements of a query that will not be read; the reader may still hold the query's error (a table it
    // names is gone), which is not news.
    private static async Task CloseQuietlyAsync(NpgsqlDataReader? reader, NpgsqlBatch batch, NpgsqlConnection connection)
    {
        try
        {
            if (reader is not null)
            {
                await reader.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
        }

        await batch.DisposeAsync().ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private NpgsqlBatchCommand Query(TriggerFilter filter, EngineTables tables, IReadOnlyList<ValueFilter> columns, string? nameRegex)
    {
        var query = new NpgsqlBatchCommand(Sql(filter, tables, columns));
        if (filter.Ids is not null) query.Parameters.Add(new NpgsqlParameter<int[]>("Ids", filter.Ids.ToArray()));
        if (nameRegex is not null) query.Parameters.Add(new NpgsqlParameter<string>("NameRegex", nameRegex));
        foreach (var column in columns)
        {
            column.AddParameters(query.Parameters);
        }

        return query;
    }

    // Fixed text chosen by which filters are present; the values travel as parameters.
    private string Sql(TriggerFilter filter, EngineTables tables, IReadOnlyList<ValueFilter> columns)
    {
        if (filter.Orphans)
        {
            OrphanRule.RequireWorkflows(tables, _connection.ToString());
        }

        var sql = new StringBuilder(TriggerColumns.SelectFrom("workflow_triggers", tables)).Append("\nWHERE true");
        if (filter.Ids is not null) sql.Append("\n  AND t.id = ANY(@Ids)");
        if (filter.NamePattern is not null) sql.Append("\n  AND t.name ~* @NameRegex");
        foreach (var column in columns)
        {
            sql.Append("\n  AND ").Append(column.Sql);
        }

        // Literal true/false rather than a parameter, so the planner can match the document's partial indexes
        // (WHERE is_active = true) also with a generic plan.
        if (filter.IsActive == true) sql.Append("\n  AND t.is_active = true");
        if (filter.IsActive == false) sql.Append("\n  AND t.is_active IS NOT TRUE");
        if (filter.Untargeted) sql.Append("\n  AND t.target_node_id IS NULL");
        if (filter.Orphans) sql.Append("\n  AND " + OrphanRule.Predicate);
        return sql.Append("\nORDER BY t.id").ToString();
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

/// <summary>
/// One column's filter of several values: the plain ones compared with = ANY (an index serves them, as it serves one
/// value), the wildcards as anchored case-insensitive regular expressions (<see cref="WildcardTranslator"/>). The SQL
/// is fixed text per shape; the values travel as parameters.
/// </summary>
internal sealed class ValueFilter
{
    private readonly string _parameter;
    private readonly string[] _plain;
    private readonly string[] _regexes;

    private ValueFilter(string parameter, string[] plain, string[] regexes, string sql)
    {
        _parameter = parameter;
        _plain = plain;
        _regexes = regexes;
        Sql = sql;
    }

    public string Sql { get; }

    public static ValueFilter? Of(string column, string parameter, IReadOnlyList<string>? values)
    {
        if (values is null || values.Count == 0)
        {
            return null;
        }

        var plain = values.Where(v => !WildcardTranslator.HasWildcards(v)).Select(WildcardTranslator.Unescape).Distinct(StringComparer.Ordinal).ToArray();
        var regexes = new List<string>();
        foreach (var pattern in values.Where(WildcardTranslator.HasWildcards))
        {
            regexes.Add(WildcardTranslator.ToRegex(pattern, out var invalid) ?? throw new TriggerEngineException(
                TriggerErrorKind.InvalidArgument, $"The pattern '{pattern}' for {column} is not a valid wildcard: {invalid}.") { ErrorId = "InvalidNamePattern" });
        }

        var parts = new List<string>();
        if (plain.Length == 1 && regexes.Count == 0)
        {
            // One value, the common lookup: the plain comparison the indexes and the measured plans were made for.
            parts.Add($"t.{column} = @{parameter}");
        }
        else if (plain.Length > 0)
        {
            parts.Add($"t.{column} = ANY(@{parameter})");
        }

        if (regexes.Count > 0)
        {
            parts.Add($"t.{column} ~* ANY(@{parameter}Patterns)");
        }

        return new ValueFilter(parameter, plain, regexes.ToArray(), parts.Count == 1 ? parts[0] : $"({string.Join(" OR ", parts)})");
    }

    public void AddParameters(NpgsqlParameterCollection parameters)
    {
        if (_plain.Length == 1 && _regexes.Length == 0)
        {
            parameters.Add(new NpgsqlParameter<string>(_parameter, _plain[0]));
        }
        else if (_plain.Length > 0)
        {
            parameters.Add(new NpgsqlParameter<string[]>(_parameter, _plain));
        }

        if (_regexes.Length > 0)
        {
            parameters.Add(new NpgsqlParameter<string[]>(_parameter + "Patterns", _regexes));
        }
    }
}

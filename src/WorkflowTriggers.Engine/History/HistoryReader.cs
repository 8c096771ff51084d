using System.Runtime.CompilerServices;
using System.Text.Json;
using Dapper;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;
using WorkflowTriggers.Engine.TriggersAsCode;

namespace WorkflowTriggers.Engine.History;

public enum HistoryOperation
{
    Insert,
    Update,
    Delete,
}

/// <summary>Which history entries to read; every filter given narrows the result.</summary>
public sealed record HistoryFilter(
    IReadOnlyList<int>? Ids = null,
    IReadOnlyList<string>? WorkflowIds = null,
    DateTime? Since = null,
    DateTime? Until = null,
    IReadOnlyList<string>? Users = null,
    IReadOnlyList<HistoryOperation>? Operations = null);

/// <summary>One recorded change of one trigger, with the row before and after it as JSON.</summary>
public sealed class HistoryEntry
{
    public long HistoryId { get; init; }
    public DateTime ChangedAt { get; init; }
    public HistoryOperation Operation { get; init; }
    public int TriggerId { get; init; }
    public string? TriggerName { get; init; }
    public string? WorkflowId { get; init; }
    public string UserName { get; init; } = string.Empty;
    public string? Application { get; init; }
    public string? ClientAddress { get; init; }
    public long TransactionId { get; init; }
    public string? Reason { get; init; }
    public string? OldRow { get; init; }
    public string? NewRow { get; init; }

    /// <summary>Each field a user can change that differs between the row before and after, both values as text.</summary>
    public IReadOnlyList<FieldChange> Changes()
    {
        using var before = OldRow is null ? null : JsonDocument.Parse(OldRow);
        using var after = NewRow is null ? null : JsonDocument.Parse(NewRow);
        var changes = new List<FieldChange>();
        foreach (var (field, column) in Columns)
        {
            var oldValue = Text(before, column);
            var newValue = Text(after, column);
            if (!string.Equals(oldValue, newValue, StringComparison.Ordinal))
            {
                changes.Add(new FieldChange(field, oldValue, newValue));
            }
        }

        return changes;
    }

    private static readonly (TriggerField Field, string Column)[] Columns =
    {
        (TriggerField.Name, "name"), (TriggerField.Description, "description"), (TriggerField.WorkflowId, "workflow_id"),
        (TriggerField.Source, "source"), (TriggerField.EventType, "event_type"), (TriggerField.TargetNodeId, "target_node_id"),
        (TriggerField.IsActive, "is_active"), (TriggerField.Config, "config"),
    };

    // A column's value as the rest of the module shows it: text as it is, booleans as True/False, config canonical.
    private static string? Text(JsonDocument? row, string column)
    {
        if (row is null || !row.RootElement.TryGetProperty(column, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.True => "True",
            JsonValueKind.False => "False",
            _ => column == "config" ? TriggerDocument.CanonicalConfig(value.GetRawText()) : value.GetRawText(),
        };
    }
}

/// <summary>Reads change history, streaming: a history of millions of entries is never held in memory.</summary>
public sealed class HistoryReader
{
    private const string Columns = """
        h.id AS HistoryId, h.changed_at AS ChangedAt, h.operation AS Operation, h.trigger_id AS TriggerId, h.trigger_name AS TriggerName,
        h.workflow_id AS WorkflowId, h.database_user AS UserName, h.application_name AS Application, host(h.client_addr) AS ClientAddress,
        h.transaction_id AS TransactionId, h.reason AS Reason, h.old_row::text AS OldRow, h.new_row::text AS NewRow
        """;

    private readonly TriggerConnection _connection;

    public HistoryReader(TriggerConnection connection) => _connection = connection;

    /// <summary>Entries matching <paramref name="filter"/>, oldest first (by time, then by the order they were recorded).</summary>
    public async IAsyncEnumerable<HistoryEntry> QueryAsync(HistoryFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var where = new (bool Given, string Sql)[]
            {
                (filter.Ids is not null, "h.trigger_id = ANY(@Ids)"),
                (filter.WorkflowIds is not null, "h.workflow_id = ANY(@WorkflowIds)"),
                (filter.Since is not null, "h.changed_at >= @Since"),
                (filter.Until is not null, "h.changed_at <= @Until"),
                (filter.Users is not null, "h.database_user = ANY(@Users)"),
                (filter.Operations is not null, "h.operation = ANY(@Operations)"),
            }
            .Where(p => p.Given).Select(p => p.Sql).ToList();
        // The predicates are fixed text chosen by which filters are given; every value travels as a parameter.
        var sql = $"SELECT {Columns} FROM {ChangeHistory.Table} h{(where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where))} ORDER BY h.changed_at, h.id";
        var parameters = new
        {
            Ids = filter.Ids?.ToArray(),
            WorkflowIds = filter.WorkflowIds?.ToArray(),
            Since = filter.Since?.ToUniversalTime(),
            Until = filter.Until?.ToUniversalTime(),
            Users = filter.Users?.ToArray(),
            Operations = filter.Operations?.Select(o => o.ToString()).ToArray(),
        };

        var connection = await _connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var on = await _connection.ReadAsync(
                c => c.ExecuteScalarAsync<bool>(new CommandDefinition($"SELECT to_regclass('{ChangeHistory.Table}') IS NOT NULL", cancellationToken: cancellationToken)),
                cancellationToken).ConfigureAwait(false);
            if (!on)
            {
                throw TriggerEngineException.MissingTable(ChangeHistory.Table, _connection.ToString(), "Change history is not on in this database.");
            }

            var rows = connection.QueryUnbufferedAsync<HistoryEntry>(sql, parameters).GetAsyncEnumerator(cancellationToken);
            await using (rows.ConfigureAwait(false))
            {
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await rows.MoveNextAsync().ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        throw _connection.Translate(ex);
                    }

                    if (!more)
                    {
                        yield break;
                    }

                    yield return rows.Current;
                }
            }
        }
    }
}

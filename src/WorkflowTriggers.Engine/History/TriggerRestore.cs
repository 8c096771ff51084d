using System.Text.Json.Nodes;
using Dapper;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.TriggersAsCode;

namespace WorkflowTriggers.Engine.History;

/// <summary>What change history knows of a trigger at a moment.</summary>
public enum RestoreState
{
    /// <summary>It existed, and <see cref="RestorePoint.RowJson"/> is its row.</summary>
    Existed,

    /// <summary>It did not exist: deleted before the moment, or created after it.</summary>
    Absent,

    /// <summary>History has no entry of it on either side of the moment.</summary>
    Unknown,
}

/// <summary>A trigger at a moment, as change history tells it: <see cref="ChangedAt"/> is the change that says so.</summary>
public sealed record RestorePoint(int TriggerId, RestoreState State, string? RowJson, DateTime? ChangedAt);

/// <summary>
/// Finds triggers' states at a moment in change history. The latest entry at or before the moment gives the row
/// after it; where there is none, the first entry after the moment gives the row before it (an insert after the
/// moment means the trigger did not exist yet). Putting a state back goes through the import path, as entries.
/// </summary>
public sealed class TriggerRestore
{
    private const string StateSql = $"""
        SELECT i.id AS TriggerId,
               b.operation AS BeforeOperation, b.changed_at AS BeforeAt, b.new_row::text AS BeforeRow,
               a.operation AS AfterOperation, a.changed_at AS AfterAt, a.old_row::text AS AfterOldRow
        FROM unnest(@Ids::int[]) i(id)
        LEFT JOIN LATERAL (
            SELECT h.operation, h.changed_at, h.new_row FROM {ChangeHistory.Table} h
            WHERE h.trigger_id = i.id AND h.changed_at <= @AsOf ORDER BY h.changed_at DESC, h.id DESC LIMIT 1) b ON true
        LEFT JOIN LATERAL (
            SELECT h.operation, h.changed_at, h.old_row FROM {ChangeHistory.Table} h
            WHERE h.trigger_id = i.id AND h.changed_at > @AsOf ORDER BY h.changed_at, h.id LIMIT 1) a ON true
        ORDER BY i.id
        """;

    private static readonly (string Column, string Key)[] Keys =
    {
        ("id", "id"), ("name", "name"), ("description", "description"), ("workflow_id", "workflowId"), ("source", "source"),
        ("event_type", "eventType"), ("target_node_id", "targetNodeId"), ("is_active", "isActive"), ("config", "config"),
    };

    private readonly TriggerConnection _connection;

    public TriggerRestore(TriggerConnection connection) => _connection = connection;

    /// <summary>Each trigger's state at <paramref name="asOf"/>, in id order.</summary>
    public Task<IReadOnlyList<RestorePoint>> StateAtAsync(IReadOnlyList<int> ids, DateTime asOf, CancellationToken cancellationToken) =>
        _connection.ReadAsync(
            async c =>
            {
                if (!await c.ExecuteScalarAsync<bool>(new CommandDefinition($"SELECT to_regclass('{ChangeHistory.Table}') IS NOT NULL", cancellationToken: cancellationToken)).ConfigureAwait(false))
                {
                    throw TriggerEngineException.MissingTable(ChangeHistory.Table, _connection.ToString(), "Change history is not on in this database.");
                }

                var rows = await c.QueryAsync<StateRow>(new CommandDefinition(StateSql, new { Ids = ids.Distinct().ToArray(), AsOf = asOf.ToUniversalTime() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return (IReadOnlyList<RestorePoint>)rows.Select(Point).ToList();
            },
            cancellationToken);

    /// <summary>
    /// A row of change history (its JSON, as the history table holds it) as an import entry that states every
    /// field and names its trigger by id alone, read and checked by the triggers file's rules.
    /// </summary>
    public static TriggerDocumentEntry EntryOf(int index, string rowJson)
    {
        var row = JsonNode.Parse(rowJson)!.AsObject();
        var entry = new JsonObject();
        foreach (var (column, key) in Keys)
        {
            entry[key] = row[column]?.DeepClone();
        }

        var parsed = TriggerDocument.ParseEntry(index, entry.ToJsonString());
        parsed.IdNamesTrigger = true;
        return parsed;
    }

    private static RestorePoint Point(StateRow row) => row switch
    {
        { BeforeOperation: "Insert" or "Update" } => new(row.TriggerId, RestoreState.Existed, row.BeforeRow, row.BeforeAt),
        { BeforeOperation: "Delete" } => new(row.TriggerId, RestoreState.Absent, null, row.BeforeAt),
        { AfterOperation: "Insert" } => new(row.TriggerId, RestoreState.Absent, null, row.AfterAt),
        { AfterOperation: "Update" or "Delete" } => new(row.TriggerId, RestoreState.Existed, row.AfterOldRow, row.AfterAt),
        _ => new(row.TriggerId, RestoreState.Unknown, null, null),
    };

    internal sealed record StateRow(int TriggerId, string? BeforeOperation, DateTime? BeforeAt, string? BeforeRow, string? AfterOperation, DateTime? AfterAt, string? AfterOldRow);
}

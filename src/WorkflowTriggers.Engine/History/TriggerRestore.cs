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

    /// <summary>History does not reach back to the moment, or has no entry of a trigger that is not there now.</summary>
    Unknown,
}

/// <summary>A trigger at a moment, as change history tells it.</summary>
public sealed record RestorePoint(int TriggerId, RestoreState State, string? RowJson);

/// <summary>
/// A moment to go back to, for one trigger: just before its change <paramref name="FromHistoryId"/> recorded at
/// <paramref name="At"/>, or (with <see cref="long.MaxValue"/>) the end of <paramref name="At"/>.
/// </summary>
public readonly record struct RestoreCut(int TriggerId, DateTime At, long FromHistoryId = long.MaxValue);

/// <summary>
/// Finds triggers' states at a moment by walking back from now: the trigger as it is (or nothing), then each change
/// recorded after the moment undone, newest first. An update's entry holds the old values of what it changed, a
/// delete's the whole row, and an insert means nothing was there before. Putting a state back goes through the
/// import path, as entries.
/// </summary>
public sealed class TriggerRestore
{
    private const string ChangesSql = $"""
        SELECT c.trigger_id AS TriggerId, h.operation AS Operation, h.old_row::text AS OldRow
        FROM unnest(@Ids::int[], @Ats::timestamptz[], @FromIds::bigint[]) c(trigger_id, at, from_id)
        JOIN {ChangeHistory.Table} h ON h.trigger_id = c.trigger_id AND (h.changed_at > c.at OR (h.changed_at = c.at AND h.id >= c.from_id))
        ORDER BY c.trigger_id, h.changed_at DESC, h.id DESC
        """;

    private static readonly (string Column, string Key)[] Keys =
    {
        ("id", "id"), ("name", "name"), ("description", "description"), ("workflow_id", "workflowId"), ("source", "source"),
        ("event_type", "eventType"), ("target_node_id", "targetNodeId"), ("is_active", "isActive"), ("config", "config"),
    };

    private readonly TriggerConnection _connection;

    public TriggerRestore(TriggerConnection connection) => _connection = connection;

    /// <summary>Each trigger's state at its cut, in id order.</summary>
    public Task<IReadOnlyList<RestorePoint>> StateAtAsync(IReadOnlyList<RestoreCut> cuts, CancellationToken cancellationToken) =>
        _connection.ReadAsync(
            async c =>
            {
                await ChangeHistory.RequireOnAsync(c, _connection.ToString(), cancellationToken).ConfigureAwait(false);
                var enabledAt = await c.ExecuteScalarAsync<DateTime>(new CommandDefinition(
                    $"SELECT enabled_at FROM {ChangeHistory.SettingsTable}", cancellationToken: cancellationToken)).ConfigureAwait(false);

                var ids = cuts.Select(k => k.TriggerId).ToArray();
                var now = (await c.QueryAsync<(int Id, string Row)>(new CommandDefinition(
                        "SELECT t.id, to_jsonb(t)::text FROM workflow_triggers t WHERE t.id = ANY(@Ids)", new { Ids = ids }, cancellationToken: cancellationToken)).ConfigureAwait(false))
                    .ToDictionary(r => r.Id, r => r.Row);
                var changes = (await c.QueryAsync<ChangeRow>(new CommandDefinition(
                        ChangesSql,
                        new { Ids = ids, Ats = cuts.Select(k => k.At.ToUniversalTime()).ToArray(), FromIds = cuts.Select(k => k.FromHistoryId).ToArray() },
                        cancellationToken: cancellationToken)).ConfigureAwait(false))
                    .ToLookup(r => r.TriggerId);
                var known = (await c.QueryAsync<int>(new CommandDefinition(
                    $"SELECT DISTINCT trigger_id FROM {ChangeHistory.Table} WHERE trigger_id = ANY(@Ids)", new { Ids = ids }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToHashSet();
                return (IReadOnlyList<RestorePoint>)cuts.OrderBy(k => k.TriggerId)
                    .Select(k => k.At.ToUniversalTime() < enabledAt.ToUniversalTime() || (!now.ContainsKey(k.TriggerId) && !known.Contains(k.TriggerId))
                        ? new RestorePoint(k.TriggerId, RestoreState.Unknown, null)
                        : WalkBack(k.TriggerId, now.GetValueOrDefault(k.TriggerId), changes[k.TriggerId]))
                    .ToList();
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

    private static RestorePoint WalkBack(int id, string? current, IEnumerable<ChangeRow> newestFirst)
    {
        var state = current is null ? null : JsonNode.Parse(current)!.AsObject();
        foreach (var change in newestFirst)
        {
            switch (change.Operation)
            {
                case "Insert":
                    state = null;
                    break;
                case "Delete":
                    state = JsonNode.Parse(change.OldRow!)!.AsObject();
                    break;
                default:
                    foreach (var (column, value) in JsonNode.Parse(change.OldRow ?? "{}")!.AsObject())
                    {
                        if (state is not null)
                        {
                            state[column] = value?.DeepClone();
                        }
                    }

                    break;
            }
        }

        return state is null ? new RestorePoint(id, RestoreState.Absent, null) : new RestorePoint(id, RestoreState.Existed, state.ToJsonString());
    }

    internal sealed record ChangeRow(int TriggerId, string Operation, string? OldRow);
}

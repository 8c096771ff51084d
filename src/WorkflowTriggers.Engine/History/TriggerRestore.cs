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

    /// <summary>A clean-up removed entries after the moment (<see cref="RestorePoint.ClearedBefore"/>): the state then cannot be told.</summary>
    Cleared,
}

/// <summary>A trigger at a moment, as change history tells it.</summary>
public sealed record RestorePoint(int TriggerId, RestoreState State, string? RowJson)
{
    /// <summary>
    /// The trigger with this id now, as JSON, when it is not the one that had the id at the moment: that one was
    /// deleted and the id given to a trigger created since. Null when the id still names the same trigger.
    /// </summary>
    public string? ReusedByRowJson { get; init; }

    /// <summary>For <see cref="RestoreState.Cleared"/>: the latest moment whose entries were removed.</summary>
    public DateTime? ClearedBefore { get; init; }
}

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
    private static string ChangesSql(ModuleHome home) => $"""
        SELECT c.trigger_id AS TriggerId, h.operation AS Operation, h.old_row::text AS OldRow
        FROM unnest(@Ids::int[], @Ats::timestamptz[], @FromIds::bigint[]) c(trigger_id, at, from_id)
        JOIN {home.Qualify(ChangeHistory.Table)} h ON h.trigger_id = c.trigger_id AND (h.changed_at > c.at OR (h.changed_at = c.at AND h.id >= c.from_id))
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
                var home = await ChangeHistory.RequireOnAsync(c, _connection.ToString(), cancellationToken).ConfigureAwait(false);
                var reach = await c.QuerySingleAsync<(DateTime EnabledAt, DateTime? ClearedBefore)>(new CommandDefinition(
                    $"SELECT enabled_at, cleared_before FROM {home.Qualify(ChangeHistory.SettingsTable)}", cancellationToken: cancellationToken)).ConfigureAwait(false);

                var ids = cuts.Select(k => k.TriggerId).ToArray();
                var now = (await c.QueryAsync<(int Id, string Row)>(new CommandDefinition(
                        "SELECT t.id, to_jsonb(t)::text FROM workflow_triggers t WHERE t.id = ANY(@Ids)", new { Ids = ids }, cancellationToken: cancellationToken)).ConfigureAwait(false))
                    .ToDictionary(r => r.Id, r => r.Row);
                var changes = (await c.QueryAsync<ChangeRow>(new CommandDefinition(
                        ChangesSql(home),
                        new { Ids = ids, Ats = cuts.Select(k => k.At.ToUniversalTime()).ToArray(), FromIds = cuts.Select(k => k.FromHistoryId).ToArray() },
                        cancellationToken: cancellationToken)).ConfigureAwait(false))
                    .ToLookup(r => r.TriggerId);
                var known = (await c.QueryAsync<int>(new CommandDefinition(
                    $"SELECT DISTINCT trigger_id FROM {home.Qualify(ChangeHistory.Table)} WHERE trigger_id = ANY(@Ids)", new { Ids = ids }, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToHashSet();
                return (IReadOnlyList<RestorePoint>)cuts.OrderBy(k => k.TriggerId)
                    .Select(k => k.At.ToUniversalTime() < reach.EnabledAt.ToUniversalTime() || (!now.ContainsKey(k.TriggerId) && !known.Contains(k.TriggerId))
                        ? new RestorePoint(k.TriggerId, RestoreState.Unknown, null)
                        : reach.ClearedBefore is { } cut && k.At.ToUniversalTime() < cut.ToUniversalTime()
                            ? new RestorePoint(k.TriggerId, RestoreState.Cleared, null) { ClearedBefore = cut }
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
        // The trigger there now was created after the moment: whatever had the id then is another trigger.
        var createdSince = false;
        foreach (var change in newestFirst)
        {
            switch (change.Operation)
            {
                case "Insert":
                    state = null;
                    createdSince = true;
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

        return state is null
            ? new RestorePoint(id, RestoreState.Absent, null)
            : new RestorePoint(id, RestoreState.Existed, state.ToJsonString()) { ReusedByRowJson = createdSince && !SameIdentity(state, current) ? current : null };
    }

    // A trigger is its workflow and its name: a trigger re-created with its id (a restore) is still the same one.
    private static bool SameIdentity(JsonObject then, string? current)
    {
        if (current is null)
        {
            return true;
        }

        var now = JsonNode.Parse(current)!.AsObject();
        return (string?)then["workflow_id"] == (string?)now["workflow_id"] && (string?)then["name"] == (string?)now["name"];
    }

    internal sealed record ChangeRow(int TriggerId, string Operation, string? OldRow);
}

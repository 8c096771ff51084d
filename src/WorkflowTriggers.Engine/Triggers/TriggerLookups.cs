using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;

namespace WorkflowTriggers.Engine.Triggers;

/// <summary>Look-ups the writers share: naming triggers, finding workflows the engine does not hold, explaining skipped rows.</summary>
internal static class TriggerLookups
{
    /// <summary>The given triggers that exist, as they are now.</summary>
    public static async Task<Dictionary<int, TriggerRecord>> CurrentAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, EngineTables tables, IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        var sql = TriggerColumns.SelectFrom("workflow_triggers", tables) + "\nWHERE t.id = ANY(@Ids)";
        var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(sql, new { Ids = ids.ToArray() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Id);
    }

    /// <summary>Of the given workflow ids, those the engine's workflows table does not hold (none when it does not exist).</summary>
    public static async Task<HashSet<string>> MissingWorkflowsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, EngineTables tables, IEnumerable<string> workflowIds, CancellationToken cancellationToken)
    {
        var wanted = workflowIds.Distinct(StringComparer.Ordinal).ToArray();
        var missing = new HashSet<string>(StringComparer.Ordinal);
        if (tables.Workflows && wanted.Length > 0)
        {
            var found = await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT id FROM workflows WHERE id = ANY(@Ids)", new { Ids = wanted }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            missing.UnionWith(wanted.Except(found, StringComparer.Ordinal));
        }

        return missing;
    }

    /// <summary>
    /// Where the engine's workflows table exists, refuses (into <paramref name="result"/>) the items that name a
    /// workflow it does not hold, in one query for the batch; returns the rest with their input positions.
    /// </summary>
    public static async Task<List<(int Index, T Item)>> AcceptKnownWorkflowsAsync<T>(
        NpgsqlConnection connection, NpgsqlTransaction transaction, EngineTables tables, IReadOnlyList<T> items, Func<T, string?> workflowOf, BatchResult result, CancellationToken cancellationToken)
    {
        var missing = await MissingWorkflowsAsync(connection, transaction, tables, items.Select(workflowOf).OfType<string>(), cancellationToken).ConfigureAwait(false);
        var accepted = new List<(int Index, T Item)>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            if (workflowOf(items[i]) is { } workflowId && missing.Contains(workflowId))
            {
                result.Rejected.Add(new RejectedTrigger(i, TriggerRejection.WorkflowNotFound, WorkflowId: workflowId));
            }
            else
            {
                accepted.Add((i, items[i]));
            }
        }

        return accepted;
    }

    /// <summary>
    /// Collects a conditional write's rows in input order. A requested trigger that exists but was not written is
    /// refused as changed since read when its version moved on, else with <paramref name="refusal"/> (the statement's
    /// other condition said no), rather than as not found; only those are looked up.
    /// </summary>
    public static async Task CollectExplainingRefusalsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, EngineTables tables, BatchResult result, IEnumerable<TriggerRecord> rows,
        IReadOnlyList<VersionedId> requested, Func<int, TriggerRecord, RejectedTrigger>? refusal, CancellationToken cancellationToken)
    {
        var written = rows.ToList();
        var writtenIds = written.Select(r => r.Id).ToHashSet();
        var skipped = requested.Select(r => r.Id).Where(id => !writtenIds.Contains(id)).Distinct().ToArray();
        var current = skipped.Length == 0
            ? new Dictionary<int, TriggerRecord>()
            : await CurrentAsync(connection, transaction, tables, skipped, cancellationToken).ConfigureAwait(false);
        result.CollectInInputOrder(written, requested.Select((r, index) => (index, r.Id)), (index, id) =>
        {
            if (!current.TryGetValue(id, out var row))
            {
                return BatchResult.NotFound(index, id);
            }

            return requested[index].Version is { } version && version != row.RowVersion || refusal is null
                ? new RejectedTrigger(index, TriggerRejection.ChangedSinceRead, id, row.Key, row.WorkflowId, ChangedAt: row.UpdatedAt)
                : refusal(index, row);
        });
    }
}

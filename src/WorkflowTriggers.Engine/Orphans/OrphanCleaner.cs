using Dapper;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Orphans;

/// <summary>Archives or deletes triggers whose workflow no longer exists (the document's cleanup, with NOT EXISTS).</summary>
public sealed class OrphanCleaner
{
    private readonly TriggerConnection _connection;
    private EngineTables? _tables;

    public OrphanCleaner(TriggerConnection connection) => _connection = connection;

    private async Task<EngineTables> TablesAsync(CancellationToken cancellationToken) =>
        _tables ??= await _connection.ProbeTablesAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Fails with a MissingTable error when the engine's workflows table does not exist.</summary>
    public async Task RequireWorkflowsAsync(CancellationToken cancellationToken) =>
        OrphanRule.RequireWorkflows(await TablesAsync(cancellationToken).ConfigureAwait(false), _connection.ToString());

    /// <summary>Of the given triggers, those that are not orphans now (their workflow exists), each as a NotAnOrphan refusal: what a write would refuse.</summary>
    public async Task<IReadOnlyList<RejectedTrigger>> NotOrphansAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken)
    {
        var tables = await TablesAsync(cancellationToken).ConfigureAwait(false);
        OrphanRule.RequireWorkflows(tables, _connection.ToString());
        var sql = TriggerColumns.SelectFrom("workflow_triggers", tables) + $"\nWHERE t.id = ANY(@Ids) AND NOT ({OrphanRule.Predicate})";
        var rows = await _connection.ReadAsync(
            c => c.QueryAsync<TriggerRecord>(new CommandDefinition(sql, new { Ids = ids.ToArray() }, cancellationToken: cancellationToken)),
            cancellationToken).ConfigureAwait(false);
        var index = ids.Select((id, i) => (id, i)).GroupBy(p => p.id).ToDictionary(g => g.Key, g => g.First().i);
        return rows.Select(r => new RejectedTrigger(index[r.Id], TriggerRejection.NotAnOrphan, r.Id, r.Key, r.WorkflowId)).ToList();
    }

    /// <summary>
    /// Archives (is_active = false, as the document's cleanup does) or deletes the given triggers, in one statement,
    /// if they are still orphans when the statement runs; the others are refused as not orphaned or not found.
    /// </summary>
    public async Task<BatchResult> CleanUpAsync(IReadOnlyList<int> ids, bool delete, CancellationToken cancellationToken)
    {
        var write = delete
            ? $"DELETE FROM workflow_triggers t WHERE t.id = ANY(@Ids) AND {OrphanRule.Predicate} {TriggerColumns.Returning}"
            : $"UPDATE workflow_triggers t SET is_active = false, updated_at = CURRENT_TIMESTAMP WHERE t.id = ANY(@Ids) AND {OrphanRule.Predicate} {TriggerColumns.Returning}";
        var result = new BatchResult();
        if (ids.Count == 0)
        {
            return result;
        }

        var tables = await TablesAsync(cancellationToken).ConfigureAwait(false);
        OrphanRule.RequireWorkflows(tables, _connection.ToString());
        return await _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                    $"WITH written AS ({write})\n{TriggerColumns.SelectWritten(tables)}", new { Ids = ids.ToArray() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await TriggerLookups.CollectExplainingRefusalsAsync(connection, transaction, tables, result, rows, ids.Select(id => new VersionedId(id)).ToArray(), (index, row) => new RejectedTrigger(
                    index, TriggerRejection.NotAnOrphan, row.Id, row.Key, row.WorkflowId), cancellationToken).ConfigureAwait(false);
                return result;
            },
            cancellationToken).ConfigureAwait(false);
    }
}

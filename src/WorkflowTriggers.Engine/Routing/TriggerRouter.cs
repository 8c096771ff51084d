using Dapper;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Routing;

/// <summary>Routes triggers to a node of their workflow, or clears their target node, a batch per statement.</summary>
public sealed class TriggerRouter
{
    private readonly TriggerConnection _connection;
    private EngineTables? _tables;

    public TriggerRouter(TriggerConnection connection) => _connection = connection;

    /// <summary>
    /// Sets (or, with a null node, clears) target_node_id. Unless <paramref name="force"/>, and where the engine's
    /// workflow_nodes table exists, a node that is not in the trigger's workflow is refused for that trigger.
    /// </summary>
    public async Task<BatchResult> SetTargetNodeAsync(IReadOnlyList<(VersionedId Trigger, string? NodeId)> requests, bool force, CancellationToken cancellationToken)
    {
        const string write = $$"""
            WITH requested AS (
                SELECT * FROM unnest(@Ids, @Versions, @NodeIds) AS r(id, version, node_id)
            ), written AS (
                UPDATE workflow_triggers t SET target_node_id = c.node_id, updated_at = CURRENT_TIMESTAMP
                FROM requested c
                WHERE t.id = c.id AND {{TriggerColumns.VersionMatches}} {0}
                {{TriggerColumns.Returning}}
            )

            """;
        var nodeInWorkflow = $"AND (c.node_id IS NULL OR {RoutingRule.NodeInWorkflow("t.workflow_id", "c.node_id")})";

        var result = new BatchResult();
        if (requests.Count == 0)
        {
            return result;
        }

        var tables = _tables ??= await _connection.ProbeTablesAsync(cancellationToken).ConfigureAwait(false);
        var checkNodes = !force && RoutingRule.Applies(tables);
        return await _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                var parameters = new
                {
                    Ids = requests.Select(r => r.Trigger.Id).ToArray(),
                    Versions = requests.Select(r => r.Trigger.Version).ToArray(),
                    NodeIds = requests.Select(r => r.NodeId).ToArray(),
                };
                var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                    string.Format(write, checkNodes ? nodeInWorkflow : string.Empty) + TriggerColumns.SelectWritten(tables),
                    parameters,
                    transaction,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
                // Only the triggers the update skipped need naming: absent, changed since read, or their workflow lacks the node.
                await TriggerLookups.CollectExplainingRefusalsAsync(connection, transaction, tables, result, rows, requests.Select(r => r.Trigger).ToArray(), (index, row) => new RejectedTrigger(
                    index, TriggerRejection.NodeNotInWorkflow, row.Id, row.Key, row.WorkflowId, requests[index].NodeId), cancellationToken).ConfigureAwait(false);
                return result;
            },
            cancellationToken).ConfigureAwait(false);
    }
}

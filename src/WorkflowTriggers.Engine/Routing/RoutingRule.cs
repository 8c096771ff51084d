using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;

namespace WorkflowTriggers.Engine.Routing;

/// <summary>
/// The one routing rule every write obeys: where the engine's workflow_nodes table exists, a trigger's target node
/// must be a node of the trigger's workflow (its new workflow, when a change moves it). New, Set, Set-TriggerTargetNode
/// and Import apply it; a caller may set a node anyway only on purpose (-Force).
/// </summary>
internal static class RoutingRule
{
    /// <summary>True when node <paramref name="node"/> is a node of workflow <paramref name="workflow"/> (SQL expressions).</summary>
    public static string NodeInWorkflow(string workflow, string node) =>
        $"EXISTS (SELECT 1 FROM workflow_nodes n WHERE n.workflow_id = {workflow} AND n.node_id = {node})";

    /// <summary>Whether the rule can be checked: without workflow_nodes nothing says which nodes a workflow has.</summary>
    public static bool Applies(EngineTables tables) => tables.WorkflowNodes;

    /// <summary>Of the given (workflow, node) pairs, those whose node is not a node of the workflow.</summary>
    public static async Task<HashSet<(string WorkflowId, string NodeId)>> BrokenAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, EngineTables tables, IEnumerable<(string WorkflowId, string NodeId)> routes, CancellationToken cancellationToken)
    {
        var wanted = routes.Distinct().ToArray();
        var broken = new HashSet<(string, string)>();
        if (!Applies(tables) || wanted.Length == 0)
        {
            return broken;
        }

        var sql = $"""
            SELECT p.workflow_id AS WorkflowId, p.node_id AS NodeId
            FROM unnest(@WorkflowIds::text[], @NodeIds::text[]) AS p(workflow_id, node_id)
            WHERE NOT {NodeInWorkflow("p.workflow_id", "p.node_id")}
            """;
        var rows = await connection.QueryAsync<(string WorkflowId, string NodeId)>(new CommandDefinition(
            sql, new { WorkflowIds = wanted.Select(w => w.WorkflowId).ToArray(), NodeIds = wanted.Select(w => w.NodeId).ToArray() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        broken.UnionWith(rows);
        return broken;
    }
}

using Dapper;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Routing;

/// <summary>An input node of a workflow, in the engine's order (lowest workflow_nodes.id first).</summary>
public sealed class InputNode
{
    public string WorkflowId { get; init; } = string.Empty;
    public string NodeId { get; init; } = string.Empty;
    public string? NodeType { get; init; }
    public string? Name { get; init; }
    public int Ordinal { get; init; }
    public bool IsFirst => Ordinal == 1;
}

/// <summary>Where an event would land for one active trigger: the routing dry-run's answer.</summary>
public sealed class TriggerRoute
{
    public int TriggerId { get; init; }
    public string TriggerName { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;
    public string Source { get; init; } = string.Empty;
    public string EventType { get; init; } = string.Empty;

    /// <summary>'targeted' when the trigger names its node, else 'auto_detected' (see <see cref="Routing.RoutingType"/>).</summary>
    public string RoutingType { get; init; } = string.Empty;

    /// <summary>The node the event would be handed to; null when it would not be routed.</summary>
    public string? NodeId { get; init; }

    /// <summary>True when the trigger's target node is no longer a node of its workflow.</summary>
    public bool TargetNodeMissing { get; init; }

    /// <summary>True when the event would reach a node that exists.</summary>
    public bool WillRoute { get; init; }

    /// <summary>Why the event would not be routed, or a caveat; empty when all is well.</summary>
    public string Reason { get; init; } = string.Empty;
}

/// <summary>
/// The engine's workflow graph, read-only: which nodes are input nodes, and where an event would be routed.
/// The input-node rule lives here and nowhere else.
/// </summary>
public sealed class WorkflowGraph
{
    /// <summary>
    /// The engine's rule: an input node has no incoming connection within its workflow. Cycles need no special
    /// care: nodes on a cycle all have an incoming connection, so they are simply not input nodes.
    /// </summary>
    internal const string InputNodesSql = """
        SELECT n.id, n.workflow_id, n.node_id, n.node_type, n.name
        FROM workflow_nodes n
        WHERE NOT EXISTS (
            SELECT 1 FROM workflow_connections c
            WHERE c.workflow_id = n.workflow_id AND c.to_node_id = n.node_id)
        """;

    /// <summary>Each workflow's first input node (lowest workflow_nodes.id): columns workflow_id, node_id.</summary>
    internal const string FirstInputNodesSql = $"""
        SELECT DISTINCT ON (i.workflow_id) i.workflow_id, i.node_id
        FROM ({InputNodesSql}) i
        ORDER BY i.workflow_id, i.id
        """;

    private readonly TriggerConnection _connection;

    public WorkflowGraph(TriggerConnection connection) => _connection = connection;

    /// <summary>Fails with a MissingTable error naming the first of the graph's tables this database lacks.</summary>
    internal static void RequireGraph(EngineTables tables, string databaseDisplay)
    {
        var missing = !tables.WorkflowNodes ? "workflow_nodes" : !tables.WorkflowConnections ? "workflow_connections" : null;
        if (missing is not null)
        {
            throw TriggerEngineException.MissingTable(missing, databaseDisplay, "Input nodes are read from the workflow engine's workflow_nodes and workflow_connections tables.");
        }
    }

    /// <summary>The input nodes of the given workflows, in the order asked for, each workflow's nodes in engine order.</summary>
    public async Task<IReadOnlyList<InputNode>> GetInputNodesAsync(IReadOnlyList<string> workflowIds, CancellationToken cancellationToken)
    {
        const string sql = $"""
            SELECT i.workflow_id AS WorkflowId, i.node_id AS NodeId, i.node_type AS NodeType, i.name AS Name,
                   row_number() OVER (PARTITION BY i.workflow_id ORDER BY i.id)::int AS Ordinal
            FROM ({InputNodesSql}) i
            WHERE i.workflow_id = ANY(@WorkflowIds)
            ORDER BY array_position(@WorkflowIds, i.workflow_id::text), i.id
            """;
        if (workflowIds.Count == 0)
        {
            return Array.Empty<InputNode>();
        }

        return await _connection.ReadAsync(
            async c =>
            {
                RequireGraph(await EngineTables.ProbeAsync(c, cancellationToken).ConfigureAwait(false), _connection.ToString());
                var rows = await c.QueryAsync<InputNode>(new CommandDefinition(sql, new { WorkflowIds = workflowIds.ToArray() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return (IReadOnlyList<InputNode>)rows.ToList();
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Of the given workflow ids, those the engine's workflows table does not hold (none when it does not exist).</summary>
    public async Task<IReadOnlySet<string>> UnknownWorkflowsAsync(IReadOnlyList<string> workflowIds, CancellationToken cancellationToken) =>
        await _connection.ReadAsync(
            async c => (IReadOnlySet<string>)await TriggerLookups.MissingWorkflowsAsync(c, null, await EngineTables.ProbeAsync(c, cancellationToken).ConfigureAwait(false), workflowIds, cancellationToken).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// The active triggers an event of this source and type would fire, and where each would route it. Reads only.
    /// Without the graph tables, targeted triggers still answer (their node unchecked) and the others say why not.
    /// </summary>
    public async Task<IReadOnlyList<TriggerRoute>> TestRouteAsync(string source, string eventType, string? workflowId, CancellationToken cancellationToken)
    {
        const string withGraph = $"""
            WITH fired AS (
                SELECT t.id, t.name, t.workflow_id, t.source, t.event_type, t.target_node_id
                FROM workflow_triggers t
                WHERE t.is_active = true AND t.source = @Source AND t.event_type = @EventType
                  AND (@WorkflowId::text IS NULL OR t.workflow_id = @WorkflowId)
            ), first_input AS (
                {FirstInputNodesSql}
            )
            SELECT f.id AS TriggerId, f.name AS TriggerName, f.workflow_id AS WorkflowId, f.source AS Source, f.event_type AS EventType,
                   f.target_node_id AS TargetNodeId, fi.node_id AS FirstInputNodeId,
                   EXISTS (SELECT 1 FROM workflow_nodes n WHERE n.workflow_id = f.workflow_id) AS WorkflowHasNodes,
                   (f.target_node_id IS NOT NULL AND NOT EXISTS (
                       SELECT 1 FROM workflow_nodes n WHERE n.workflow_id = f.workflow_id AND n.node_id = f.target_node_id)) AS TargetNodeMissing,
                   true AS GraphKnown
            FROM fired f LEFT JOIN first_input fi ON fi.workflow_id = f.workflow_id
            ORDER BY f.id
            """;
        const string withoutGraph = """
            SELECT t.id AS TriggerId, t.name AS TriggerName, t.workflow_id AS WorkflowId, t.source AS Source, t.event_type AS EventType,
                   t.target_node_id AS TargetNodeId, NULL::text AS FirstInputNodeId, false AS WorkflowHasNodes,
                   false AS TargetNodeMissing, false AS GraphKnown
            FROM workflow_triggers t
            WHERE t.is_active = true AND t.source = @Source AND t.event_type = @EventType
              AND (@WorkflowId::text IS NULL OR t.workflow_id = @WorkflowId)
            ORDER BY t.id
            """;

        return await _connection.ReadAsync(
            async c =>
            {
                var tables = await EngineTables.ProbeAsync(c, cancellationToken).ConfigureAwait(false);
                var graph = tables.WorkflowNodes && tables.WorkflowConnections;
                var rows = await c.QueryAsync<RouteRow>(new CommandDefinition(
                    graph ? withGraph : withoutGraph, new { Source = source, EventType = eventType, WorkflowId = workflowId }, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return (IReadOnlyList<TriggerRoute>)rows.Select(r => r.ToRoute()).ToList();
            },
            cancellationToken).ConfigureAwait(false);
    }

    private sealed class RouteRow
    {
        public int TriggerId { get; init; }
        public string TriggerName { get; init; } = string.Empty;
        public string WorkflowId { get; init; } = string.Empty;
        public string Source { get; init; } = string.Empty;
        public string EventType { get; init; } = string.Empty;
        public string? TargetNodeId { get; init; }
        public string? FirstInputNodeId { get; init; }
        public bool WorkflowHasNodes { get; init; }
        public bool TargetNodeMissing { get; init; }
        public bool GraphKnown { get; init; }

        public TriggerRoute ToRoute()
        {
            var targeted = TargetNodeId is not null;
            var node = targeted ? TargetNodeId : FirstInputNodeId;
            string reason;
            if (targeted && TargetNodeMissing)
            {
                reason = $"Target node '{TargetNodeId}' is no longer a node of workflow '{WorkflowId}'.";
            }
            else if (targeted)
            {
                reason = GraphKnown ? string.Empty : "Target node not checked: the workflow_nodes or workflow_connections table does not exist.";
            }
            else if (!GraphKnown)
            {
                reason = "No target node, and the input node cannot be found: the workflow_nodes or workflow_connections table does not exist.";
            }
            else if (node is null)
            {
                reason = WorkflowHasNodes
                    ? $"No target node, and workflow '{WorkflowId}' has no input node (every node has an incoming connection)."
                    : $"No target node, and workflow '{WorkflowId}' has no nodes.";
            }
            else
            {
                reason = string.Empty;
            }

            return new TriggerRoute
            {
                TriggerId = TriggerId,
                TriggerName = TriggerName,
                WorkflowId = WorkflowId,
                Source = Source,
                EventType = EventType,
                RoutingType = Routing.RoutingType.Of(TargetNodeId),
                NodeId = node,
                TargetNodeMissing = TargetNodeMissing,
                WillRoute = node is not null && !TargetNodeMissing && (GraphKnown || targeted),
                Reason = reason,
            };
        }
    }
}

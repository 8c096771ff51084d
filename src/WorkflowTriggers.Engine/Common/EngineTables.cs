using Dapper;
using Npgsql;

namespace WorkflowTriggers.Engine.Common;

/// <summary>Which tables exist where the connection's search_path points: the module's own and the engine's.</summary>
public sealed record EngineTables(bool WorkflowTriggers, bool Workflows, bool WorkflowNodes, bool WorkflowConnections, bool ExecutionLogs)
{
    internal const string Sql = """
        SELECT to_regclass('workflow_triggers') IS NOT NULL AS WorkflowTriggers,
               to_regclass('workflows') IS NOT NULL AS Workflows,
               to_regclass('workflow_nodes') IS NOT NULL AS WorkflowNodes,
               to_regclass('workflow_connections') IS NOT NULL AS WorkflowConnections,
               to_regclass('execution_logs') IS NOT NULL AS ExecutionLogs
        """;

    internal static Task<EngineTables> ProbeAsync(NpgsqlConnection connection, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null) =>
        connection.QuerySingleAsync<EngineTables>(new CommandDefinition(Sql, transaction: transaction, cancellationToken: cancellationToken));

    /// <summary>The row <see cref="Sql"/> returns, read from where a reader stands.</summary>
    internal static EngineTables From(NpgsqlDataReader reader) =>
        new(reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4));
}

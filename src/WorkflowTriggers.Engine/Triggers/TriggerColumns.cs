using WorkflowTriggers.Engine.Common;

namespace WorkflowTriggers.Engine.Triggers;

/// <summary>
/// The one home of workflow_triggers' column list and of the select list that maps a row to <see cref="TriggerRecord"/>.
/// Every statement that writes or reads whole triggers takes its columns from here.
/// </summary>
internal static class TriggerColumns
{
    /// <summary>The columns a trigger is written with (all but id and the timestamps), in the order values are given.</summary>
    public static readonly IReadOnlyList<string> Writable = new[] { "name", "description", "workflow_id", "source", "event_type", "target_node_id", "config", "is_active" };

    /// <summary><see cref="Writable"/> as a column list.</summary>
    public static readonly string WritableList = string.Join(", ", Writable);

    /// <summary>"column = alias.column" for every writable column, for an UPDATE ... FROM a row source of text arrays.</summary>
    public static string AssignFrom(string alias) =>
        string.Join(", ", Writable.Select(c => c == "config" ? $"config = {alias}.config::jsonb" : $"{c} = {alias}.{c}"));

    // The workflow's name comes from the engine's workflows table only where it exists.
    private const string Fields = """
        SELECT t.id AS Id, t.name AS Name, t.description AS Description, t.workflow_id AS WorkflowId,
               {1} AS WorkflowName, t.source AS Source, t.event_type AS EventType,
               t.target_node_id AS TargetNodeId, t.config::text AS ConfigJson,
               coalesce(t.is_active, false) AS IsActive, t.created_at AS CreatedAt, t.updated_at AS UpdatedAt
        FROM {0} t
        """;

    /// <summary>The select list of triggers from <paramref name="relation"/> (a table, or a CTE of written rows), aliased t.</summary>
    public static string SelectFrom(string relation, EngineTables tables) =>
        tables.Workflows
            ? string.Format(Fields, relation, "w.name") + " LEFT JOIN workflows w ON w.id = t.workflow_id"
            : string.Format(Fields, relation, "NULL::text");

    /// <summary>The select list of the rows a write CTE named 'written' returned (RETURNING t.*).</summary>
    public static string SelectWritten(EngineTables tables) => SelectFrom("written", tables);
}

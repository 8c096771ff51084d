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

    /// <summary>
    /// A row's version: its xmin, which every update of the row changes, whoever makes it (this module, the engine's
    /// application, psql). A write conditional on it cannot overwrite a change it has not seen.
    /// </summary>
    public const string RowVersion = "t.xmin::text::bigint";

    /// <summary>What a write returns for <see cref="SelectWritten"/>: the row and its new version.</summary>
    public const string Returning = $"RETURNING t.*, {RowVersion} AS row_version";

    /// <summary>True when a change (aliased c, with a nullable version column) may be applied to row t.</summary>
    public const string VersionMatches = $"(c.version IS NULL OR {RowVersion} = c.version)";

    // The workflow's name comes from the engine's workflows table only where it exists.
    private const string Fields = """
        SELECT t.id AS Id, t.name AS Name, t.description AS Description, t.workflow_id AS WorkflowId,
               {1} AS WorkflowName, t.source AS Source, t.event_type AS EventType,
               t.target_node_id AS TargetNodeId, t.config::text AS ConfigJson,
               coalesce(t.is_active, false) AS IsActive, t.created_at AS CreatedAt, t.updated_at AS UpdatedAt,
               {2} AS RowVersion
        FROM {0} t
        """;

    /// <summary>The select list of triggers from <paramref name="relation"/> (the table, or a CTE of written rows), aliased t.</summary>
    public static string SelectFrom(string relation, EngineTables tables)
    {
        // A CTE of written rows carries the version RETURNING gave it; xmin is a column of the table only.
        var version = relation == "workflow_triggers" ? RowVersion : "t.row_version";
        return tables.Workflows
            ? string.Format(Fields, relation, "w.name", version) + " LEFT JOIN workflows w ON w.id = t.workflow_id"
            : string.Format(Fields, relation, "NULL::text", version);
    }

    /// <summary>The select list of the rows a write CTE named 'written' returned (<see cref="Returning"/>).</summary>
    public static string SelectWritten(EngineTables tables) => SelectFrom("written", tables);
}

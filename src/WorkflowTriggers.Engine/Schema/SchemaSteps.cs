using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Schema;

/// <summary>
/// A versioned step of the schema. Every statement is idempotent (IF NOT EXISTS, or guarded by a catalog look-up),
/// so adopting a table that predates the module is the same as applying the steps to it. The IF NOT EXISTS here is
/// about workflow_triggers alone, the engine's table, which is adopted whoever owns it (that is what adopting means;
/// about_WorkflowTriggers_Security says to check its owner): its columns and indexes can be made only by its owner,
/// and an index name taken on another table leaves the module's index missing, which drift reports. The module's own
/// objects never go through IF NOT EXISTS; the views are checked before CREATE OR REPLACE VIEW (SchemaInstaller).
/// </summary>
public sealed record SchemaVersionStep(string Version, string Name, string UpSql, string? DownSql, string? DownWarning);

/// <summary>The schema of the design document, as two versions: before and after "Add Target Node Support".</summary>
public static class SchemaSteps
{
    /// <summary>The table before the document's migration: everything but target_node_id.</summary>
    public const string BaseVersion = "1.0.0";

    /// <summary>The document's "Add Target Node Support": target_node_id, its indexes and the views.</summary>
    public const string TargetNodeVersion = "2.0.0";

    public const string HistoryTable = "workflow_triggers_schema_history";

    public const string ForeignKeyName = "fk_workflow_triggers_workflow_id";

    /// <summary>
    /// The CHECK constraints of the document, by name: "not empty" and "Database-Level Validation". Limits and
    /// patterns come from <see cref="TriggerRules"/>, so the server and the module check the same rule.
    /// </summary>
    public static readonly IReadOnlyList<(string Name, string Check)> CheckConstraints = new[]
    {
        ("chk_trigger_name_not_empty", "length(trim(name)) > 0"),
        ("chk_workflow_id_not_empty", "length(trim(workflow_id)) > 0"),
        ("chk_source_not_empty", "length(trim(source)) > 0"),
        ("chk_event_type_not_empty", "length(trim(event_type)) > 0"),
        ("chk_trigger_name_valid", $"length(trim(name)) BETWEEN {TriggerRules.MinNameLength} AND {TriggerRules.MaxLength}"),
        ("chk_config_is_object", "jsonb_typeof(config) = 'object'"),
        ("chk_event_type_format", $"event_type ~ '{TriggerRules.EventTypePattern}'"),
        ("chk_source_format", $"source ~ '{TriggerRules.SourcePattern}'"),
    };

    /// <summary>Every index the document names, with the version that introduces it.</summary>
    public static readonly IReadOnlyList<(string Version, string Name, string Definition)> Indexes = new[]
    {
        (BaseVersion, "idx_workflow_triggers_workflow_id", "ON workflow_triggers(workflow_id)"),
        (BaseVersion, "idx_workflow_triggers_source", "ON workflow_triggers(source)"),
        (BaseVersion, "idx_workflow_triggers_event_type", "ON workflow_triggers(event_type)"),
        (BaseVersion, "idx_workflow_triggers_active", "ON workflow_triggers(is_active) WHERE is_active = true"),
        (BaseVersion, "idx_workflow_triggers_event_lookup", "ON workflow_triggers(source, event_type) WHERE is_active = true"),
        (BaseVersion, "idx_active_triggers_workflow", "ON workflow_triggers(workflow_id) WHERE is_active = true"),
        (BaseVersion, "idx_active_triggers_event", "ON workflow_triggers(source, event_type) WHERE is_active = true"),
        (BaseVersion, "idx_trigger_config_gin", "ON workflow_triggers USING GIN (config)"),
        (TargetNodeVersion, "idx_workflow_triggers_target_node", "ON workflow_triggers(target_node_id)"),
        // The document's index list makes this one partial; its Alembic migration does not. The schema section wins.
        (TargetNodeVersion, "idx_workflow_triggers_composite", "ON workflow_triggers(workflow_id, target_node_id) WHERE is_active = true"),
        (TargetNodeVersion, "idx_trigger_lookup_covering", "ON workflow_triggers(workflow_id, source, event_type) INCLUDE (target_node_id, config) WHERE is_active = true"),
    };

    private const string CreateTable = """
        CREATE TABLE IF NOT EXISTS workflow_triggers (
            id SERIAL PRIMARY KEY,
            name VARCHAR(255) NOT NULL,
            description TEXT,
            workflow_id VARCHAR(255) NOT NULL,
            source VARCHAR(255) NOT NULL,
            event_type VARCHAR(255) NOT NULL,
            config JSONB DEFAULT '{}',
            is_active BOOLEAN DEFAULT true,
            created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
        );
        """;

    private const string CreateViews = $$"""
        CREATE OR REPLACE VIEW trigger_metrics AS
        SELECT
            DATE_TRUNC('hour', created_at) as hour,
            source,
            event_type,
            COUNT(*) as trigger_count,
            COUNT(CASE WHEN is_active THEN 1 END) as active_count,
            AVG(CASE WHEN target_node_id IS NOT NULL THEN 1 ELSE 0 END) as node_targeting_ratio
        FROM workflow_triggers
        GROUP BY DATE_TRUNC('hour', created_at), source, event_type;

        CREATE OR REPLACE VIEW node_targeting_stats AS
        SELECT
            {{RoutingType.Sql}} as routing_type,
            COUNT(*) as count,
            ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER (), 2) as percentage
        FROM workflow_triggers
        WHERE is_active = true
        GROUP BY (target_node_id IS NOT NULL);
        """;

    public static readonly IReadOnlyList<SchemaVersionStep> Versions = new[]
    {
        new SchemaVersionStep(
            BaseVersion,
            "Create workflow_triggers",
            CreateTable + IndexesOf(BaseVersion) + ConstraintsSql(),
            DownSql: null,
            DownWarning: null),
        new SchemaVersionStep(
            TargetNodeVersion,
            "Add target node support",
            "ALTER TABLE workflow_triggers ADD COLUMN IF NOT EXISTS target_node_id VARCHAR(255);\n" + IndexesOf(TargetNodeVersion) + CreateViews,
            DownSql: """
                DROP VIEW IF EXISTS node_targeting_stats;
                DROP VIEW IF EXISTS trigger_metrics;
                DROP INDEX IF EXISTS idx_trigger_lookup_covering;
                DROP INDEX IF EXISTS idx_workflow_triggers_composite;
                DROP INDEX IF EXISTS idx_workflow_triggers_target_node;
                ALTER TABLE workflow_triggers DROP COLUMN IF EXISTS target_node_id;
                """,
            DownWarning: "drops the column target_node_id and every target node stored in it"),
    };

    public static string LatestVersion => Versions[^1].Version;

    /// <summary>The module's record of applied versions, in the schema of workflow_triggers.</summary>
    internal static readonly ModuleTable HistoryTableDefinition = new(HistoryTable, new ModuleColumn[]
    {
        new("version", "character varying(32)", "PRIMARY KEY"),
        new("name", "text", "NOT NULL"),
        new("applied_at", "timestamp with time zone", "NOT NULL DEFAULT CURRENT_TIMESTAMP"),
        new("applied_by", "text", "NOT NULL DEFAULT current_user"),
        new("adopted", "boolean", "NOT NULL DEFAULT false"),
    });

    /// <summary>The document's views: made with CREATE OR REPLACE VIEW only after their owner is checked (a stranger's view would run its code for every reader).</summary>
    public static readonly IReadOnlyList<string> Views = new[] { "trigger_metrics", "node_targeting_stats" };

    /// <summary>Adds the workflows foreign key. NOT VALID keeps existing rows (orphans are reported, not rejected).</summary>
    public static string ForeignKeySql(bool validateExisting) =>
        $"ALTER TABLE workflow_triggers ADD CONSTRAINT {ForeignKeyName} FOREIGN KEY (workflow_id) REFERENCES workflows(id) ON DELETE CASCADE{(validateExisting ? string.Empty : " NOT VALID")};";

    /// <summary>The position of a version in <see cref="Versions"/>; -1 when this module does not know it.</summary>
    public static int IndexOf(string version)
    {
        for (var i = 0; i < Versions.Count; i++)
        {
            if (Versions[i].Version == version)
            {
                return i;
            }
        }

        return -1;
    }

    private static string IndexesOf(string version) =>
        string.Concat(Indexes.Where(i => i.Version == version).Select(i => $"CREATE INDEX IF NOT EXISTS {i.Name} {i.Definition};\n"));

    // ADD CONSTRAINT has no IF NOT EXISTS; a catalog look-up makes each one safe to run again. Each is added NOT VALID
    // and then validated: rows of an adopted table that break it keep the constraint NOT VALID (new rows are checked,
    // old ones stay), as the workflows foreign key does with orphans, instead of failing the whole install.
    private static string ConstraintsSql() =>
        "DO $$\nBEGIN\n" + string.Concat(CheckConstraints.Select(c => $"""
                IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'workflow_triggers'::regclass AND conname = '{c.Name}') THEN
                    ALTER TABLE workflow_triggers ADD CONSTRAINT {c.Name} CHECK ({c.Check}) NOT VALID;
                    BEGIN
                        ALTER TABLE workflow_triggers VALIDATE CONSTRAINT {c.Name};
                    EXCEPTION WHEN check_violation THEN
                        NULL;
                    END;
                END IF;

            """)) + "END\n$$;\n";

    /// <summary>The document's CHECK constraints that exist but are NOT VALID: rows older than them may break them.</summary>
    public const string UnvalidatedChecksSql = """
        SELECT conname FROM pg_constraint
        WHERE conrelid = to_regclass('workflow_triggers') AND contype = 'c' AND NOT convalidated
        ORDER BY conname
        """;

    /// <summary>How many rows break a CHECK (it is false for them; NULL passes a CHECK), and the first of their ids.</summary>
    public static string ViolatorsSql(string check) =>
        $"SELECT count(*) AS Count, coalesce((array_agg(id ORDER BY id))[1:5], ARRAY[]::int[]) AS FirstIds FROM workflow_triggers WHERE ({check}) IS FALSE";
}

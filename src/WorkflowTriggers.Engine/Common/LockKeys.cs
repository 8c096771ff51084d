namespace WorkflowTriggers.Engine.Common;

/// <summary>
/// The PostgreSQL advisory-lock keys the module takes, as SQL expressions. Each key is derived in SQL from the
/// connection's current schema, so the same work in two schemas of one database does not block itself. Only
/// transaction-scoped locks (pg_advisory_xact_lock) are taken: a session lock would outlive its transaction on a
/// pooled server session. Work that spans transactions takes a <see cref="Lease"/> instead.
/// </summary>
internal static class LockKeys
{
    /// <summary>Held by each step of a schema install, upgrade or downgrade, and by the creation of the module's own tables.</summary>
    public const string Schema = "hashtextextended(coalesce(current_schema(), '') || '.workflow_triggers.schema', 0)";

    /// <summary>Held, for its transaction, by a triggers-as-code import: its planning again and its writing, so two imports at once give the result of one.</summary>
    public const string Import = "hashtextextended(coalesce(current_schema(), '') || '.workflow_triggers.import', 0)";

    /// <summary>Held, for its transaction, by a load that skips triggers that already exist, so two such loads cannot both create one.</summary>
    public const string IdempotentLoad = "hashtextextended(coalesce(current_schema(), '') || '.workflow_triggers.load', 0)";
}

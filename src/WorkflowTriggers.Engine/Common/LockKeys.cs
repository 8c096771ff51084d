namespace WorkflowTriggers.Engine.Common;

/// <summary>
/// The PostgreSQL advisory-lock keys the module takes, as SQL expressions. Each key is derived in SQL from the
/// connection's current schema, so the same work in two schemas of one database does not block itself.
/// </summary>
internal static class LockKeys
{
    /// <summary>Held by a schema install, upgrade or downgrade.</summary>
    public const string Schema = "hashtextextended(coalesce(current_schema(), '') || '.workflow_triggers.schema', 0)";

    /// <summary>Held by a target-node backfill.</summary>
    public const string Backfill = "hashtextextended(coalesce(current_schema(), '') || '.workflow_triggers.backfill', 0)";

    /// <summary>Held, for its transaction, by a load that skips triggers that already exist, so two such loads cannot both create one.</summary>
    public const string IdempotentLoad = "hashtextextended(coalesce(current_schema(), '') || '.workflow_triggers.load', 0)";

    /// <summary>
    /// The session that holds the advisory lock <paramref name="key"/>: its server process, application, client and
    /// since when it is connected. pg_locks splits a bigint key into classid (high half) and objid (low half).
    /// </summary>
    public static string HolderSql(string key) => $"""
        SELECT a.pid AS Pid, coalesce(a.application_name, '') AS ApplicationName, coalesce(a.client_addr::text, 'local') AS Client,
               a.backend_start AS Since
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted
          AND l.classid::bigint = ({key} >> 32) & 4294967295 AND l.objid::bigint = {key} & 4294967295
        LIMIT 1
        """;
}

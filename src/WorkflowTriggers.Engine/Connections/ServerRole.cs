namespace WorkflowTriggers.Engine.Connections;

/// <summary>What the server is: a primary or a standby in recovery, whether it takes writes, and how far behind a standby is.</summary>
public sealed class ServerRole
{
    internal const string Sql = """
        SELECT pg_is_in_recovery() AS IsStandby,
               current_setting('transaction_read_only') = 'on' AS ReadOnly,
               CASE WHEN NOT pg_is_in_recovery() THEN NULL
                    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                    ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS ReplayLagSeconds
        """;

    public bool IsStandby { get; init; }

    public bool ReadOnly { get; init; }

    /// <summary>
    /// On a standby, how long ago the last transaction it replayed was committed on the primary: 0 when it has replayed
    /// all it received, null when it cannot tell (nothing replayed since it started, and not caught up).
    /// </summary>
    public double? ReplayLagSeconds { get; init; }

    public string Role => IsStandby ? "standby" : "primary";
}

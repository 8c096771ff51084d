using WorkflowTriggers.Engine.Common;

namespace WorkflowTriggers;

/// <summary>
/// Who held a backfill lease (Unlock-TriggerBackfill): what the server knew of the session that took or last renewed
/// it (database user, client address, server process and when it started), and what the client said of itself.
/// </summary>
public sealed class TriggerBackfillLease
{
    public string Database { get; init; } = string.Empty;
    public string User { get; init; } = string.Empty;
    public string? ClientAddress { get; init; }
    public int? ServerProcessId { get; init; }
    public DateTime? BackendStart { get; init; }

    /// <summary>Whether that server session is still connected; null when this user may not see it.</summary>
    public bool? Connected { get; init; }
    public string Application { get; init; } = string.Empty;
    public string Host { get; init; } = string.Empty;
    public int ProcessId { get; init; }
    public DateTime AcquiredAt { get; init; }
    public DateTime ExpiresAt { get; init; }
    public bool Expired { get; init; }

    /// <summary>The lease claims more time than any backfill asks for: no backfill wrote it.</summary>
    public bool Implausible { get; init; }

    public override string ToString() =>
        $"database user {User} (server process {ServerProcessId?.ToString() ?? "unknown"}, client {ClientAddress ?? "local socket"}; the client says host {Host}, process {ProcessId}), " +
        $"taken {AcquiredAt:yyyy-MM-dd HH:mm:ss}, expiring {ExpiresAt:yyyy-MM-dd HH:mm:ss}";

    internal static TriggerBackfillLease From(LeaseHolder holder, string database) => new()
    {
        Database = database,
        User = holder.User,
        ClientAddress = holder.ClientAddress,
        ServerProcessId = holder.ServerProcessId,
        BackendStart = LocalTime.Of(holder.BackendStart),
        Connected = holder.Connected,
        Application = holder.Application,
        Host = holder.Host,
        ProcessId = holder.ProcessId,
        AcquiredAt = LocalTime.Of(holder.AcquiredAt),
        ExpiresAt = LocalTime.Of(holder.ExpiresAt),
        Expired = holder.Expired,
        Implausible = holder.Implausible,
    };
}

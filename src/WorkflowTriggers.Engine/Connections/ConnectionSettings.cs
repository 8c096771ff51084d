using System.Data.Common;
using Npgsql;
using WorkflowTriggers.Engine.Common;

namespace WorkflowTriggers.Engine.Connections;

/// <summary>
/// The document's pool settings (SQLAlchemy) translated to Npgsql, applied only where the caller's
/// connection string does not say otherwise. This is the one place pool settings live.
/// </summary>
/// <remarks>
/// pool_size 20 + max_overflow 30 -> Maximum Pool Size 50; pool_timeout 30 -> Timeout 30 (wait to open) and
/// Command Timeout 30; pool_recycle 3600 -> Connection Lifetime 3600; pool_pre_ping has no Npgsql switch: Npgsql
/// discards a pooled connection that the server closed when it is next opened, which is what pre-ping buys.
/// </remarks>
public static class ConnectionSettings
{
    public const int MaximumPoolSize = 50;
    public const int TimeoutSeconds = 30;
    public const int CommandTimeoutSeconds = 30;
    public const int ConnectionLifetimeSeconds = 3600;
    public const string ApplicationName = "WorkflowTriggers";

    // Each default, with every spelling Npgsql accepts for it, so a caller's own value always wins.
    private static readonly (string[] Keys, Action<NpgsqlConnectionStringBuilder> Apply)[] Defaults =
    {
        (new[] { "maximum pool size", "maxpoolsize", "max pool size" }, b => b.MaxPoolSize = MaximumPoolSize),
        (new[] { "timeout" }, b => b.Timeout = TimeoutSeconds),
        (new[] { "command timeout", "commandtimeout" }, b => b.CommandTimeout = CommandTimeoutSeconds),
        (new[] { "connection lifetime", "connectionlifetime", "load balance timeout" }, b => b.ConnectionLifetime = ConnectionLifetimeSeconds),
        (new[] { "application name", "applicationname" }, b => b.ApplicationName = ApplicationName),
    };

    /// <summary>The connection string the module really uses: the caller's, plus the document's pool defaults.</summary>
    public static string Effective(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ArgumentException("The connection string is empty.", nameof(connectionString));
        }

        NpgsqlConnectionStringBuilder builder;
        DbConnectionStringBuilder given;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
            given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        }
        catch (ArgumentException ex)
        {
            // The framework's message can quote the text around the fault, which may hold the password.
            throw new TriggerEngineException(TriggerErrorKind.InvalidArgument, $"The connection string is not valid: {RedactedReason(ex)}", inner: null);
        }

        var keys = given.Keys.Cast<string>().Select(k => k.Trim().ToLowerInvariant()).ToHashSet();
        foreach (var (names, apply) in Defaults)
        {
            if (!names.Any(keys.Contains))
            {
                apply(builder);
            }
        }

        return builder.ConnectionString;
    }

    /// <summary>A connection string from parts, as Connect-TriggerDatabase -Server/-Database builds it.</summary>
    public static string FromParts(string server, string database, string? username, string? password, string? sslMode)
    {
        var builder = new NpgsqlConnectionStringBuilder { Database = database };
        var (host, port) = SplitServer(server);
        builder.Host = host;
        if (port is not null)
        {
            builder.Port = port.Value;
        }

        if (!string.IsNullOrEmpty(username))
        {
            builder.Username = username;
        }

        if (!string.IsNullOrEmpty(password))
        {
            builder.Password = password;
        }

        if (!string.IsNullOrEmpty(sslMode))
        {
            if (!Enum.TryParse<SslMode>(sslMode, ignoreCase: true, out var mode) || !Enum.IsDefined(mode))
            {
                throw new TriggerEngineException(TriggerErrorKind.InvalidArgument, $"SslMode '{sslMode}' is not one of {string.Join(", ", SslModeNames)}.");
            }

            builder.SslMode = mode;
        }

        return builder.ConnectionString;
    }

    public static string[] SslModeNames => Enum.GetNames<SslMode>();

    /// <summary>The servers of a Host value ("a,b:5433,[::1]:6432"), each as host:port with <paramref name="defaultPort"/> where it names none.</summary>
    public static IReadOnlyList<string> Hosts(string host, int defaultPort) =>
        host.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(h =>
            {
                var (name, port) = SplitServer(h);
                return (name.Contains(':') ? $"[{name}]" : name) + ":" + (port ?? defaultPort).ToString(System.Globalization.CultureInfo.InvariantCulture);
            })
            .ToArray();

    internal static (string Host, int? Port) SplitServer(string server)
    {
        if (string.IsNullOrWhiteSpace(server))
        {
            throw new TriggerEngineException(TriggerErrorKind.InvalidArgument, "Server must name a host, optionally with ':port'.");
        }

        var trimmed = server.Trim();
        var colon = trimmed.LastIndexOf(':');
        // A bare IPv6 address has several colons and no port; [::1]:5432 has a port after the bracket.
        if (colon > 0 && trimmed.IndexOf(':') == colon || trimmed.StartsWith('[') && colon > trimmed.IndexOf(']'))
        {
            var portText = trimmed[(colon + 1)..];
            if (!int.TryParse(portText, out var port) || port is < 1 or > 65535)
            {
                throw new TriggerEngineException(TriggerErrorKind.InvalidArgument, $"Server '{server}': the port must be a number from 1 to 65535.");
            }

            return (trimmed[..colon].Trim('[', ']'), port);
        }

        return (trimmed, null);
    }

    private static string RedactedReason(ArgumentException ex) =>
        ex.Message.Contains("keyword", StringComparison.OrdinalIgnoreCase)
            ? "it contains a keyword that PostgreSQL connections do not know"
            : "it is not a list of key=value pairs separated by semicolons";
}

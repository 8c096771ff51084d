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
        catch (ArgumentException)
        {
            // The framework's message can quote the text around the fault, which may hold the password: say it our way.
            throw new TriggerEngineException(TriggerErrorKind.InvalidArgument, $"The connection string is not valid: {Diagnose(connectionString)}", inner: null)
            {
                ErrorId = "InvalidConnectionString",
            };
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

    /// <summary>
    /// Which keyword or value of a connection string Npgsql refuses, in words that never show a password: an unknown
    /// keyword with the nearest known one, a value that does not fit its keyword (shown unless it is a password), or
    /// text that is not key=value pairs (an unbalanced quote, say).
    /// </summary>
    internal static string Diagnose(string connectionString)
    {
        DbConnectionStringBuilder pairs;
        try
        {
            pairs = new DbConnectionStringBuilder { ConnectionString = connectionString };
        }
        catch (ArgumentException)
        {
            return "it is not a list of key=value pairs separated by semicolons (look for an unbalanced quote or a key without '=').";
        }

        foreach (string key in pairs.Keys)
        {
            var value = pairs[key];
            try
            {
                _ = new NpgsqlConnectionStringBuilder { [key] = value };
            }
            catch (ArgumentException)
            {
                var given = Spelling(connectionString, key);
                var canonical = Keywords.FirstOrDefault(k => Squeezed(k) == Squeezed(key));
                if (canonical is null)
                {
                    var nearest = Keywords.OrderBy(k => Distance(Squeezed(k), Squeezed(key))).First();
                    return $"'{given}' is not a keyword of PostgreSQL connection strings; did you mean '{nearest}'?";
                }

                var shown = IsSecret(key) ? "the value given" : $"'{value}'";
                return $"{shown} is not a valid value for '{canonical}'" + (Squeezed(canonical) == "sslmode" ? $"; it is one of {string.Join(", ", SslModeNames)}." : ".");
            }
        }

        return "Npgsql refuses it.";
    }

    // Every keyword Npgsql takes, as its documentation spells it (the DisplayName of each setting).
    private static readonly IReadOnlyList<string> Keywords = typeof(NpgsqlConnectionStringBuilder).GetProperties()
        .Select(p => p.GetCustomAttributes(typeof(System.ComponentModel.DisplayNameAttribute), true).OfType<System.ComponentModel.DisplayNameAttribute>().FirstOrDefault()?.DisplayName)
        .OfType<string>()
        .Distinct()
        .ToList();

    private static string Squeezed(string keyword) => keyword.Replace(" ", string.Empty, StringComparison.Ordinal).ToLowerInvariant();

    // The key as the user wrote it: DbConnectionStringBuilder keeps keys in lower case.
    private static string Spelling(string connectionString, string key) =>
        connectionString.Split(';').Select(p => p.Split('=')[0].Trim()).FirstOrDefault(k => k.Equals(key, StringComparison.OrdinalIgnoreCase)) ?? key;

    private static bool IsSecret(string key) =>
        key.Replace(" ", string.Empty, StringComparison.Ordinal).ToLowerInvariant() is "password" or "pwd" or "psw" or "passfile" or "sslpassword" or "sslkey";

    // Edit distance between two short keywords, for "did you mean".
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }

        return row[b.Length];
    }
}

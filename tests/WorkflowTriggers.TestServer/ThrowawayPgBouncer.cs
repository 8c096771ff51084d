using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace WorkflowTriggers.TestServer;

/// <summary>
/// A real PgBouncer (Debian's package) in front of a throwaway server, on a free loopback port, run as an
/// unprivileged user (it refuses root), with a watchdog that stops it when its owner ends.
/// </summary>
public sealed class ThrowawayPgBouncer
{
    public const string Program = "/usr/sbin/pgbouncer";

    private readonly string _root;

    private ThrowawayPgBouncer(string root, int port)
    {
        _root = root;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Why no PgBouncer can be started here, or null when one can.</summary>
    public static string? UnavailableReason() =>
        File.Exists(Program) ? null : $"{Program} is missing (Debian: apt-get install -y pgbouncer)";

    /// <summary>
    /// Starts PgBouncer in <paramref name="poolMode"/> with <paramref name="poolSize"/> server connections per
    /// database and user, serving every database of the server that <paramref name="adminConnectionString"/> names.
    /// </summary>
    public static async Task<ThrowawayPgBouncer> StartAsync(
        string adminConnectionString, int ownerPid, string poolMode = "transaction", int poolSize = 4, string ignoreStartupParameters = "")
    {
        if (UnavailableReason() is { } reason)
        {
            throw new NotSupportedException($"PgBouncer cannot be started: {reason}.");
        }

        var server = new NpgsqlConnectionStringBuilder(adminConnectionString);
        var root = Directory.CreateTempSubdirectory("wt-pgbouncer-").FullName;
        var port = FreePort();
        var ini = Path.Combine(root, "pgbouncer.ini");
        var pidFile = Path.Combine(root, "pgbouncer.pid");
        await File.WriteAllTextAsync(Path.Combine(root, "users.txt"), $"\"{server.Username}\" \"\"\n").ConfigureAwait(false);
        await File.WriteAllTextAsync(ini, $"""
            [databases]
            * = host={server.Host} port={server.Port}

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir =
            auth_type = trust
            auth_file = {Path.Combine(root, "users.txt")}
            pool_mode = {poolMode}
            default_pool_size = {poolSize}
            max_client_conn = 500
            ignore_startup_parameters = {ignoreStartupParameters}
            logfile = {Path.Combine(root, "pgbouncer.log")}
            pidfile = {pidFile}

            """).ConfigureAwait(false);

        string? runAs = Environment.UserName == "root" ? "postgres" : null;
        if (runAs is not null)
        {
            await Shell.RunAsync("chown", new[] { "-R", runAs, root }).ConfigureAwait(false);
        }

        var stop = $"kill $(cat '{pidFile}') 2>/dev/null; rm -rf '{root}'";
        ThrowawayPostgres.StartWatchdog(ownerPid, stop, stillWanted: $"[ -f '{ini}' ]");
        await (runAs is null
            ? Shell.RunAsync(Program, new[] { "-d", ini })
            : Shell.RunAsync("runuser", new[] { "-u", runAs, "--", Program, "-d", ini })).ConfigureAwait(false);

        // -d returns once it has forked; wait until it answers.
        var bouncer = new ThrowawayPgBouncer(root, port);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await ThrowawayPostgres.ScalarAsync(bouncer.ConnectionString(server.Database ?? "postgres"), "SELECT 1").ConfigureAwait(false);
                return bouncer;
            }
            catch (NpgsqlException) when (clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The connection string for <paramref name="database"/> through this PgBouncer (no client-side pooling of its own beyond Npgsql's).</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database }.ConnectionString;

    /// <summary>The same database as <paramref name="directConnectionString"/>, reached through this PgBouncer.</summary>
    public string Through(string directConnectionString) =>
        new NpgsqlConnectionStringBuilder(directConnectionString) { Host = "127.0.0.1", Port = Port }.ConnectionString;

    public async Task StopAsync()
    {
        await Shell.RunAsync("sh", new[] { "-c", $"kill $(cat '{Path.Combine(_root, "pgbouncer.pid")}') 2>/dev/null; rm -rf '{_root}'" }, check: false).ConfigureAwait(false);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

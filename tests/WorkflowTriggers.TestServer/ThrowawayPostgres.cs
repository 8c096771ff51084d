using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using DotNet.Testcontainers.Builders;
using Npgsql;
using Testcontainers.PostgreSql;

namespace WorkflowTriggers.TestServer;

/// <summary>
/// A PostgreSQL server for tests, found in this order: the connection string in WORKFLOW_TRIGGERS_TEST_CONNECTION;
/// a Testcontainers container when a Docker engine answers; a local cluster made with initdb in a temp folder.
/// A watchdog process removes the server when its owner process ends, also when the owner is killed.
/// </summary>
public sealed class ThrowawayPostgres
{
    public const string ConnectionVariable = "WORKFLOW_TRIGGERS_TEST_CONNECTION";

    /// <summary>A folder of PostgreSQL server binaries (initdb, pg_ctl, postgres) to use instead of the installed ones.</summary>
    public const string BinariesVariable = "WORKFLOW_TRIGGERS_PG_BIN";

    private ThrowawayPostgres(string adminConnectionString, string kind, string? stopState)
    {
        AdminConnectionString = adminConnectionString;
        Kind = kind;
        StopState = stopState;
    }

    /// <summary>A superuser connection string to the server's postgres database.</summary>
    public string AdminConnectionString { get; }

    /// <summary>environment, testcontainers or local.</summary>
    public string Kind { get; }

    /// <summary>What <see cref="StopAsync(string)"/> needs to remove the server (null: nothing to remove).</summary>
    public string? StopState { get; }

    public static async Task<ThrowawayPostgres> StartAsync(int ownerPid, Action<string>? log = null)
    {
        log ??= _ => { };
        if (Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } given)
        {
            log($"Using the server in ${ConnectionVariable}.");
            return new ThrowawayPostgres(given, "environment", null);
        }

        PostgreSqlContainer container;
        try
        {
            // Without a Docker engine this throws here, in Build(), before any start.
            container = new PostgreSqlBuilder("postgres:15-alpine").WithCleanUp(false).Build();
        }
        catch (DockerUnavailableException)
        {
            log("No Docker engine; starting a local PostgreSQL cluster.");
            return await LocalCluster.StartAsync(ownerPid, log).ConfigureAwait(false);
        }

        await container.StartAsync().ConfigureAwait(false);
        var id = container.Id;
        StartWatchdog(ownerPid, $"docker rm -f {id}", stillWanted: $"docker inspect {id}");
        log($"Started container {id}.");
        return new ThrowawayPostgres(container.GetConnectionString(), "testcontainers", JsonSerializer.Serialize(new StopInfo("docker", id, null)));
    }

    /// <summary>A local cluster regardless of the environment variable or Docker: for testing the cleanup itself.</summary>
    public static Task<ThrowawayPostgres> StartLocalClusterAsync(int ownerPid, Action<string>? log = null) =>
        LocalCluster.StartAsync(ownerPid, log ?? (_ => { }));

    /// <summary>
    /// A hot standby of a local cluster (<see cref="StartLocalClusterAsync"/>): pg_basebackup -R from it, started on
    /// another loopback port, streaming from it. Needs pg_basebackup beside the server binaries.
    /// </summary>
    public static Task<ThrowawayPostgres> StartStandbyAsync(ThrowawayPostgres primary, int ownerPid, Action<string>? log = null) =>
        LocalCluster.StartStandbyAsync(new Npgsql.NpgsqlConnectionStringBuilder(primary.AdminConnectionString).Port, ownerPid, log ?? (_ => { }));

    /// <summary>Whether this machine's server binaries can make a standby; the reason when they cannot.</summary>
    public static string? StandbyUnavailableReason() => LocalCluster.StandbyUnavailableReason();

    /// <summary>Promotes a standby from <see cref="StartStandbyAsync"/> to a primary (a failover).</summary>
    public Task PromoteAsync() => LocalCluster.PromoteAsync(JsonSerializer.Deserialize<StopInfo>(StopState!)!);

    /// <summary>Removes a server started by <see cref="StartAsync"/>; does nothing for an environment-given one.</summary>
    public Task StopAsync() => StopState is null ? Task.CompletedTask : StopAsync(StopState);

    public static async Task StopAsync(string stopState)
    {
        var info = JsonSerializer.Deserialize<StopInfo>(stopState)!;
        if (info.Kind == "docker")
        {
            await Shell.RunAsync("docker", new[] { "rm", "-f", info.Id }, check: false).ConfigureAwait(false);
            return;
        }

        await LocalCluster.StopAsync(info.Id, info.RunAs).ConfigureAwait(false);
    }

    /// <summary>A fresh, empty database on the server; each test class or suite gets its own.</summary>
    public static async Task<string> CreateDatabaseAsync(string adminConnectionString, string prefix = "wt")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 17, 63)];
        await using (var connection = new NpgsqlConnection(adminConnectionString))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            // A generated name of letters, digits and underscores; CREATE DATABASE takes no parameters.
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        return new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>Runs SQL text (several statements allowed) on a database: test set-up of the engine's own tables.</summary>
    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>Runs the SQL and returns the first column of its first row as text (empty when there is none).</summary>
    public static async Task<string> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync().ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
    }

    public static async Task DropDatabaseAsync(string databaseConnectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(databaseConnectionString);
        var name = builder.Database!;
        builder.Database = "postgres";
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name.Replace("\"", "\"\"")}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>Owner 0 means no watchdog: the server runs until stopped (build.ps1 Demo -KeepDatabase).</summary>
    internal static void StartWatchdog(int ownerPid, string cleanup, string stillWanted)
    {
        if (ownerPid <= 0)
        {
            return;
        }

        // Detached (setsid) and with its own stdio, so it outlives the owner and holds none of the owner's pipes open.
        var script = $"exec >/dev/null 2>&1 </dev/null; while kill -0 {ownerPid} && {stillWanted}; do sleep 1; done; {cleanup}";
        using var process = Process.Start(new ProcessStartInfo("setsid", new[] { "sh", "-c", script }) { UseShellExecute = false })!;
    }

    internal sealed record StopInfo(string Kind, string Id, string? RunAs);

    /// <summary>A cluster from the PostgreSQL binaries on this machine, with fsync off, on a free loopback port.</summary>
    private static class LocalCluster
    {
        public static async Task<ThrowawayPostgres> StartAsync(int ownerPid, Action<string> log)
        {
            var bin = FindBinaries();
            var server = await StartAsync(
                ownerPid,
                "wt-pg-",
                (runAs, data) => RunAs(runAs, Path.Combine(bin, "initdb"), "-D", data, "--auth=trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"),
                "-c synchronous_commit=off -c full_page_writes=off").ConfigureAwait(false);
            log($"Started PostgreSQL from {bin} on {server.Port} (data in {server.Root}).");
            return server.Server;
        }

        /// <summary>
        /// A server in a temp folder owned by the user it runs as (initdb and postgres refuse root), its data made by
        /// <paramref name="makeData"/>, started on a free loopback port with fsync off, and a watchdog that removes
        /// it when the owner ends.
        /// </summary>
        private static async Task<(ThrowawayPostgres Server, string Root, string Port)> StartAsync(
            int ownerPid, string folderPrefix, Func<string?, string, Task> makeData, string options)
        {
            var bin = FindBinaries();
            var root = Directory.CreateTempSubdirectory(folderPrefix).FullName;
            var data = Path.Combine(root, "data");
            string? runAs = Environment.UserName == "root" ? UnprivilegedUser() : null;
            if (runAs is not null)
            {
                await Shell.RunAsync("chown", new[] { "-R", runAs, root }).ConfigureAwait(false);
            }

            var port = FreePort();
            try
            {
                await makeData(runAs, data).ConfigureAwait(false);
                StartWatchdog(ownerPid, $"{StopCommand(bin, data, runAs)}; rm -rf '{root}'", stillWanted: $"[ -d '{data}' ]");
                await RunAs(
                    runAs,
                    Path.Combine(bin, "pg_ctl"),
                    "-D", data,
                    "-o", $"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c max_connections=200 {options}",
                    "-w", "-l", Path.Combine(root, "log"), "start").ConfigureAwait(false);
            }
            catch
            {
                await StopAsync(root, runAs).ConfigureAwait(false);
                throw;
            }

            var connectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
            return (new ThrowawayPostgres(connectionString, "local", JsonSerializer.Serialize(new StopInfo("local", root, runAs))), root, $"127.0.0.1:{port}");
        }

        public static string? StandbyUnavailableReason()
        {
            try
            {
                return File.Exists(Path.Combine(FindBinaries(), "pg_basebackup")) ? null : $"there is no pg_basebackup beside {FindBinaries()}";
            }
            catch (InvalidOperationException ex)
            {
                return ex.Message;
            }
        }

        public static async Task<ThrowawayPostgres> StartStandbyAsync(int primaryPort, int ownerPid, Action<string> log)
        {
            if (StandbyUnavailableReason() is { } reason)
            {
                throw new NotSupportedException($"A standby cannot be made: {reason}.");
            }

            var bin = FindBinaries();
            var server = await StartAsync(
                ownerPid,
                "wt-pg-standby-",
                async (runAs, data) =>
                {
                    await RunAs(runAs, Path.Combine(bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", primaryPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        "-U", "postgres", "-D", data, "-R", "-X", "stream", "--checkpoint=fast").ConfigureAwait(false);
                    await Shell.RunAsync("chmod", new[] { "700", data }).ConfigureAwait(false);
                },
                "-c hot_standby=on").ConfigureAwait(false);
            log($"Started a standby of 127.0.0.1:{primaryPort} on {server.Port} (data in {server.Root}).");
            return server.Server;
        }

        public static Task PromoteAsync(StopInfo info) =>
            RunAs(info.RunAs, Path.Combine(FindBinaries(), "pg_ctl"), "-D", Path.Combine(info.Id, "data"), "-w", "promote");

        public static async Task StopAsync(string root, string? runAs)
        {
            var data = Path.Combine(root, "data");
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
            {
                await Shell.RunAsync("sh", new[] { "-c", StopCommand(FindBinaries(), data, runAs) }, check: false).ConfigureAwait(false);
            }

            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }

        private static string StopCommand(string bin, string data, string? runAs) =>
            $"{LibraryPathPrefix(bin)}{(runAs is null ? string.Empty : $"runuser -u {runAs} -- ")}'{Path.Combine(bin, "pg_ctl")}' -D '{data}' -m fast -w stop";

        private static Task RunAs(string? user, string program, params string[] args)
        {
            var libraries = LibraryFolder(Path.GetDirectoryName(program)!);
            return user is null
                ? Shell.RunAsync(program, args, libraries: libraries)
                : Shell.RunAsync("runuser", new[] { "-u", user, "--", program }.Concat(args).ToArray(), libraries: libraries);
        }

        // Binaries unpacked from a package (not installed) find their shared libraries in the lib folder beside bin.
        private static string? LibraryFolder(string bin)
        {
            var lib = Path.Combine(Path.GetDirectoryName(bin)!, "lib");
            return Environment.GetEnvironmentVariable(BinariesVariable) is { Length: > 0 } && Directory.Exists(lib) ? lib : null;
        }

        private static string LibraryPathPrefix(string bin) => LibraryFolder(bin) is { } lib ? $"LD_LIBRARY_PATH='{lib}' " : string.Empty;

        private static string FindBinaries()
        {
            if (Environment.GetEnvironmentVariable(BinariesVariable) is { Length: > 0 } chosen)
            {
                return File.Exists(Path.Combine(chosen, "initdb"))
                    ? chosen
                    : throw new InvalidOperationException($"${BinariesVariable} is '{chosen}', which holds no initdb.");
            }

            var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
                .Split(':', StringSplitOptions.RemoveEmptyEntries)
                .FirstOrDefault(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
            if (onPath is not null)
            {
                // Links on PATH (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb): the folder they point into
                // has the other programs (pg_basebackup) too.
                return Path.GetDirectoryName(new FileInfo(Path.Combine(onPath, "initdb")).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.Combine(onPath, "initdb"))!;
            }

            var installed = Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql")
                    .Select(d => Path.Combine(d, "bin"))
                    .Where(d => File.Exists(Path.Combine(d, "initdb")))
                    .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                    .FirstOrDefault()
                : null;
            return installed ?? throw new InvalidOperationException(
                "No PostgreSQL server found: initdb and pg_ctl are not on PATH or under /usr/lib/postgresql/*/bin, no Docker engine answers, " +
                $"and ${ConnectionVariable} is not set. Install PostgreSQL (Debian: apt-get install -y postgresql) or set ${ConnectionVariable}.");
        }

        private static string UnprivilegedUser()
        {
            var users = File.Exists("/etc/passwd") ? File.ReadAllLines("/etc/passwd").Select(l => l.Split(':')[0]).ToHashSet() : new HashSet<string>();
            return users.Contains("postgres") ? "postgres" : "nobody";
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}

internal static class Shell
{
    public static async Task RunAsync(string program, string[] args, bool check = true, string? libraries = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (libraries is not null)
        {
            info.Environment["LD_LIBRARY_PATH"] = libraries;
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {process.ExitCode}: {await error.ConfigureAwait(false)}{await output.ConfigureAwait(false)}");
        }
    }
}

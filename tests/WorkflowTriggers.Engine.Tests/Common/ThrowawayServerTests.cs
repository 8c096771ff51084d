using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.TestServer;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>A test that needs PostgreSQL's server binaries on this machine; skipped, with the reason, where they are missing.</summary>
public sealed class LocalPostgresFactAttribute : FactAttribute
{
    public LocalPostgresFactAttribute()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(d => Runs(Path.Combine(d, "initdb")));
        var debian = Directory.Exists("/usr/lib/postgresql") && Directory.GetDirectories("/usr/lib/postgresql").Any(d => Runs(Path.Combine(d, "bin", "initdb")));
        if (!onPath && !debian)
        {
            Skip = "PostgreSQL's server binaries (initdb) are neither on PATH nor under /usr/lib/postgresql/*/bin, so there is no local cluster to test.";
        }
    }

    // A file, or a symbolic link to one that still exists (a package removed under its links leaves them dangling).
    private static bool Runs(string path)
    {
        var file = new FileInfo(path);
        return file.LinkTarget is null ? file.Exists : file.ResolveLinkTarget(returnFinalTarget: true)?.Exists == true;
    }
}

public class ThrowawayServerTests
{
    [LocalPostgresFact]
    public async Task A_local_cluster_is_removed_when_its_owner_process_ends()
    {
        // An owner this test ends itself once the server answers, so a slow start cannot race it.
        using var owner = Process.Start(new ProcessStartInfo("sleep", "120") { UseShellExecute = false })!;
        var server = await ThrowawayPostgres.StartLocalClusterAsync(owner.Id);
        var folder = JsonDocument.Parse(server.StopState!).RootElement.GetProperty("Id").GetString()!;

        await using (var connection = new NpgsqlConnection(server.AdminConnectionString))
        {
            await connection.OpenAsync();
            Assert.True(Directory.Exists(folder));
        }

        owner.Kill();
        await owner.WaitForExitAsync();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Directory.Exists(folder) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.False(Directory.Exists(folder), "the watchdog should remove the cluster's folder after its owner ends");
        NpgsqlConnection.ClearAllPools();
        await using var gone = new NpgsqlConnection(server.AdminConnectionString + ";Timeout=2");
        await Assert.ThrowsAnyAsync<Exception>(() => gone.OpenAsync());
    }
}

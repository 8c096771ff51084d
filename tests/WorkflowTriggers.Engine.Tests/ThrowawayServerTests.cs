using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.TestServer;

namespace WorkflowTriggers.Engine.Tests;

public class ThrowawayServerTests
{
    [Fact]
    public async Task A_local_cluster_is_removed_when_its_owner_process_ends()
    {
        // Where tests run against $WORKFLOW_TRIGGERS_TEST_CONNECTION or Docker alone there is no local cluster to test.
        var hasBinaries = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(d => File.Exists(Path.Combine(d, "initdb")))
                          || (Directory.Exists("/usr/lib/postgresql") && Directory.GetDirectories("/usr/lib/postgresql").Any(d => File.Exists(Path.Combine(d, "bin", "initdb"))));
        if (!hasBinaries)
        {
            return;
        }

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

public class ServerPartsTests
{
    [Fact]
    public void An_unknown_ssl_mode_names_the_valid_ones()
    {
        var error = Assert.Throws<TriggerEngineException>(() => ConnectionSettings.FromParts("db01", "engine", null, null, "Sometimes"));
        Assert.Equal(TriggerErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("Require", error.Message);
        Assert.Contains("Sometimes", error.Message);
    }
}

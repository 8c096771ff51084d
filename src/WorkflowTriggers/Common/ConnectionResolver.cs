using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Where a command's database comes from, in order: -Connection, -ConnectionString, the session's
/// Connect-TriggerDatabase, $env:WORKFLOW_TRIGGERS_CONNECTION. Shared by the cmdlets and tab completion.
/// </summary>
internal static class ConnectionResolver
{
    public const string EnvironmentVariable = "WORKFLOW_TRIGGERS_CONNECTION";

    // One default per runspace, so thread jobs do not share it by accident: a runbook host or a -Parallel block that
    // never connected must not act on a database another runspace chose.
    private static readonly ConditionalWeakTable<Runspace, TriggerDatabase> SessionDefaults = new();

    /// <summary>A connection another runspace of this process made with Connect-TriggerDatabase, to say why this one has none.</summary>
    internal static (int RunspaceId, TriggerDatabase Database)? ConnectedElsewhere =>
        SessionDefaults.Where(p => p.Key != Runspace.DefaultRunspace).Select(p => ((int, TriggerDatabase)?)(p.Key.Id, p.Value)).FirstOrDefault();

    internal static TriggerDatabase? SessionDefault
    {
        get => Runspace.DefaultRunspace is { } runspace && SessionDefaults.TryGetValue(runspace, out var database) ? database : null;
        set
        {
            if (Runspace.DefaultRunspace is not { } runspace)
            {
                return;
            }

            SessionDefaults.Remove(runspace);
            if (value is not null)
            {
                SessionDefaults.Add(runspace, value);
            }
        }
    }

    /// <summary>The connection and where it came from; null when none of the sources gives one.</summary>
    internal static (TriggerConnection? Connection, string Source) Resolve(TriggerDatabase? connection, string? connectionString)
    {
        if (connection is not null)
        {
            return (connection.Engine, "-Connection");
        }

        if (connectionString is not null)
        {
            return (TriggerConnection.For(connectionString), "-ConnectionString");
        }

        if (SessionDefault is { } connected)
        {
            return (connected.Engine, "Connect-TriggerDatabase");
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(fromEnvironment)
            ? (null, string.Empty)
            : (TriggerConnection.For(fromEnvironment), "$env:" + EnvironmentVariable);
    }
}

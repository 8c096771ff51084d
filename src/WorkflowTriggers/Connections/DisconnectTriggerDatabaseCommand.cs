using System.Management.Automation;

namespace WorkflowTriggers.Commands;

/// <summary>Forgets the session's default database. Pooled connections stay for other callers of the same string.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "TriggerDatabase")]
[OutputType(typeof(void))]
public sealed class DisconnectTriggerDatabaseCommand : PSCmdlet
{
    protected override void EndProcessing()
    {
        if (ConnectionResolver.SessionDefault is { } connection)
        {
            WriteVerbose($"Disconnected from {connection}.");
        }

        ConnectionResolver.SessionDefault = null;
    }
}

using System.Management.Automation;
using WorkflowTriggers.Engine.History;

namespace WorkflowTriggers.Commands;

/// <summary>Turns off change history: drops its triggers, function and tables, with every entry. The triggers themselves are untouched.</summary>
[Cmdlet(VerbsLifecycle.Disable, "TriggerHistory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(TriggerHistoryStatus))]
public sealed class DisableTriggerHistoryCommand : TriggerCmdletBase
{
    protected override void EndProcessing()
    {
        RequireWritable();
        var history = new ChangeHistory(Database);
        var status = Await(history.GetStatusAsync);
        if (!status.Enabled && status.Entries == 0 && status.Version is null)
        {
            WriteVerbose("Change history is off already: nothing to remove.");
            WriteObject(TriggerHistoryStatus.From(status, Database.ToString()));
            return;
        }

        if (!ShouldProcess(Database.ToString(), $"Turn off change history and delete its {status.Entries:N0} entr{(status.Entries == 1 ? "y" : "ies")}"))
        {
            WriteObject(TriggerHistoryStatus.From(status, Database.ToString()));
            return;
        }

        WriteObject(TriggerHistoryStatus.From(Await(history.DisableAsync), Database.ToString()));
    }
}

using System.Management.Automation;
using WorkflowTriggers.Engine.History;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Turns on change history: a module-owned table fed by statement-level database triggers, so every client's
/// changes to workflow_triggers are recorded. Idempotent; existing history is kept.
/// </summary>
[Cmdlet(VerbsLifecycle.Enable, "TriggerHistory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TriggerHistoryStatus))]
public sealed class EnableTriggerHistoryCommand : TriggerCmdletBase
{
    /// <summary>Days of history Clear-TriggerHistory keeps when it runs without -Before; kept as it is when not given.</summary>
    [Parameter]
    [ValidateRange(1, 36500)]
    public int? RetentionDays { get; set; }

    protected override void EndProcessing()
    {
        RequireWritable();
        var history = new ChangeHistory(Database);
        var status = Await(history.GetStatusAsync);
        var action = status.Enabled
            ? RetentionDays is { } days ? $"Keep change history on, retention {days} day(s)" : "Keep change history on (it is on already)"
            : $"Turn on change history: table {ChangeHistory.Table} and statement-level triggers on workflow_triggers{(RetentionDays is { } d ? $", retention {d} day(s)" : string.Empty)}";
        if (!ShouldProcess(Database.ToString(), action))
        {
            WriteObject(TriggerHistoryStatus.From(status, Database.ToString()));
            return;
        }

        WriteObject(TriggerHistoryStatus.From(Await(ct => history.EnableAsync(RetentionDays, ct)), Database.ToString()));
    }
}

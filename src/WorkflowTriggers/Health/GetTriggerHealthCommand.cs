using System.Management.Automation;
using WorkflowTriggers.Engine.Health;

namespace WorkflowTriggers.Commands;

/// <summary>The table health check and named checks, each Pass, Warn or Fail; IsHealthy when none fails.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerHealth")]
[OutputType(typeof(TriggerHealthReport))]
public sealed class GetTriggerHealthCommand : TriggerCmdletBase
{
    /// <summary>Count a large table row by row instead of taking the planner's estimates.</summary>
    [Parameter]
    public SwitchParameter Exact { get; set; }

    protected override void EndProcessing() => WriteObject(TriggerHealthReport.From(Await(ct => new TriggerHealth(Database).GetAsync(Exact, ct))));
}

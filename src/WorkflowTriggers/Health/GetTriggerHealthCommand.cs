using System.Management.Automation;
using WorkflowTriggers.Engine.Health;

namespace WorkflowTriggers.Commands;

/// <summary>The table health check and named checks, each Pass, Warn or Fail; IsHealthy when none fails.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerHealth")]
[OutputType(typeof(TriggerHealthReport))]
public sealed class GetTriggerHealthCommand : TriggerCmdletBase
{
    protected override void EndProcessing() => WriteObject(TriggerHealthReport.From(Await(ct => new TriggerHealth(Database).GetAsync(ct))));
}

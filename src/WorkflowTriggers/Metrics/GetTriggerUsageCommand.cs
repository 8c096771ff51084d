using System.Management.Automation;
using WorkflowTriggers.Engine.Metrics;

namespace WorkflowTriggers.Commands;

/// <summary>The document's "Monitor trigger usage": triggers and active triggers per source and event type.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerUsage")]
[OutputType(typeof(TriggerUsage))]
public sealed class GetTriggerUsageCommand : TriggerCmdletBase
{
    protected override void EndProcessing() => WriteObject(Await(ct => new TriggerMetrics(Database).GetUsageAsync(ct)).Select(TriggerUsage.From), enumerateCollection: true);
}

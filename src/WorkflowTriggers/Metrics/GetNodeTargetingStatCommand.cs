using System.Management.Automation;
using WorkflowTriggers.Engine.Metrics;

namespace WorkflowTriggers.Commands;

/// <summary>The node_targeting_stats view: how many active triggers name their node and how many rely on auto-detection.</summary>
[Cmdlet(VerbsCommon.Get, "NodeTargetingStat")]
[OutputType(typeof(NodeTargetingStat))]
public sealed class GetNodeTargetingStatCommand : TriggerCmdletBase
{
    protected override void EndProcessing() => WriteObject(Await(ct => new TriggerMetrics(Database).GetNodeTargetingAsync(ct)).Select(NodeTargetingStat.From), enumerateCollection: true);
}

using System.Management.Automation;
using WorkflowTriggers.Engine.Metrics;

namespace WorkflowTriggers.Commands;

/// <summary>The most executed triggers of the last days, with triggers that never ran counted as 0.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerExecutionStat")]
[OutputType(typeof(TriggerExecutionStat))]
public sealed class GetTriggerExecutionStatCommand : TriggerCmdletBase
{
    [Parameter]
    [ValidateRange(1, 36500)]
    public int Days { get; set; } = 30;

    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int Top { get; set; } = 20;

    protected override void EndProcessing() => WriteObject(Await(ct => new TriggerMetrics(Database).GetExecutionStatsAsync(Days, Top, ct)).Select(TriggerExecutionStat.From), enumerateCollection: true);
}

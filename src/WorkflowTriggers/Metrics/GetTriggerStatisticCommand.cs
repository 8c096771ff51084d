using System.Management.Automation;
using WorkflowTriggers.Engine.Metrics;

namespace WorkflowTriggers.Commands;

/// <summary>Active triggers counted per workflow, source, event type or target node.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerStatistic")]
[OutputType(typeof(TriggerStatistic))]
public sealed class GetTriggerStatisticCommand : TriggerCmdletBase
{
    [Parameter(Mandatory = true, Position = 0)]
    public TriggerGrouping By { get; set; }

    protected override void EndProcessing() =>
        WriteObject(Await(ct => new TriggerMetrics(Database).GetStatisticAsync(TriggerStatistic.ColumnOf(By), ct)).Select(s => TriggerStatistic.From(s, By)), enumerateCollection: true);
}

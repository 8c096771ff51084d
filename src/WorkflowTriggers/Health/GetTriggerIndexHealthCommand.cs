using System.Management.Automation;
using WorkflowTriggers.Engine.Health;

namespace WorkflowTriggers.Commands;

/// <summary>The document's index health check, with duplicates, overlaps and the SQL that would fix them. Reads only.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerIndexHealth")]
[OutputType(typeof(TriggerIndexHealth))]
public sealed class GetTriggerIndexHealthCommand : TriggerCmdletBase
{
    /// <summary>Scans below which a used index counts as LOW_USAGE.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int LowUsageThreshold { get; set; } = IndexHealth.DefaultLowUsageThreshold;

    protected override void EndProcessing()
    {
        var indexes = Await(ct => new IndexHealth(Database).GetAsync(LowUsageThreshold, ct));
        if (indexes.Count > 0 && DateTime.UtcNow - indexes[0].StatsSince < IndexHealth.MeaningfulStatisticsAge)
        {
            WriteWarning($"Index usage has only been counted since {indexes[0].StatsSince:u} (last statistics reset, or server start): UNUSED and LOW_USAGE mean little before {IndexHealth.MeaningfulStatisticsAge.TotalDays:N0} days.");
        }

        WriteObject(indexes.Select(TriggerIndexHealth.From), enumerateCollection: true);
    }
}

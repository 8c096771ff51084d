using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.Metrics;

namespace WorkflowTriggers.Commands;

/// <summary>Rows of the trigger_metrics view: triggers created per hour, source and event type.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerMetric")]
[OutputType(typeof(TriggerMetric))]
public sealed class GetTriggerMetricCommand : TriggerCmdletBase
{
    /// <summary>Only hours from this time on.</summary>
    [Parameter]
    public DateTime? Since { get; set; }

    /// <summary>Only hours before this time.</summary>
    [Parameter]
    public DateTime? Until { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SourceCompleter))]
    public string? Source { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EventTypeCompleter))]
    public string? EventType { get; set; }

    protected override void EndProcessing()
    {
        if (Since is { } since && Until is { } until && until <= since)
        {
            WriteError(new ErrorRecord(new ArgumentException($"-Until ({until:u}) must be later than -Since ({since:u}).", nameof(Until)), "InvalidTimeWindow", ErrorCategory.InvalidArgument, until));
            return;
        }

        WriteObject(Await(ct => new TriggerMetrics(Database).GetMetricsAsync(Since?.ToUniversalTime(), Until?.ToUniversalTime(), Source, EventType, ct)).Select(TriggerMetric.From), enumerateCollection: true);
    }
}

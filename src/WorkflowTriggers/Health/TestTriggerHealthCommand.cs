using System.Management.Automation;
using WorkflowTriggers.Engine.Health;

namespace WorkflowTriggers.Commands;

/// <summary>$true when no health check fails; with -Detailed, the checks themselves.</summary>
[Cmdlet(VerbsDiagnostic.Test, "TriggerHealth")]
[OutputType(typeof(bool))]
[OutputType(typeof(TriggerHealthCheck))]
public sealed class TestTriggerHealthCommand : TriggerCmdletBase
{
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    /// <summary>Count a large table row by row instead of taking the planner's estimates.</summary>
    [Parameter]
    public SwitchParameter Exact { get; set; }

    protected override void EndProcessing()
    {
        var report = TriggerHealthReport.From(Await(ct => new TriggerHealth(Database).GetAsync(Exact, ct)));
        foreach (var check in report.Checks.Where(c => c.Status != HealthStatus.Pass))
        {
            WriteVerbose(check.ToString());
        }

        if (Detailed)
        {
            WriteObject(report.Checks, enumerateCollection: true);
        }
        else
        {
            WriteObject(report.IsHealthy);
        }
    }
}

using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine;
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

        WriteObject(indexes, enumerateCollection: true);
    }
}

/// <summary>REINDEX INDEX CONCURRENTLY for the table's indexes, then ANALYZE, as the document's "Index Maintenance".</summary>
[Cmdlet(VerbsLifecycle.Invoke, "TriggerIndexMaintenance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(IndexMaintenanceResult))]
public sealed class InvokeTriggerIndexMaintenanceCommand : TriggerCmdletBase
{
    private const string Activity = "Maintaining workflow_triggers indexes";

    /// <summary>Indexes to rebuild (wildcards allowed); all of the table's indexes when omitted.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TriggerIndexCompleter))]
    public string[]? Index { get; set; }

    /// <summary>Rebuild the indexes. Without -Reindex and -Analyze, both are done.</summary>
    [Parameter]
    public SwitchParameter Reindex { get; set; }

    /// <summary>ANALYZE workflow_triggers. Without -Reindex and -Analyze, both are done.</summary>
    [Parameter]
    public SwitchParameter Analyze { get; set; }

    /// <summary>How long each statement may wait for a lock before it gives up, in seconds.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int LockTimeoutSeconds { get; set; } = 5;

    /// <summary>How long ANALYZE may run, in seconds.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int StatementTimeoutSeconds { get; set; } = 300;

    protected override void EndProcessing()
    {
        var both = !Reindex && !Analyze;
        var health = new IndexHealth(Database);
        var lockTimeout = TimeSpan.FromSeconds(LockTimeoutSeconds);
        if (Reindex || both)
        {
            var all = Await(ct => health.ListAsync(ct));
            var chosen = Select(all);
            var progress = new ProgressRecord(1, Activity, "Starting");
            var attempted = 0;
            for (var i = 0; i < chosen.Count; i++)
            {
                var (name, qualified, size) = chosen[i];
                if (!ShouldProcess($"index {qualified} ({FormatSize(size)})", "REINDEX INDEX CONCURRENTLY"))
                {
                    continue;
                }

                attempted++;
                progress.PercentComplete = 100 * i / chosen.Count;
                progress.StatusDescription = $"REINDEX INDEX CONCURRENTLY {name} ({i + 1} of {chosen.Count}, {FormatSize(size)})";
                WriteProgress(progress);
                try
                {
                    WriteObject(AwaitEngine(ct => health.ReindexAsync(name, qualified, lockTimeout, ct)));
                }
                catch (TriggerEngineException ex)
                {
                    // One index that cannot get its lock does not stop the others.
                    WriteError(new ErrorRecord(ex, ex.Kind == TriggerErrorKind.Timeout ? "ReindexTimedOut" : "ReindexFailed", ErrorCategory.OperationStopped, name));
                }
            }

            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            // Also after a failure: that is when a rebuild leaves its invalid copy.
            if (attempted > 0)
            {
                ReportLeftovers(health);
            }
        }

        if ((Analyze || both) && ShouldProcess("table workflow_triggers", $"ANALYZE (lock timeout {LockTimeoutSeconds} s, statement timeout {StatementTimeoutSeconds} s)"))
        {
            WriteObject(Await(ct => health.AnalyzeAsync(lockTimeout, TimeSpan.FromSeconds(StatementTimeoutSeconds), ct)));
        }
    }

    private List<(string Name, string QualifiedName, long SizeBytes)> Select(IReadOnlyList<(string Name, string QualifiedName, long SizeBytes)> all)
    {
        if (Index is null)
        {
            return all.ToList();
        }

        var chosen = new List<(string, string, long)>();
        foreach (var wanted in Index)
        {
            var pattern = new WildcardPattern(wanted, WildcardOptions.IgnoreCase);
            var matches = all.Where(i => pattern.IsMatch(i.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(wanted))
            {
                WriteNotFound("IndexNotFound", $"workflow_triggers has no index '{wanted}'. Its indexes: {string.Join(", ", all.Select(i => i.Name))}.", wanted);
            }

            chosen.AddRange(matches.Where(m => !chosen.Contains(m)));
        }

        return chosen;
    }

    /// <summary>A failed concurrent rebuild leaves an invalid copy (name ending in _ccnew) that slows every write.</summary>
    private void ReportLeftovers(IndexHealth health)
    {
        foreach (var invalid in Await(ct => health.GetInvalidAsync(ct)))
        {
            WriteError(new ErrorRecord(
                new InvalidOperationException($"Index {invalid.Name} is invalid (a failed concurrent build or rebuild leaves one behind). To clean up:\n{invalid.Recommendation}"),
                "InvalidIndexLeft",
                ErrorCategory.InvalidResult,
                invalid.Name));
        }
    }

    private static string FormatSize(long bytes) => bytes switch
    {
        < 1024 * 1024 => $"{bytes / 1024.0:N0} kB",
        < 1024L * 1024 * 1024 => $"{bytes / 1024.0 / 1024:N1} MB",
        _ => $"{bytes / 1024.0 / 1024 / 1024:N2} GB",
    };
}

/// <summary>The document's "Monitor trigger usage": triggers and active triggers per source and event type.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerUsage")]
[OutputType(typeof(TriggerUsage))]
public sealed class GetTriggerUsageCommand : TriggerCmdletBase
{
    protected override void EndProcessing() => WriteObject(Await(ct => new TriggerMetrics(Database).GetUsageAsync(ct)), enumerateCollection: true);
}

/// <summary>Active triggers counted per workflow, source, event type or target node.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerStatistic")]
[OutputType(typeof(TriggerStatistic))]
public sealed class GetTriggerStatisticCommand : TriggerCmdletBase
{
    [Parameter(Mandatory = true, Position = 0)]
    public TriggerGrouping By { get; set; }

    protected override void EndProcessing() => WriteObject(Await(ct => new TriggerMetrics(Database).GetStatisticAsync(By, ct)), enumerateCollection: true);
}

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

        WriteObject(Await(ct => new TriggerMetrics(Database).GetMetricsAsync(Since?.ToUniversalTime(), Until?.ToUniversalTime(), Source, EventType, ct)), enumerateCollection: true);
    }
}

/// <summary>The node_targeting_stats view: how many active triggers name their node and how many rely on auto-detection.</summary>
[Cmdlet(VerbsCommon.Get, "NodeTargetingStat")]
[OutputType(typeof(NodeTargetingStat))]
public sealed class GetNodeTargetingStatCommand : TriggerCmdletBase
{
    protected override void EndProcessing() => WriteObject(Await(ct => new TriggerMetrics(Database).GetNodeTargetingAsync(ct)), enumerateCollection: true);
}

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

    protected override void EndProcessing() => WriteObject(Await(ct => new TriggerMetrics(Database).GetExecutionStatsAsync(Days, Top, ct)), enumerateCollection: true);
}

/// <summary>The table health check and named checks, each Pass, Warn or Fail; IsHealthy when none fails.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerHealth")]
[OutputType(typeof(TriggerHealthReport))]
public sealed class GetTriggerHealthCommand : TriggerCmdletBase
{
    protected override void EndProcessing() => WriteObject(Await(ct => new TriggerHealth(Database).GetAsync(ct)));
}

/// <summary>$true when no health check fails; with -Detailed, the checks themselves.</summary>
[Cmdlet(VerbsDiagnostic.Test, "TriggerHealth")]
[OutputType(typeof(bool))]
[OutputType(typeof(TriggerHealthCheck))]
public sealed class TestTriggerHealthCommand : TriggerCmdletBase
{
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    protected override void EndProcessing()
    {
        var report = Await(ct => new TriggerHealth(Database).GetAsync(ct));
        foreach (var check in report.Checks.Where(c => c.Status != HealthStatus.Pass))
        {
            WriteVerbose($"{check.Status} {check.Name}: {check.Detail}");
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

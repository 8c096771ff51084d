using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Health;

namespace WorkflowTriggers.Commands;

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
        RequireWritable();
        var both = !Reindex && !Analyze;
        var health = new IndexHealth(Database);
        var lockTimeout = TimeSpan.FromSeconds(LockTimeoutSeconds);
        if (Reindex || both)
        {
            var all = Await(ct => health.ListAsync(lockTimeout, ct));
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
                    WriteObject(IndexMaintenanceResult.From(AwaitEngine(ct => health.ReindexAsync(name, qualified, lockTimeout, ct))));
                }
                catch (TriggerEngineException ex) when (ex.ErrorId == "SessionRequired")
                {
                    // Behind a pooler no index can be rebuilt safely: say it once and stop before the next one.
                    ThrowTerminatingError(EngineErrors.From(ex, name));
                }
                catch (TriggerEngineException ex)
                {
                    // One index that cannot get its lock does not stop the others.
                    WriteError(EngineErrors.From(ex, ex.Kind == TriggerErrorKind.Timeout ? "ReindexTimedOut" : "ReindexFailed", ErrorCategory.OperationStopped, name));
                }
            }

            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            // Also after a failure: that is when a rebuild leaves its invalid copy.
            if (attempted > 0)
            {
                ReportLeftovers(health, lockTimeout);
            }
        }

        if ((Analyze || both) && ShouldProcess("table workflow_triggers", $"ANALYZE (lock timeout {LockTimeoutSeconds} s, statement timeout {StatementTimeoutSeconds} s)"))
        {
            WriteObject(IndexMaintenanceResult.From(Await(ct => health.AnalyzeAsync(lockTimeout, TimeSpan.FromSeconds(StatementTimeoutSeconds), ct))));
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
                WriteError(new ErrorRecord(new ItemNotFoundException($"workflow_triggers has no index '{wanted}'. Its indexes: {string.Join(", ", all.Select(i => i.Name))}."), "IndexNotFound", ErrorCategory.ObjectNotFound, wanted));
            }

            chosen.AddRange(matches.Where(m => !chosen.Contains(m)));
        }

        return chosen;
    }

    /// <summary>A failed concurrent rebuild leaves an invalid copy (name ending in _ccnew) that slows every write.</summary>
    private void ReportLeftovers(IndexHealth health, TimeSpan lockTimeout)
    {
        foreach (var invalid in Await(ct => health.GetInvalidAsync(lockTimeout, ct)))
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

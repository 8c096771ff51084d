using System.Diagnostics;
using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Routing;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Sets each untargeted trigger's target node to its workflow's first input node: the document's "Populate Target
/// Nodes" migration, set-based over the id range in batches, one backfill per database at a time.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "TriggerBackfill", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TriggerBackfillResult))]
[OutputType(typeof(WorkflowTrigger))]
[OutputType(typeof(BackfillPlanEntry))]
public sealed class InvokeTriggerBackfillCommand : TriggerCmdletBase
{
    private const string Activity = "Backfilling target nodes";

    private readonly HashSet<string> _workflowIds = new(StringComparer.Ordinal);
    private readonly HashSet<int> _ids = new();

    /// <summary>Only triggers of these workflows.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(WorkflowIdCompleter))]
    public string[]? WorkflowId { get; set; }

    /// <summary>Only these triggers.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>Only these piped triggers (trigger objects, records with an Id, or ids), within their workflows.</summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    /// <summary>About how many triggers each batch updates (one transaction each).</summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int BatchSize { get; set; } = TriggerBackfill.DefaultBatchSize;

    /// <summary>Wait for a backfill already running instead of failing, for at most -WaitTimeoutSeconds.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>With -Wait: how long to wait for the running backfill to finish before stopping with BackfillAlreadyRunning, in seconds.</summary>
    [Parameter]
    [ValidateRange(1, 604800)]
    public int WaitTimeoutSeconds { get; set; } = 3600;

    /// <summary>Return the updated triggers instead of the summary.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>How long each statement (the plan's too) may wait for a lock before the run stops, in seconds.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int LockTimeoutSeconds { get; set; } = (int)TriggerBackfill.DefaultLockTimeout.TotalSeconds;

    /// <summary>Why this write is made: recorded with each of its change history entries.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Reason { get; set; }

    protected override void ProcessRecord()
    {
        _workflowIds.UnionWith(WorkflowId ?? Array.Empty<string>());
        _ids.UnionWith(Id ?? Array.Empty<int>());
        foreach (var input in InputObject ?? Array.Empty<PSObject>())
        {
            if (PipedTrigger.From(input, out var notATrigger) is not { } trigger)
            {
                WriteError(PipedTrigger.NotATriggerError(input, notATrigger!));
                continue;
            }

            _ids.Add(trigger.Id);
            if (trigger.Text("WorkflowId") is { Length: > 0 } workflow)
            {
                _workflowIds.Add(workflow);
            }
        }
    }

    protected override void EndProcessing()
    {
        if (MyInvocation.ExpectingInput && _ids.Count == 0 && _workflowIds.Count == 0)
        {
            // An empty pipeline means "none of them", never "all triggers".
            WriteVerbose("Nothing came down the pipeline: nothing to backfill.");
            return;
        }

        RequireWritable(Reason);
        var clock = Stopwatch.StartNew();
        var scope = new BackfillScope(_workflowIds.Count > 0 ? _workflowIds.ToArray() : null, _ids.Count > 0 ? _ids.ToArray() : null);
        var backfill = new TriggerBackfill(Database);
        var lockTimeout = TimeSpan.FromSeconds(LockTimeoutSeconds);
        var plan = Await(ct => backfill.PlanAsync(scope, ct, lockTimeout));
        var skipped = plan.Where(p => p.NodeId is null).ToArray();
        foreach (var entry in skipped)
        {
            WriteWarning($"Workflow '{entry.WorkflowId}' has no input node: {entry.TriggerCount:N0} untargeted trigger(s) keep no target node.");
        }

        var approved = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in plan.Where(p => p.NodeId is not null))
        {
            if (ShouldProcess($"workflow {entry.WorkflowId}", $"Set target node '{entry.NodeId}' on {entry.TriggerCount:N0} untargeted trigger(s)"))
            {
                approved.Add(entry.WorkflowId);
            }
        }

        if (WhatIfRequested)
        {
            WriteObject(plan.Select(BackfillPlanEntry.From), enumerateCollection: true);
            return;
        }

        var routable = plan.Count(p => p.NodeId is not null);
        if (approved.Count < routable)
        {
            scope = scope with { WorkflowIds = approved.ToArray() };
        }

        var updated = 0;
        var batches = 0;
        if (approved.Count > 0)
        {
            var progress = new ProgressRecord(1, Activity, "Starting");
            var total = plan.Where(p => approved.Contains(p.WorkflowId)).Sum(p => p.TriggerCount);
            try
            {
                foreach (var batch in Stream(backfill.RunAsync(scope, BatchSize, Wait ? TimeSpan.FromSeconds(WaitTimeoutSeconds) : null, PassThru, Cancellation, lockTimeout), engineErrorsReachCaller: true))
                {
                    batches++;
                    updated += batch.Updated;
                    progress.PercentComplete = (int)Math.Clamp(batch.PercentComplete, 0, 100);
                    var ids = batch.Updated > 0 ? $", ids {batch.FromId:N0}-{batch.ToId:N0}" : string.Empty;
                    progress.StatusDescription = $"{updated:N0} of about {total:N0} triggers updated; batch {batch.Number:N0}{ids}";
                    WriteProgress(progress);
                    WriteVerbose($"Batch {batch.Number}: {batch.Updated} updated{ids}.");
                    foreach (var row in batch.Rows)
                    {
                        WriteObject(WorkflowTrigger.From(row));
                    }
                }
            }
            catch (PipelineStoppedException)
            {
                // Ctrl+C: the pipeline takes no more output, but the operator must know what is already committed.
                // The host still prints; a re-run continues with the triggers still without a node.
                Host.UI.WriteWarningLine(
                    $"Invoke-TriggerBackfill stopped: {updated:N0} trigger(s) in {batches:N0} batch(es) were committed; the batch in flight was rolled back. Run it again to continue.");
                throw;
            }
            catch (TriggerEngineException ex)
            {
                // A lock that did not come in time, a lease taken over: what committed before it stays, and is said.
                ThrowTerminatingError(EngineErrors.WithNote(
                    EngineErrors.From(ex, ErrorTarget),
                    $"Before it stopped, {updated:N0} trigger(s) in {batches:N0} batch(es) were committed; the batch in flight was rolled back, and a run continues with the triggers still without a node."));
            }

            progress.RecordType = ProgressRecordType.Completed;
            progress.StatusDescription = $"{updated:N0} triggers updated";
            WriteProgress(progress);
        }

        if (!PassThru)
        {
            WriteObject(new TriggerBackfillResult
            {
                Updated = updated,
                SkippedNoInputNode = skipped.Sum(s => s.TriggerCount),
                WorkflowsWithoutInputNode = skipped.Select(s => s.WorkflowId).ToArray(),
                Batches = batches,
                Duration = clock.Elapsed,
            });
        }
    }
}

using System.Management.Automation;
using WorkflowTriggers.Engine.History;
using WorkflowTriggers.Engine.TriggersAsCode;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Puts triggers back as change history recorded them at a moment (-AsOf), or as they were just before piped history
/// entries: changed fields get their old values, deleted triggers come back with their ids. It goes through the
/// import path: the file format's rules, the routing rule, a plan checked again under its lock, -WhatIf with old
/// and new values, and -Confirm per trigger.
/// </summary>
[Cmdlet(VerbsData.Restore, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TriggerImportResult))]
public sealed class RestoreWorkflowTriggerCommand : TriggerPlanCmdletBase
{
    private readonly List<int> _ids = new();
    private readonly Dictionary<int, RestoreCut> _before = new();

    /// <summary>The triggers to put back.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>
    /// History entries (Get-TriggerHistory): without -AsOf, each trigger goes back to its state just before the entry.
    /// Triggers, records with an Id and ids name triggers for -AsOf.
    /// </summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    /// <summary>The moment whose state to put back (local time unless it says otherwise).</summary>
    [Parameter]
    public DateTime? AsOf { get; set; }

    /// <summary>
    /// Put triggers back even where their target node is no longer a node of their workflow, or where their id now
    /// belongs to a trigger created since (which is then overwritten; the plan shows both).
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Why this write is made: recorded with each of its change history entries.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Reason { get; set; }

    protected override void BeginProcessing() => RequireWritable(Reason);

    protected override void ProcessRecord()
    {
        _ids.AddRange(Id ?? Array.Empty<int>());
        foreach (var input in InputObject ?? Array.Empty<PSObject>())
        {
            if (PipedTrigger.From(input, out var notATrigger) is not { } trigger)
            {
                WriteError(PipedTrigger.NotATriggerError(input, notATrigger!));
                continue;
            }

            _ids.Add(trigger.Id);
            if (AsOf is null && input.Properties["HistoryId"]?.Value is long historyId && input.Properties["ChangedAt"]?.Value is DateTime changedAt)
            {
                // The earliest piped entry of a trigger wins: undoing a run of changes goes back to before the first.
                var cut = new RestoreCut(trigger.Id, changedAt, historyId);
                if (!_before.TryGetValue(trigger.Id, out var known) || (changedAt, historyId).CompareTo((known.At, known.FromHistoryId)) < 0)
                {
                    _before[trigger.Id] = cut;
                }
            }
        }
    }

    protected override void EndProcessing()
    {
        if (_ids.Count == 0)
        {
            return;
        }

        var moment = AsOf;
        if (moment is null && _ids.Any(id => !_before.ContainsKey(id)))
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("Say which moment to put back: -AsOf, or pipe history entries from Get-TriggerHistory (each goes back to just before its change).", nameof(AsOf)),
                "RestorePointMissing",
                ErrorCategory.InvalidArgument,
                null));
        }

        var cuts = _ids.Distinct().Select(id => moment is { } asOf ? new RestoreCut(id, asOf) : _before[id]).ToList();
        var points = Await(ct => new TriggerRestore(Database).StateAtAsync(cuts, ct));
        var label = moment is { } at ? $"history as of {at:yyyy-MM-dd HH:mm:ss}" : "history before the piped changes";
        var entries = new List<TriggerDocumentEntry>();
        foreach (var point in points)
        {
            switch (point.State)
            {
                case RestoreState.Existed when point.ReusedByRowJson is { } reusedBy && !Force:
                    var then = TriggerRestore.EntryOf(0, point.RowJson!);
                    var now = TriggerRestore.EntryOf(0, reusedBy);
                    WriteError(new ErrorRecord(
                        new InvalidOperationException(
                            $"Trigger {point.TriggerId} then was '{then.Name}' (workflow {then.WorkflowId}); it was deleted, and id {point.TriggerId} now belongs to '{now.Name}' (workflow {now.WorkflowId}), " +
                            "a trigger created since. Putting the old one back would overwrite that one, so nothing was done for it. Use -Force to overwrite it anyway."),
                        "TriggerIdentityConflict",
                        ErrorCategory.InvalidData,
                        point.TriggerId));
                    break;
                case RestoreState.Existed:
                    entries.Add(TriggerRestore.EntryOf(entries.Count, point.RowJson!));
                    break;
                case RestoreState.Cleared:
                    WriteError(new ErrorRecord(
                        new ItemNotFoundException(
                            $"Change history of trigger {point.TriggerId} at that moment was cleared (Clear-TriggerHistory removed entries up to {LocalTime.Of(point.ClearedBefore):yyyy-MM-dd HH:mm:ss}), so its state then cannot be told; it is left as it is. Pick a moment after that."),
                        "HistoryClearedThen",
                        ErrorCategory.ObjectNotFound,
                        point.TriggerId));
                    break;
                case RestoreState.Absent:
                    WriteError(new ErrorRecord(
                        new ItemNotFoundException($"Trigger {point.TriggerId} did not exist at that moment (change history shows it created after it, or deleted before it), so there is nothing to put back; it is left as it is. Remove-WorkflowTrigger removes it."),
                        "TriggerAbsentThen",
                        ErrorCategory.ObjectNotFound,
                        point.TriggerId));
                    break;
                default:
                    WriteError(new ErrorRecord(
                        new ItemNotFoundException($"Change history does not know trigger {point.TriggerId} at that moment (history was turned on later, or has no entry of it), so its state then is not known; it is left as it is."),
                        "TriggerNotInHistory",
                        ErrorCategory.ObjectNotFound,
                        point.TriggerId));
                    break;
            }
        }

        if (entries.Count > 0)
        {
            PlanConfirmApply(entries, label, Force);
        }
    }
}

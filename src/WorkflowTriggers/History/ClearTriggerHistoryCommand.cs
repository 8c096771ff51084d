using System.Management.Automation;
using WorkflowTriggers.Engine.History;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Deletes change history recorded before a date, or, without one, older than the retention Enable-TriggerHistory
/// set: the command a scheduled runbook runs to keep the history to its retention.
/// </summary>
[Cmdlet(VerbsCommon.Clear, "TriggerHistory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(TriggerHistoryClearResult))]
public sealed class ClearTriggerHistoryCommand : TriggerCmdletBase
{
    private const int BatchSize = 50_000;

    /// <summary>Deletes the entries recorded before this time; without it, those older than the retention.</summary>
    [Parameter(Position = 0)]
    public DateTime? Before { get; set; }

    protected override void EndProcessing()
    {
        RequireWritable();
        var history = new ChangeHistory(Database);
        var status = Await(history.GetStatusAsync);
        if (status.Version is null)
        {
            ThrowTerminatingError(new ErrorRecord(
                new InvalidOperationException($"Change history is not on in {Database}: there is nothing to clear."),
                "HistoryNotEnabled",
                ErrorCategory.InvalidOperation,
                Database.ToString()) { ErrorDetails = new ErrorDetails($"Change history is not on in {Database}: there is nothing to clear.") { RecommendedAction = "Run Enable-TriggerHistory to turn it on." } });
        }

        var before = Before ?? (ChangeHistory.RetentionCutoff(status, DateTime.UtcNow) is { } cutoff ? cutoff.ToLocalTime() : null);
        if (before is null)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("No -Before was given and the history has no retention: say how far back to clear, or set a retention with Enable-TriggerHistory -RetentionDays.", nameof(Before)),
                "RetentionNotSet",
                ErrorCategory.InvalidArgument,
                null));
        }

        var deleted = 0L;
        if (ShouldProcess(Database.ToString(), $"Delete the change history recorded before {before:u}"))
        {
            var progress = new ProgressRecord(1, "Clearing change history", "Starting");
            try
            {
                foreach (var batch in Stream(history.ClearAsync(before!.Value, BatchSize, Cancellation), engineErrorsReachCaller: true))
                {
                    deleted += batch;
                    progress.StatusDescription = $"{deleted:N0} entries deleted";
                    WriteProgress(progress);
                }
            }
            catch (Engine.Common.TriggerEngineException ex)
            {
                ThrowTerminatingError(EngineErrors.WithNote(EngineErrors.From(ex, ErrorTarget), $"Before it stopped, {deleted:N0} entries were deleted."));
            }

            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }

        var after = Await(history.GetStatusAsync);
        WriteObject(new TriggerHistoryClearResult
        {
            Database = Database.ToString(),
            Before = before!.Value,
            Deleted = deleted,
            Remaining = after.Entries,
            OldestEntry = LocalTime.Of(after.OldestEntry),
        });
    }
}

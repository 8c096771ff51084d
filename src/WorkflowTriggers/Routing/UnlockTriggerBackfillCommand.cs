using System.Management.Automation;
using WorkflowTriggers.Engine.Routing;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Breaks the backfill lease of the schema, so the next Invoke-TriggerBackfill may start: for a lease left by a run
/// that is gone, or planted by someone who is not running a backfill. It shows who holds the lease, as the server
/// knows it, and asks first. A lease that has not expired is broken only with -Force; one whose row a batch is being
/// written under never is (stop that run first).
/// </summary>
[Cmdlet(VerbsCommon.Unlock, "TriggerBackfill", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(TriggerBackfillLease))]
public sealed class UnlockTriggerBackfillCommand : TriggerCmdletBase
{
    /// <summary>Break a lease that has not expired: its run, if there is one, stops at its next batch (BackfillLeaseLost).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        RequireWritable();
        var backfill = new TriggerBackfill(Database);
        if (Await(backfill.GetLeaseAsync) is not { } holder)
        {
            WriteVerbose($"No backfill holds the lease on {Database}: nothing to break.");
            return;
        }

        var lease = TriggerBackfillLease.From(holder, Database.ToString());
        if (holder.Busy)
        {
            ThrowTerminatingError(Refusal(
                $"A batch of the backfill that holds the lease on {Database} is being written right now (by {lease}), so the lease was not broken.",
                $"Stop that run first: Ctrl+C in its session, or SELECT pg_terminate_backend({holder.ServerProcessId?.ToString() ?? "<its server process>"}) if it is stalled; then run this again."));
        }

        if (!holder.Expired && !Force)
        {
            ThrowTerminatingError(Refusal(
                $"The backfill lease on {Database} is held by {lease} and has not expired, so it was not broken.",
                "If that run is gone, or the lease was never a backfill's, use -Force to break it; a run still going stops before its next batch."));
        }

        if (!ShouldProcess(Database.ToString(), $"Break the backfill lease held by {lease}"))
        {
            WriteObject(lease);
            return;
        }

        if (!Await(ct => backfill.BreakLeaseAsync(holder, ct)))
        {
            WriteWarning($"The backfill lease on {Database} changed hands or was released while this command ran; nothing was broken. Run it again to see who holds it now.");
            return;
        }

        WriteObject(lease);
    }

    private ErrorRecord Refusal(string message, string advice) => new(
        new InvalidOperationException($"{message} {advice}"),
        "BackfillLeaseHeld",
        ErrorCategory.ResourceBusy,
        Database.ToString())
    {
        ErrorDetails = new ErrorDetails($"{message} {advice}") { RecommendedAction = advice },
    };
}

using System.Management.Automation;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Write cmdlets whose items are triggers: given by -Id, or piped (trigger objects, records with an Id, or ids; see
/// <see cref="PipedTrigger"/>). Anything else piped is a NotATrigger error and nothing is done for it.
/// </summary>
public abstract class TriggerIdCmdletBase<TItem> : TriggerBatchCmdletBase<TItem>
{
    /// <summary>The ids of the triggers.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>Triggers from Get-WorkflowTrigger (live or deserialized), records with an Id (CSV, JSON), or trigger ids.</summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    protected override void BeginProcessing()
    {
        var piped = MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)) || MyInvocation.ExpectingInput;
        if (Id is not null && piped)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("Give the triggers either with -Id or through the pipeline (-InputObject), not both."), "TriggersGivenTwice", ErrorCategory.InvalidArgument, null));
        }

        if (Id is null && !piped)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("Give the triggers with -Id, or pipe them in (Get-WorkflowTrigger ... | " + MyInvocation.MyCommand.Name + ")."), "NoTriggerGiven", ErrorCategory.InvalidArgument, null));
        }

        base.BeginProcessing();
    }

    protected override void ProcessRecord()
    {
        if (InputObject is not null)
        {
            foreach (var input in InputObject)
            {
                if (PipedTrigger.From(input, out var notATrigger) is { } trigger)
                {
                    Accept(trigger);
                }
                else
                {
                    WriteError(PipedTrigger.NotATriggerError(input, notATrigger!));
                }
            }

            return;
        }

        foreach (var id in Id ?? Array.Empty<int>())
        {
            Accept(PipedTrigger.From(id, out _)!);
        }
    }

    /// <summary>Takes one trigger the user gave.</summary>
    private protected abstract void Accept(PipedTrigger trigger);
}

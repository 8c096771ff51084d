using System.Management.Automation;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>Switches triggers on or off.</summary>
public abstract class SetTriggerStateCommandBase : TriggerIdCmdletBase<PipedTrigger>
{
    private TriggerWriter? _writer;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Write even to a piped trigger whose row changed after it was read.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected abstract bool Active { get; }

    private TriggerWriter Writer => _writer ??= new TriggerWriter(Database);

    private protected override void Accept(PipedTrigger trigger) => Enqueue(trigger, trigger.Id);

    protected override void ProcessBatch(IReadOnlyList<PipedTrigger> batch)
    {
        var approved = ConfirmEach(batch, t => t, (_, _) => Active ? "Enable" : "Disable", Force);
        WriteIsolatingRefusals(
            approved.Select(a => Versioned(a.Item, Force)).ToArray(),
            (items, ct) => Writer.SetActiveAsync(items, Active, ct),
            t => t.Id,
            (_, result) => Report(result, PassThru, Active ? "enabled" : "disabled"));
    }
}

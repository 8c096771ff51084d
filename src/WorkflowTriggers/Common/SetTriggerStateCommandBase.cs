using System.Management.Automation;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>Switches triggers on or off.</summary>
public abstract class SetTriggerStateCommandBase : TriggerIdCmdletBase<int>
{
    private TriggerWriter? _writer;

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected abstract bool Active { get; }

    private TriggerWriter Writer => _writer ??= new TriggerWriter(Database);

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            Enqueue(id, id);
        }
    }

    protected override void ProcessBatch(IReadOnlyList<int> batch)
    {
        var approved = ConfirmEach(batch, id => id, _ => Active ? "Enable" : "Disable");
        WriteIsolatingRefusals(approved, (ids, ct) => Writer.SetActiveAsync(ids, Active, ct), id => id, (_, result) => Report(result, PassThru, Active ? "enabled" : "disabled"));
    }
}

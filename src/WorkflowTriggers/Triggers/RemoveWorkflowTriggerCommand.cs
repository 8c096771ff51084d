using System.Management.Automation;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>Deletes triggers. Prompts for each unless -Confirm:$false or -Force.</summary>
[Cmdlet(VerbsCommon.Remove, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class RemoveWorkflowTriggerCommand : TriggerIdCmdletBase<int>
{
    private TriggerWriter? _writer;

    /// <summary>Delete without prompting (-WhatIf and an explicit -Confirm still apply).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Return the deleted triggers as they were.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

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
        var skipPrompt = Force && !WhatIfRequested && !MyInvocation.BoundParameters.ContainsKey("Confirm");
        var approved = ConfirmEach(batch, id => id, _ => "Delete", skipPrompt);
        WriteIsolatingRefusals(approved, Writer.DeleteAsync, id => id, (_, result) => Report(result, PassThru, "deleted"));
    }
}

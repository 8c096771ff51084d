using System.Management.Automation;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>Deletes triggers. Prompts for each unless -Confirm:$false or -Force.</summary>
[Cmdlet(VerbsCommon.Remove, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class RemoveWorkflowTriggerCommand : TriggerIdCmdletBase<PipedTrigger>
{
    private TriggerWriter? _writer;

    /// <summary>
    /// Delete without prompting (-WhatIf and an explicit -Confirm still apply), also a piped trigger whose row changed
    /// after it was read.
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Return the deleted triggers as they were.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private TriggerWriter Writer => _writer ??= new TriggerWriter(Database);

    private protected override void Accept(PipedTrigger trigger) => Enqueue(trigger, trigger.Id);

    protected override void ProcessBatch(IReadOnlyList<PipedTrigger> batch)
    {
        var skipPrompt = Force && !WhatIfRequested && !MyInvocation.BoundParameters.ContainsKey("Confirm");
        var approved = ConfirmEach(batch, t => t, (_, _) => "Delete", Force, skipPrompt);
        WriteIsolatingRefusals(approved.Select(a => Versioned(a.Item, Force)).ToArray(), Writer.DeleteAsync, t => t.Id, (_, result) => Report(result, PassThru, "deleted"));
    }
}

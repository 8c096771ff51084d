using System.Management.Automation;

namespace WorkflowTriggers.Commands;

/// <summary>Switches triggers on.</summary>
[Cmdlet(VerbsLifecycle.Enable, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class EnableWorkflowTriggerCommand : SetTriggerStateCommandBase
{
    protected override bool Active => true;
}

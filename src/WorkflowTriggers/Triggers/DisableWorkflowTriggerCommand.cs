using System.Management.Automation;

namespace WorkflowTriggers.Commands;

/// <summary>Switches triggers off.</summary>
[Cmdlet(VerbsLifecycle.Disable, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class DisableWorkflowTriggerCommand : SetTriggerStateCommandBase
{
    protected override bool Active => false;
}

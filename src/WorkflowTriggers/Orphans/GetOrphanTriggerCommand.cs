using System.Management.Automation;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>Triggers whose workflow no longer exists in the engine's workflows table.</summary>
[Cmdlet(VerbsCommon.Get, "OrphanTrigger")]
[OutputType(typeof(WorkflowTrigger))]
public sealed class GetOrphanTriggerCommand : TriggerCmdletBase
{
    protected override void EndProcessing()
    {
        foreach (var row in Stream(new TriggerReader(Database).QueryAsync(new TriggerFilter { Orphans = true }, Cancellation)))
        {
            WriteObject(WorkflowTrigger.From(row));
        }
    }
}

using System.Management.Automation;
using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Commands;

/// <summary>Where the database's schema stands.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerSchema")]
[OutputType(typeof(SchemaStatus))]
public sealed class GetTriggerSchemaCommand : TriggerCmdletBase
{
    protected override void EndProcessing() =>
        WriteObject(WorkflowTriggers.SchemaStatus.From(Await(ct => new SchemaInstaller(Database).GetStatusAsync(ct))));
}

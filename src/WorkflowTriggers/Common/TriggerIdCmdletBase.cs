using System.Management.Automation;

namespace WorkflowTriggers.Commands;

/// <summary>Write cmdlets whose items are triggers named by id (-Id, or Id from piped objects).</summary>
public abstract class TriggerIdCmdletBase<TItem> : TriggerBatchCmdletBase<TItem>
{
    /// <summary>The id of the trigger; also bound from the Id property of piped objects.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, int.MaxValue)]
    public int[] Id { get; set; } = Array.Empty<int>();
}

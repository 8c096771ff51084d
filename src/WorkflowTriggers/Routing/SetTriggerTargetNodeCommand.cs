using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>Routes triggers to a node of their workflow, or clears the target node.</summary>
[Cmdlet(VerbsCommon.Set, "TriggerTargetNode", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NodeSet)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class SetTriggerTargetNodeCommand : TriggerIdCmdletBase<(PipedTrigger Trigger, string? NodeId)>
{
    private const string NodeSet = "Node";
    private const string ClearSet = "Clear";

    private TriggerRouter? _router;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = NodeSet, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(TargetNodeIdCompleter))]
    public string NodeId { get; set; } = string.Empty;

    /// <summary>Remove the target node, so the trigger is routed to the workflow's first input node.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ClearSet)]
    public SwitchParameter Clear { get; set; }

    /// <summary>
    /// Set the node even where workflow_nodes does not list it in the trigger's workflow, and even on a piped trigger
    /// whose row changed after it was read.
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private TriggerRouter Router => _router ??= new TriggerRouter(Database);

    private protected override void Accept(PipedTrigger trigger)
    {
        string? node = Clear ? null : NodeId;
        if (node is not null && TriggerRules.CheckTargetNodeId(node) is { } violation)
        {
            WriteError(EngineErrors.Violation(violation));
            return;
        }

        Enqueue((trigger, node), trigger.Id);
    }

    protected override void ProcessBatch(IReadOnlyList<(PipedTrigger Trigger, string? NodeId)> batch)
    {
        var approved = ConfirmEach(batch, r => r.Trigger, (r, _) => r.NodeId is null ? "Clear target node" : $"Set target node to '{r.NodeId}'", Force);
        WriteIsolatingRefusals(
            approved.Select(a => (Versioned(a.Item.Trigger, Force), a.Item.NodeId)).ToArray(),
            (items, ct) => Router.SetTargetNodeAsync(items, Force, ct),
            r => r.Item1.Id,
            (_, result) => Report(result, PassThru, "routed"));
    }
}

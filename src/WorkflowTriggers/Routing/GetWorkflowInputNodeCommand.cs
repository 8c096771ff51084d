using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Routing;

namespace WorkflowTriggers.Commands;

/// <summary>The input nodes of workflows, by the engine's rule (no incoming connection), first one first.</summary>
[Cmdlet(VerbsCommon.Get, "WorkflowInputNode")]
[OutputType(typeof(InputNode))]
public sealed class GetWorkflowInputNodeCommand : TriggerCmdletBase
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private PipelineBatch<string>? _pending;
    private WorkflowGraph? _graph;

    /// <summary>Workflow ids; also bound from the WorkflowId property of piped objects (triggers, say).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(WorkflowIdCompleter))]
    public string[] WorkflowId { get; set; } = Array.Empty<string>();

    private WorkflowGraph Graph => _graph ??= new WorkflowGraph(Database);

    private PipelineBatch<string> Pending => _pending ??= new PipelineBatch<string>(StatementBatch.DefaultSize, Query);

    protected override void ProcessRecord()
    {
        // A thousand piped triggers of one workflow ask about it once.
        foreach (var id in WorkflowId.Where(_seen.Add))
        {
            Pending.Add(id);
        }
    }

    protected override void EndProcessing() => Pending.Flush();

    private void Query(IReadOnlyList<string> wanted)
    {
        var nodes = Await(ct => Graph.GetInputNodesAsync(wanted, ct));
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            found.Add(node.WorkflowId);
            WriteObject(InputNode.From(node));
        }

        var without = wanted.Where(id => !found.Contains(id)).ToList();
        var unknown = without.Count == 0 ? new HashSet<string>() : Await(ct => Graph.UnknownWorkflowsAsync(without, ct));
        foreach (var id in without)
        {
            if (unknown.Contains(id))
            {
                WriteError(new ErrorRecord(
                    new ItemNotFoundException($"Workflow '{id}' does not exist (table workflows)."),
                    "WorkflowNotFound",
                    ErrorCategory.ObjectNotFound,
                    id));
                continue;
            }

            WriteWarning($"Workflow '{id}' has no input node: it has no nodes, or every node has an incoming connection. Triggers without a target node cannot be routed in it.");
        }
    }
}

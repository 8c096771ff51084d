using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>Routing dry-run: which active triggers an event would fire, and the node each would route it to.</summary>
[Cmdlet(VerbsDiagnostic.Test, "WorkflowTrigger")]
[OutputType(typeof(TriggerRoute))]
public sealed class TestWorkflowTriggerCommand : TriggerCmdletBase
{
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(SourceCompleter))]
    public string Source { get; set; } = string.Empty;

    [Parameter(Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(EventTypeCompleter))]
    public string EventType { get; set; } = string.Empty;

    /// <summary>Only this workflow's triggers.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(WorkflowIdCompleter))]
    public string? WorkflowId { get; set; }

    protected override void EndProcessing()
    {
        // A source or event type the schema would refuse can never fire: say so rather than answer "nothing".
        if ((TriggerRules.CheckSource(Source) ?? TriggerRules.CheckEventType(EventType)) is { } violation)
        {
            WriteError(EngineErrors.Violation(violation));
            return;
        }

        var routes = Await(ct => new WorkflowGraph(Database).TestRouteAsync(Source, EventType, WorkflowId, ct));
        if (routes.Count == 0)
        {
            WriteWarning($"No active trigger fires for source '{Source}' and event type '{EventType}'{(WorkflowId is null ? string.Empty : $" in workflow '{WorkflowId}'")}.");
        }

        var unrouted = routes.Count(r => !r.WillRoute);
        if (unrouted > 0)
        {
            WriteWarning($"{unrouted} of {routes.Count} trigger(s) would not route the event to an existing node; see their Reason.");
        }

        WriteObject(routes.Select(TriggerRoute.From), enumerateCollection: true);
    }
}

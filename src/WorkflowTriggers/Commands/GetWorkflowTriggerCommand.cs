using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine;

namespace WorkflowTriggers.Commands;

/// <summary>Streams triggers by id or by any combination of filters.</summary>
[Cmdlet(VerbsCommon.Get, "WorkflowTrigger")]
[OutputType(typeof(WorkflowTrigger))]
public sealed class GetWorkflowTriggerCommand : TriggerFilterCmdletBase
{
    private readonly List<int> _pendingIds = new();
    private TriggerStore? _store;
    private bool _idsGiven;

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    private TriggerStore Store => _store ??= new TriggerStore(Database);

    protected override void ProcessRecord()
    {
        if (Id is null)
        {
            return;
        }

        _idsGiven = true;
        _pendingIds.AddRange(Id);
        if (_pendingIds.Count >= Batching.DefaultSize)
        {
            QueryPendingIds();
        }
    }

    protected override void EndProcessing()
    {
        if (_idsGiven)
        {
            QueryPendingIds();
            return;
        }

        foreach (var row in Stream(Store.QueryAsync(Filter(null), Cancellation)))
        {
            WriteObject(WorkflowTrigger.From(row));
        }
    }

    private void QueryPendingIds()
    {
        if (_pendingIds.Count == 0)
        {
            return;
        }

        var wanted = _pendingIds.Distinct().ToArray();
        _pendingIds.Clear();
        var found = new HashSet<int>();
        foreach (var row in Stream(Store.QueryAsync(Filter(wanted), Cancellation)))
        {
            found.Add(row.Id);
            WriteObject(WorkflowTrigger.From(row));
        }

        foreach (var id in wanted.Where(id => !found.Contains(id)))
        {
            WriteNotFound("TriggerNotFound", $"No workflow trigger has id {id}{(HasFilters ? " and matches the other filters" : string.Empty)}.", id);
        }
    }
}

/// <summary>The filters of Get-WorkflowTrigger, shared with the cmdlets that select triggers the same way.</summary>
public abstract class TriggerFilterCmdletBase : TriggerCmdletBase
{
    /// <summary>Trigger name; wildcards allowed, case-insensitive.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(WorkflowIdCompleter))]
    public string? WorkflowId { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SourceCompleter))]
    public string? Source { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EventTypeCompleter))]
    public string? EventType { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TargetNodeIdCompleter))]
    public string? TargetNodeId { get; set; }

    [Parameter]
    public bool? IsActive { get; set; }

    /// <summary>Only triggers without a target node.</summary>
    [Parameter]
    public SwitchParameter Untargeted { get; set; }

    protected bool HasFilters => Name is not null || WorkflowId is not null || Source is not null || EventType is not null
                                 || TargetNodeId is not null || IsActive is not null || Untargeted;

    protected TriggerFilter Filter(IReadOnlyList<int>? ids) => new()
    {
        Ids = ids,
        NamePattern = Name,
        WorkflowId = WorkflowId,
        Source = Source,
        EventType = EventType,
        TargetNodeId = TargetNodeId,
        IsActive = IsActive,
        Untargeted = Untargeted,
    };
}

using System.Management.Automation;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>Streams triggers by id or by any combination of filters.</summary>
[Cmdlet(VerbsCommon.Get, "WorkflowTrigger")]
[OutputType(typeof(WorkflowTrigger))]
public sealed class GetWorkflowTriggerCommand : TriggerFilterCmdletBase
{
    private PipelineBatch<int>? _pendingIds;
    private TriggerReader? _reader;
    private bool _idsGiven;

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    private TriggerReader Reader => _reader ??= new TriggerReader(Database);

    private PipelineBatch<int> PendingIds => _pendingIds ??= new PipelineBatch<int>(StatementBatch.DefaultSize, QueryIds);

    protected override void ProcessRecord()
    {
        if (Id is null)
        {
            return;
        }

        _idsGiven = true;
        foreach (var id in Id)
        {
            PendingIds.Add(id);
        }
    }

    protected override void EndProcessing()
    {
        if (_idsGiven)
        {
            PendingIds.Flush();
            return;
        }

        foreach (var row in Stream(Reader.QueryAsync(Filter(null), Cancellation)))
        {
            WriteObject(WorkflowTrigger.From(row));
        }
    }

    private void QueryIds(IReadOnlyList<int> ids)
    {
        var wanted = ids.Distinct().ToArray();
        var found = new HashSet<int>();
        foreach (var row in Stream(Reader.QueryAsync(Filter(wanted), Cancellation)))
        {
            found.Add(row.Id);
            WriteObject(WorkflowTrigger.From(row));
        }

        foreach (var id in wanted.Where(id => !found.Contains(id)))
        {
            WriteError(EngineErrors.NotFound(id, HasFilters));
        }
    }
}

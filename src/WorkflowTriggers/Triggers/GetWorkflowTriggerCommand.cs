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

    [Parameter(Position = 0)]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>Triggers to read again (live or deserialized), records with an Id, or trigger ids.</summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    private TriggerReader Reader => _reader ??= new TriggerReader(Database);

    private PipelineBatch<int> PendingIds => _pendingIds ??= new PipelineBatch<int>(StatementBatch.DefaultSize, QueryIds);

    protected override void ProcessRecord()
    {
        foreach (var input in InputObject ?? Array.Empty<PSObject>())
        {
            _idsGiven = true;
            if (PipedTrigger.From(input, out var notATrigger) is { } trigger)
            {
                PendingIds.Add(trigger.Id);
            }
            else
            {
                WriteError(PipedTrigger.NotATriggerError(input, notATrigger!));
            }
        }

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

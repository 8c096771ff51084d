using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.History;

namespace WorkflowTriggers.Commands;

/// <summary>Reads change history, oldest first, streaming: who changed which trigger, when, why, and each field's old and new value.</summary>
[Cmdlet(VerbsCommon.Get, "TriggerHistory")]
[OutputType(typeof(TriggerHistoryEntry))]
public sealed class GetTriggerHistoryCommand : TriggerCmdletBase
{
    private readonly HashSet<int> _ids = new();

    /// <summary>Only these triggers' history.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>Triggers (or records with an Id, or ids) from the pipeline: their history.</summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(WorkflowIdCompleter))]
    public string[]? WorkflowId { get; set; }

    /// <summary>Only changes at or after this time (local time unless it says otherwise).</summary>
    [Parameter]
    public DateTime? Since { get; set; }

    /// <summary>Only changes at or before this time.</summary>
    [Parameter]
    public DateTime? Until { get; set; }

    /// <summary>Only changes by these database users.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? User { get; set; }

    [Parameter]
    public HistoryOperation[]? Operation { get; set; }

    protected override void ProcessRecord()
    {
        _ids.UnionWith(Id ?? Array.Empty<int>());
        foreach (var input in InputObject ?? Array.Empty<PSObject>())
        {
            if (PipedTrigger.From(input, out var notATrigger) is { } trigger)
            {
                _ids.Add(trigger.Id);
            }
            else
            {
                WriteError(PipedTrigger.NotATriggerError(input, notATrigger!));
            }
        }
    }

    protected override void EndProcessing()
    {
        if (MyInvocation.ExpectingInput && _ids.Count == 0 && Id is null)
        {
            // An empty pipeline asks for no trigger's history, never for all of it.
            return;
        }

        var filter = new HistoryFilter(
            _ids.Count > 0 ? _ids.ToArray() : null,
            WorkflowId,
            Since,
            Until,
            User,
            Operation?.Select(o => (Engine.History.HistoryOperation)o).ToArray());
        foreach (var entry in Stream(new HistoryReader(Database).QueryAsync(filter, Cancellation)))
        {
            WriteObject(TriggerHistoryEntry.From(entry));
        }
    }
}

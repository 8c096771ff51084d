using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Completers;

/// <summary>Completes from the distinct values of a column of workflow_triggers.</summary>
public abstract class TriggerValueCompleter : DatabaseCompleter
{
    private protected abstract TriggerColumn Column { get; }

    private protected override Task<IReadOnlyList<string>> FetchAsync(TriggerConnection database, string prefix, CancellationToken cancellationToken) =>
        new TriggerReader(database).DistinctValuesAsync(Column, prefix, MaxResults, cancellationToken);
}

public sealed class SourceCompleter : TriggerValueCompleter
{
    private protected override TriggerColumn Column => TriggerColumn.Source;
}

public sealed class EventTypeCompleter : TriggerValueCompleter
{
    private protected override TriggerColumn Column => TriggerColumn.EventType;
}

public sealed class WorkflowIdCompleter : TriggerValueCompleter
{
    private protected override TriggerColumn Column => TriggerColumn.WorkflowId;
}

public sealed class TargetNodeIdCompleter : TriggerValueCompleter
{
    private protected override TriggerColumn Column => TriggerColumn.TargetNodeId;
}

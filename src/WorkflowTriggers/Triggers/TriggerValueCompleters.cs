using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Completers;

/// <summary>Event sources that triggers use.</summary>
public sealed class SourceCompleter : DatabaseCompleter
{
    private protected override Task<IReadOnlyList<CompletionValue>> FetchAsync(TriggerConnection database, CompletionContext context, CancellationToken cancellationToken) =>
        new TriggerCompletions(database).ColumnValuesAsync(TriggerColumn.Source, context.Prefix, null, MaxResults, cancellationToken);
}

/// <summary>Event types that triggers use: only those of the -Source already on the command line, when there is one.</summary>
public sealed class EventTypeCompleter : DatabaseCompleter
{
    private protected override Task<IReadOnlyList<CompletionValue>> FetchAsync(TriggerConnection database, CompletionContext context, CancellationToken cancellationToken) =>
        new TriggerCompletions(database).ColumnValuesAsync(TriggerColumn.EventType, context.Prefix, context.Values("Source"), MaxResults, cancellationToken);
}

/// <summary>The engine's workflows (matched by id or name), each with its name; the workflows triggers use where there is no workflows table.</summary>
public sealed class WorkflowIdCompleter : DatabaseCompleter
{
    private protected override Task<IReadOnlyList<CompletionValue>> FetchAsync(TriggerConnection database, CompletionContext context, CancellationToken cancellationToken) =>
        new TriggerCompletions(database).WorkflowsAsync(context.Prefix, MaxResults, cancellationToken);
}

/// <summary>
/// The nodes of the workflow the command line is about (its -WorkflowId, or the workflow of the trigger its -Id or
/// the command piping into it names), each with its type, name and workflow; every workflow's when none is known.
/// </summary>
public sealed class TargetNodeIdCompleter : DatabaseCompleter
{
    private protected override async Task<IReadOnlyList<CompletionValue>> FetchAsync(TriggerConnection database, CompletionContext context, CancellationToken cancellationToken) =>
        await new TriggerCompletions(database).NodesAsync(context.Prefix, await context.WorkflowIdsAsync(cancellationToken).ConfigureAwait(false), MaxResults, cancellationToken).ConfigureAwait(false);
}

/// <summary>Names of triggers, of the workflow on the command line when there is one.</summary>
public sealed class TriggerNameCompleter : DatabaseCompleter
{
    private protected override async Task<IReadOnlyList<CompletionValue>> FetchAsync(TriggerConnection database, CompletionContext context, CancellationToken cancellationToken) =>
        await new TriggerCompletions(database).NamesAsync(context.Prefix, context.Values("WorkflowId"), MaxResults, cancellationToken).ConfigureAwait(false);
}

using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Health;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Completers;

/// <summary>Completes the names of workflow_triggers' indexes, each with its size.</summary>
public sealed class TriggerIndexCompleter : DatabaseCompleter
{
    private protected override async Task<IReadOnlyList<CompletionValue>> FetchAsync(TriggerConnection database, CompletionContext context, CancellationToken cancellationToken) =>
        (await new IndexHealth(database).ListAsync(CompletionLockTimeout, cancellationToken).ConfigureAwait(false))
            .Where(i => i.Name.StartsWith(context.Prefix, StringComparison.OrdinalIgnoreCase))
            .Select(i => new CompletionValue(i.Name, $"index, {i.SizeBytes / 1024:N0} kB"))
            .Take(MaxResults)
            .ToList();
}

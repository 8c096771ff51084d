using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Health;

namespace WorkflowTriggers.Completers;

/// <summary>Completes the names of workflow_triggers' indexes.</summary>
public sealed class TriggerIndexCompleter : DatabaseCompleter
{
    private protected override async Task<IReadOnlyList<string>> FetchAsync(TriggerConnection database, string prefix, CancellationToken cancellationToken) =>
        (await new IndexHealth(database).ListAsync(CompletionLockTimeout, cancellationToken).ConfigureAwait(false))
            .Select(i => i.Name).Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).Take(MaxResults).ToList();
}

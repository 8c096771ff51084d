using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using WorkflowTriggers.Commands;
using WorkflowTriggers.Engine;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Completers;

/// <summary>Completes from a fixed list of words, case-insensitively by prefix.</summary>
public abstract class WordCompleter : IArgumentCompleter
{
    protected abstract IEnumerable<string> Words { get; }

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Words.Where(w => w.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
             .Select(w => new CompletionResult(w, w, CompletionResultType.ParameterValue, w));
}

/// <summary>The SSL modes Npgsql accepts.</summary>
public sealed class SslModeCompleter : WordCompleter
{
    protected override IEnumerable<string> Words => ConnectionSettings.SslModeNames;
}

/// <summary>The schema versions this module knows.</summary>
public sealed class SchemaVersionCompleter : WordCompleter
{
    protected override IEnumerable<string> Words => SchemaSteps.Versions.Select(v => v.Version);
}

/// <summary>
/// Completes from the values in the database (the connection the command would use), so an operator picks a
/// source or workflow that exists. Any failure completes nothing: completion must never throw at the prompt.
/// </summary>
public abstract class DatabaseCompleter : IArgumentCompleter
{
    protected const int MaxResults = 50;

    /// <summary>Up to <see cref="MaxResults"/> values starting with <paramref name="prefix"/>.</summary>
    protected abstract Task<IReadOnlyList<string>> FetchAsync(TriggerConnection database, string prefix, CancellationToken cancellationToken);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<string> values;
        try
        {
            var connection = Unwrap(fakeBoundParameters["Connection"]) as TriggerConnection;
            var connectionString = Unwrap(fakeBoundParameters["ConnectionString"]) as string;
            var (database, _) = ConnectionResolver.Resolve(connection, connectionString);
            if (database is null)
            {
                return Array.Empty<CompletionResult>();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            values = FetchAsync(database, wordToComplete.Trim('\'', '"'), timeout.Token).GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            return Array.Empty<CompletionResult>();
        }

        return values.Select(v => new CompletionResult(Quote(v), v, CompletionResultType.ParameterValue, v));
    }

    private static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    private static string Quote(string value) =>
        value.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.') ? value : "'" + value.Replace("'", "''") + "'";
}

/// <summary>Completes from the distinct values of a column of workflow_triggers.</summary>
public abstract class TriggerValueCompleter : DatabaseCompleter
{
    protected abstract TriggerColumn Column { get; }

    protected override Task<IReadOnlyList<string>> FetchAsync(TriggerConnection database, string prefix, CancellationToken cancellationToken) =>
        new TriggerStore(database).DistinctValuesAsync(Column, prefix, MaxResults, cancellationToken);
}

/// <summary>Completes the names of workflow_triggers' indexes.</summary>
public sealed class TriggerIndexCompleter : DatabaseCompleter
{
    protected override async Task<IReadOnlyList<string>> FetchAsync(TriggerConnection database, string prefix, CancellationToken cancellationToken) =>
        (await new Engine.Health.IndexHealth(database).ListAsync(cancellationToken).ConfigureAwait(false))
            .Select(i => i.Name).Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).Take(MaxResults).ToList();
}

public sealed class SourceCompleter : TriggerValueCompleter
{
    protected override TriggerColumn Column => TriggerColumn.Source;
}

public sealed class EventTypeCompleter : TriggerValueCompleter
{
    protected override TriggerColumn Column => TriggerColumn.EventType;
}

public sealed class WorkflowIdCompleter : TriggerValueCompleter
{
    protected override TriggerColumn Column => TriggerColumn.WorkflowId;
}

public sealed class TargetNodeIdCompleter : TriggerValueCompleter
{
    protected override TriggerColumn Column => TriggerColumn.TargetNodeId;
}

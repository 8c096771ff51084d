using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using WorkflowTriggers.Commands;
using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers.Completers;

/// <summary>
/// Completes from the values in the database (the connection the command would use), so an operator picks a
/// source or workflow that exists. Any failure completes nothing: completion must never throw at the prompt.
/// </summary>
public abstract class DatabaseCompleter : IArgumentCompleter
{
    protected const int MaxResults = 50;

    /// <summary>A completion waits this long at most for a table another session has locked, then completes nothing.</summary>
    private protected static readonly TimeSpan CompletionLockTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Up to <see cref="MaxResults"/> values starting with <paramref name="prefix"/>.</summary>
    private protected abstract Task<IReadOnlyList<string>> FetchAsync(TriggerConnection database, string prefix, CancellationToken cancellationToken);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<string> values;
        try
        {
            var connection = Unwrap(fakeBoundParameters["Connection"]) as TriggerDatabase;
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

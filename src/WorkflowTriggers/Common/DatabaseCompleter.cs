using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using WorkflowTriggers.Commands;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Completers;

/// <summary>
/// Completes from the database (the connection the command would use), so an operator picks a source, workflow or
/// node that exists, narrowed by what the command line already says. Each value comes with what it is as its
/// tooltip. Any failure completes nothing, and a word the database does not know is left as typed rather than
/// completed to a file name: completion must never throw at the prompt, nor offer what cannot be right.
/// </summary>
public abstract class DatabaseCompleter : IArgumentCompleter
{
    protected const int MaxResults = 50;

    /// <summary>A completion waits this long at most for a table another session has locked, then completes nothing.</summary>
    private protected static readonly TimeSpan CompletionLockTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Up to <see cref="MaxResults"/> values starting with the context's prefix.</summary>
    private protected abstract Task<IReadOnlyList<CompletionValue>> FetchAsync(TriggerConnection database, CompletionContext context, CancellationToken cancellationToken);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<CompletionValue> values;
        try
        {
            var connection = CompletionContext.Unwrap(fakeBoundParameters["Connection"]) as TriggerDatabase;
            var connectionString = CompletionContext.Unwrap(fakeBoundParameters["ConnectionString"]) as string;
            var (database, _) = ConnectionResolver.Resolve(connection, connectionString);
            if (database is null)
            {
                return Array.Empty<CompletionResult>();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            var context = new CompletionContext(wordToComplete.Trim('\'', '"'), fakeBoundParameters, commandAst, database);
            values = FetchAsync(database, context, timeout.Token).GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            return Array.Empty<CompletionResult>();
        }

        if (values.Count == 0)
        {
            // Nothing in the database starts so: keep the word, instead of letting PowerShell offer file names.
            return wordToComplete.Length == 0
                ? Array.Empty<CompletionResult>()
                : new[] { new CompletionResult(wordToComplete, wordToComplete, CompletionResultType.ParameterValue, $"{wordToComplete}: nothing in the database starts so") };
        }

        return values.Select(v => new CompletionResult(Quote(v.Value), v.Value, CompletionResultType.ParameterValue, $"{v.Value}: {v.Description}"));
    }

    private static string Quote(string value) =>
        value.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.') ? value : "'" + value.Replace("'", "''") + "'";
}

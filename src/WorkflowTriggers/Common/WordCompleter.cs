using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace WorkflowTriggers.Completers;

/// <summary>Completes from a fixed list of words, case-insensitively by prefix.</summary>
public abstract class WordCompleter : IArgumentCompleter
{
    protected abstract IEnumerable<string> Words { get; }

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Words.Where(w => w.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
             .Select(w => new CompletionResult(w, w, CompletionResultType.ParameterValue, w));
}

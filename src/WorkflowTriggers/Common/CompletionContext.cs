using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Completers;

/// <summary>
/// What the command line says around the value being completed: the parameters already typed on this command, and
/// those of the command before it in the pipeline (Get-WorkflowTrigger -WorkflowId wf_x | Set-TriggerTargetNode
/// -NodeId ...), read by PowerShell's static binder, never by running anything.
/// </summary>
internal sealed class CompletionContext
{
    private readonly IDictionary _bound;
    private readonly CommandAst _command;
    private readonly TriggerConnection _database;

    public CompletionContext(string prefix, IDictionary bound, CommandAst command, TriggerConnection database)
    {
        Prefix = prefix;
        _bound = bound;
        _command = command;
        _database = database;
    }

    public string Prefix { get; }

    public static object? Unwrap(object? value) => value is PSObject ps ? ps.BaseObject : value;

    /// <summary>The plain (wildcard-free) values of a parameter on this command, or on the command piping into it.</summary>
    public IReadOnlyList<string>? Values(string parameter)
    {
        var values = Texts(Unwrap(_bound[parameter])) ?? Texts(Upstream(parameter));
        var plain = values?.Where(v => v.Length > 0 && !WildcardPattern.ContainsWildcardCharacters(v)).ToList();
        return plain is { Count: > 0 } ? plain : null;
    }

    /// <summary>
    /// The workflows the command line is about: its -WorkflowId, or the workflows of the triggers its -Id (or the
    /// command piping into it) names.
    /// </summary>
    public async Task<IReadOnlyList<string>?> WorkflowIdsAsync(CancellationToken cancellationToken)
    {
        if (Values("WorkflowId") is { } workflows)
        {
            return workflows;
        }

        var ids = Numbers(Unwrap(_bound["Id"])) ?? Numbers(Upstream("Id"));
        if (ids is not { Count: > 0 })
        {
            return null;
        }

        var found = await new TriggerCompletions(_database).WorkflowsOfTriggersAsync(ids, cancellationToken).ConfigureAwait(false);
        return found.Count > 0 ? found.Select(w => w.Value).ToList() : null;
    }

    // A parameter's constant value on the command before this one in the pipeline.
    private object? Upstream(string parameter)
    {
        if (_command.Parent is not PipelineAst pipeline)
        {
            return null;
        }

        var position = pipeline.PipelineElements.IndexOf(_command);
        if (position < 1 || pipeline.PipelineElements[position - 1] is not CommandAst previous)
        {
            return null;
        }

        var binding = StaticParameterBinder.BindCommand(previous, resolve: false);
        return binding.BoundParameters.TryGetValue(parameter, out var bound) ? bound.ConstantValue : null;
    }

    private static List<string>? Texts(object? value) => value switch
    {
        string text => new List<string> { text },
        IEnumerable many => many.Cast<object?>().Select(Unwrap).OfType<string>().ToList(),
        _ => null,
    };

    private static List<int>? Numbers(object? value) => value switch
    {
        int id => new List<int> { id },
        string text when int.TryParse(text, out var id) => new List<int> { id },
        IEnumerable many and not string => many.Cast<object?>().Select(Unwrap).Select(v => v is int i ? i : v is string s && int.TryParse(s, out var n) ? n : 0).Where(i => i > 0).ToList(),
        _ => null,
    };
}

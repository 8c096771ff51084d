using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>The filters of Get-WorkflowTrigger, shared with the cmdlets that select triggers the same way.</summary>
public abstract class TriggerFilterCmdletBase : TriggerCmdletBase
{
    /// <summary>Trigger name; wildcards allowed, case-insensitive.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TriggerNameCompleter))]
    public string? Name { get; set; }

    /// <summary>One or more values; wildcards allowed (-like semantics). Plain values are matched exactly and served by the indexes.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(WorkflowIdCompleter))]
    public string[]? WorkflowId { get; set; }

    /// <summary>One or more values; wildcards allowed (-like semantics). Plain values are matched exactly and served by the indexes.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(SourceCompleter))]
    public string[]? Source { get; set; }

    /// <summary>One or more values; wildcards allowed (-like semantics). Plain values are matched exactly and served by the indexes.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EventTypeCompleter))]
    public string[]? EventType { get; set; }

    /// <summary>One or more values; wildcards allowed (-like semantics). Plain values are matched exactly and served by the indexes.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TargetNodeIdCompleter))]
    public string[]? TargetNodeId { get; set; }

    [Parameter]
    public bool? IsActive { get; set; }

    /// <summary>Only triggers without a target node.</summary>
    [Parameter]
    public SwitchParameter Untargeted { get; set; }

    protected bool HasFilters => Name is not null || WorkflowId is not null || Source is not null || EventType is not null
                                 || TargetNodeId is not null || IsActive is not null || Untargeted;

    protected TriggerFilter Filter(IReadOnlyList<int>? ids)
    {
        if (Name is not null && WildcardTranslator.ToRegex(Name, out var invalid) is null)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"-Name '{Name}' is not a valid wildcard pattern: {invalid}. Use * ? and [a-z] as -like does; escape a literal [ with a backtick.", nameof(Name)),
                "InvalidNamePattern",
                ErrorCategory.InvalidArgument,
                Name));
        }

        return new TriggerFilter
        {
            Ids = ids,
            NamePattern = Name,
            WorkflowIds = WorkflowId,
            Sources = Source,
            EventTypes = EventType,
            TargetNodeIds = TargetNodeId,
            IsActive = IsActive,
            Untargeted = Untargeted,
        };
    }
}

using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.TriggersAsCode;

/// <summary>What importing one entry does (or, with -WhatIf, would do).</summary>
public enum ImportAction
{
    Created,
    Updated,
    Unchanged,
}

/// <summary>One field an import changes, with the database's value and the file's, as text (config as canonical JSON).</summary>
public sealed record FieldChange(TriggerField Field, string? OldValue, string? NewValue);

/// <summary>One valid entry of a file and what making the database match it takes.</summary>
public sealed class TriggerImportResult
{
    public int Entry { get; init; }
    public ImportAction Action { get; set; }

    /// <summary>The trigger's id: the existing one, the file's, or (after a create without one) the new one.</summary>
    public int? Id { get; set; }
    public string Name { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;

    /// <summary>For Updated: each field that differs, with both values.</summary>
    public IReadOnlyList<FieldChange> Changes { get; init; } = Array.Empty<FieldChange>();

    public IReadOnlyList<TriggerField> ChangedFields => Changes.Select(c => c.Field).ToArray();

    /// <summary>The database's trigger the entry changes, when its name or workflow differ from the entry's (-Force matched it by id).</summary>
    public TriggerKey? DatabaseTrigger { get; init; }

    /// <summary>False for a plan (-WhatIf) and for Unchanged entries: nothing was written for it.</summary>
    public bool Applied { get; set; }

    /// <summary>The entry this result plans for: errors about it name it.</summary>
    public TriggerDocumentEntry Source { get; internal init; } = null!;

    // The whole trigger the entry writes (the entry laid over the database's row): what the apply step sends.
    internal NewTrigger Merged { get; init; } = null!;
}

/// <summary>The plan for a file: what each valid entry needs, and the entries refused, with why.</summary>
public sealed class ImportPlan
{
    public List<TriggerImportResult> Items { get; } = new();
    public List<(TriggerDocumentEntry Entry, RuleViolation Violation)> Refused { get; } = new();
}

/// <summary>
/// Triggers of the file's workflows that the file does not mention, to be removed (or disabled) by the import:
/// only those of <see cref="Approved"/> that are still unmentioned when the import writes.
/// </summary>
public sealed record PruneRequest(IReadOnlyList<string> WorkflowIds, bool Disable, IReadOnlySet<int> Approved);

/// <summary>What applying a plan did: entries the server refused, and entries the database changed under since the plan.</summary>
public sealed class ImportOutcome
{
    /// <summary>Entries whose row the server refused (a value it cannot store or index), with its reason; nothing of them was written.</summary>
    public List<(TriggerImportResult Item, TriggerEngineException Error)> Refused { get; } = new();

    /// <summary>Entries that, planned again under the import lock, need a different write than the one approved: not written.</summary>
    public List<TriggerImportResult> ChangedSincePlan { get; } = new();

    /// <summary>The triggers the prune removed or disabled, as they were before.</summary>
    public List<TriggerRecord> Pruned { get; } = new();
}

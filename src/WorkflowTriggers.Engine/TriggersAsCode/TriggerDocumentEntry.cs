using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.TriggersAsCode;

/// <summary>
/// One trigger of a triggers-as-code file, as a patch: only the fields it states (<see cref="Stated"/>) change an
/// existing trigger; a field stated as null clears it. <see cref="Violations"/> says what is wrong with it, if anything.
/// </summary>
public sealed class TriggerDocumentEntry
{
    /// <summary>Position in the file's triggers array (or the pipeline), from 0.</summary>
    public int Index { get; init; }
    public int? Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;
    public string? Description { get; init; }
    public string? Source { get; init; }
    public string? EventType { get; init; }
    public string? TargetNodeId { get; init; }
    public bool? IsActive { get; init; }

    /// <summary>The config in canonical form (keys sorted, compact), so equal configs compare equal as text; "{}" when stated as null.</summary>
    public string? ConfigJson { get; init; }

    /// <summary>The fields the entry states, with a value or null. Name and WorkflowId are always among them.</summary>
    public IReadOnlySet<TriggerField> Stated { get; init; } = new HashSet<TriggerField>();

    public List<RuleViolation> Violations { get; } = new();

    /// <summary>
    /// The id alone says which trigger this is (an entry made from this database's own change history): no check
    /// that the trigger with that id still has the entry's name and workflow, since a restore may change both back.
    /// </summary>
    public bool IdNamesTrigger { get; set; }

    /// <summary>
    /// The trigger this entry describes: <paramref name="existing"/> with the stated fields laid over it, or, for a
    /// new trigger, the stated fields with the defaults for the rest.
    /// </summary>
    public NewTrigger Over(TriggerRecord? existing)
    {
        T Pick<T>(TriggerField field, T stated, T current) => Stated.Contains(field) ? stated : current;
        return new NewTrigger(
            TriggerRules.NormalizeName(Name),
            WorkflowId,
            Pick(TriggerField.Source, Source, existing?.Source) ?? string.Empty,
            Pick(TriggerField.EventType, EventType, existing?.EventType) ?? string.Empty,
            Pick(TriggerField.Description, Description, existing?.Description),
            Pick(TriggerField.TargetNodeId, TargetNodeId, existing?.TargetNodeId),
            Pick(TriggerField.Config, ConfigJson, existing is null ? "{}" : TriggerDocument.CanonicalConfig(existing.ConfigJson)) ?? "{}",
            Pick(TriggerField.IsActive, IsActive, existing?.IsActive) ?? true);
    }
}

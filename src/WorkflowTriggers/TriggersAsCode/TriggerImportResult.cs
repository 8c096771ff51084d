
namespace WorkflowTriggers;

/// <summary>What importing one entry does (or, with -WhatIf, would do).</summary>
public enum ImportAction
{
    Created,
    Updated,
    Unchanged,
}

/// <summary>One valid entry of a triggers file and what making the database match it took (or would take).</summary>
public sealed class TriggerImportResult
{
    /// <summary>The entry's position in the file's triggers array, from 1.</summary>
    public int Entry { get; init; }
    public ImportAction Action { get; init; }

    /// <summary>The trigger's id: the existing one, the file's, or (after a create without one) the new one.</summary>
    public int? Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;

    /// <summary>For Updated: the fields that differ, named as the trigger object's properties.</summary>
    public string[] ChangedFields { get; init; } = Array.Empty<string>();

    /// <summary>False for a plan (-WhatIf), for a declined prompt and for Unchanged entries: nothing was written for it.</summary>
    public bool Applied { get; init; }

    internal static TriggerImportResult From(Engine.TriggersAsCode.TriggerImportResult item) => new()
    {
        Entry = item.Entry,
        Action = (ImportAction)item.Action,
        Id = item.Id,
        Name = item.Name,
        WorkflowId = item.WorkflowId,
        ChangedFields = item.ChangedFields.Select(f => f.ToString()).ToArray(),
        Applied = item.Applied,
    };
}

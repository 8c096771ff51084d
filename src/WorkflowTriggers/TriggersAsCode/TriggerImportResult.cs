namespace WorkflowTriggers;

/// <summary>What importing one entry does (or, with -WhatIf, would do); Deleted and Disabled are what -Prune did to a trigger the file does not mention.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum ImportAction
{
    Created,
    Updated,
    Unchanged,
    Deleted,
    Disabled,
}

/// <summary>One field that differs: the database's value and the file's, as text (config as compact JSON with sorted keys).</summary>
public sealed class TriggerFieldChange
{
    public string Field { get; init; } = string.Empty;
    public string? OldValue { get; init; }
    public string? NewValue { get; init; }

    /// <summary>Reads like a line of a diff: Config: {"a":1} -> {"a":2}.</summary>
    public override string ToString() => $"{Field}: {Show(OldValue)} -> {Show(NewValue)}";

    internal static string Show(string? value) => value is null ? "(none)" : $"'{value}'";

    internal static TriggerFieldChange From(Engine.TriggersAsCode.FieldChange change) => new()
    {
        Field = change.Field.ToString(),
        OldValue = change.OldValue,
        NewValue = change.NewValue,
    };
}

/// <summary>One entry of a triggers file (or one pruned trigger) and what making the database match it took (or would take).</summary>
public sealed class TriggerImportResult : IDescribesTrigger
{
    int? IDescribesTrigger.DescribedTriggerId => Id;

    /// <summary>The entry's position in the file's triggers array (or in the pipeline), from 1; none for a pruned trigger.</summary>
    public int? Entry { get; init; }
    public ImportAction Action { get; init; }

    /// <summary>The trigger's id: the existing one, the file's, or (after a create without one) the new one.</summary>
    public int? Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;

    /// <summary>For Updated: each field that differs, with the database's value and the file's.</summary>
    public TriggerFieldChange[] Changes { get; init; } = Array.Empty<TriggerFieldChange>();

    /// <summary>For Updated: the names of the fields that differ, as the trigger object's properties.</summary>
    public string[] ChangedFields => Changes.Select(c => c.Field).ToArray();

    /// <summary>The database's trigger, when -Force matched it by id although its name or workflow differ from the entry's.</summary>
    public string? DatabaseTrigger { get; init; }

    /// <summary>False for a plan (-WhatIf), for a declined prompt and for Unchanged entries: nothing was written for it.</summary>
    public bool Applied { get; init; }

    internal static TriggerImportResult From(Engine.TriggersAsCode.TriggerImportResult item) => new()
    {
        Entry = item.Entry,
        Action = (ImportAction)item.Action,
        Id = item.Id,
        Name = item.Name,
        WorkflowId = item.WorkflowId,
        Changes = item.Changes.Select(TriggerFieldChange.From).ToArray(),
        DatabaseTrigger = item.DatabaseTrigger?.ToString(),
        Applied = item.Applied,
    };

    internal static TriggerImportResult Pruned(Engine.Triggers.TriggerRecord trigger, bool disabled, bool applied) => new()
    {
        Action = disabled ? ImportAction.Disabled : ImportAction.Deleted,
        Id = trigger.Id,
        Name = trigger.Name,
        WorkflowId = trigger.WorkflowId,
        Changes = disabled ? new[] { new TriggerFieldChange { Field = "IsActive", OldValue = "True", NewValue = "False" } } : Array.Empty<TriggerFieldChange>(),
        Applied = applied,
    };
}

/// <summary>Where a trigger differs between a triggers file and the database.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum TriggerDifferenceStatus
{
    /// <summary>In the file, not in the database: an import would create it.</summary>
    OnlyInFile,

    /// <summary>In the database, in one of the file's workflows, not in the file: -Prune would remove it.</summary>
    OnlyInDatabase,

    /// <summary>In both, with fields that differ.</summary>
    Different,
}

/// <summary>One difference between a triggers file and the database (Compare-WorkflowTrigger).</summary>
public sealed class TriggerDifference : IDescribesTrigger
{
    int? IDescribesTrigger.DescribedTriggerId => Id;

    public TriggerDifferenceStatus Status { get; init; }

    /// <summary>The entry's position in the file, from 1; none for OnlyInDatabase.</summary>
    public int? Entry { get; init; }

    /// <summary>The database's id; the file's for OnlyInFile, when it gives one.</summary>
    public int? Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;

    /// <summary>For Different: each field with the database's value (OldValue) and the file's (NewValue).</summary>
    public TriggerFieldChange[] Changes { get; init; } = Array.Empty<TriggerFieldChange>();
}

/// <summary>An entry of a triggers file, or an object from the pipeline, as an error names it: its position, name, workflow and id.</summary>
public sealed class TriggerFileEntry
{
    /// <summary>The entry's position, from 1.</summary>
    public int Entry { get; init; }
    public string Name { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;
    public int? Id { get; init; }

    /// <summary>The file it comes from; none for pipeline input.</summary>
    public string? Path { get; init; }

    public override string ToString() =>
        $"entry {Entry}" + (string.IsNullOrEmpty(Name) ? string.Empty : $" '{Name}'") + (string.IsNullOrEmpty(WorkflowId) ? string.Empty : $" (workflow {WorkflowId}{(Id is { } id ? $", id {id}" : string.Empty)})");

    internal static TriggerFileEntry From(Engine.TriggersAsCode.TriggerDocumentEntry entry, string? path) => new()
    {
        Entry = entry.Index + 1,
        Name = entry.Name,
        WorkflowId = entry.WorkflowId,
        Id = entry.Id,
        Path = path,
    };
}

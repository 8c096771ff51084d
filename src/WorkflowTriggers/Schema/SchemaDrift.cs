namespace WorkflowTriggers;

/// <summary>How a schema object differs from its recorded version.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum DriftKind
{
    Missing,
    Different,

    /// <summary>An index the schema does not name: reported, never repaired.</summary>
    Extra,
}

/// <summary>An index or CHECK constraint that differs from the schema version recorded for the table.</summary>
public sealed class SchemaDrift
{
    public string Object { get; init; } = string.Empty;
    public DriftKind Kind { get; init; }

    /// <summary>The definition the version gives it, as the server writes it.</summary>
    public string? Expected { get; init; }

    /// <summary>The definition the database has.</summary>
    public string? Actual { get; init; }

    /// <summary>The SQL that would align it (Install-TriggerSchema -Repair runs it, except for Extra).</summary>
    public string Sql { get; init; } = string.Empty;

    internal static SchemaDrift From(Engine.Schema.SchemaDrift drift) => new()
    {
        Object = drift.Object,
        Kind = (DriftKind)drift.Kind,
        Expected = drift.Expected,
        Actual = drift.Actual,
        Sql = drift.Sql,
    };
}


namespace WorkflowTriggers;

/// <summary>How much an index is used, spelled as the document's health check query spells it.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum IndexUsageStatus
{
    /// <summary>No scans since the statistics began (constraint indexes never count as unused).</summary>
    UNUSED,

    /// <summary>Fewer scans than the threshold.</summary>
    LOW_USAGE,

    ACTIVE,
}

/// <summary>One index of workflow_triggers: what it is, how much it is used, and what an operator could do about it.</summary>
public sealed class TriggerIndexHealth
{
    public string Name { get; init; } = string.Empty;
    public string Schema { get; init; } = string.Empty;
    public string Method { get; init; } = string.Empty;

    /// <summary>Key columns (or expressions), then INCLUDE columns, as the index definition writes them.</summary>
    public string Columns { get; init; } = string.Empty;
    public string Definition { get; init; } = string.Empty;
    public string? Predicate { get; init; }
    public bool IsUnique { get; init; }
    public bool IsPrimary { get; init; }
    public bool IsValid { get; init; }
    public bool IsPartial { get; init; }

    /// <summary>True when a constraint (primary key, unique, exclusion) owns the index: it cannot simply be dropped.</summary>
    public bool BacksConstraint { get; init; }
    public long Scans { get; init; }
    public long TuplesRead { get; init; }
    public long TuplesFetched { get; init; }
    public long SizeBytes { get; init; }
    public string Size { get; init; } = string.Empty;
    public IndexUsageStatus UsageStatus { get; init; }

    /// <summary>Another index with the same method, columns, operator classes, predicate and expressions.</summary>
    public string? DuplicateOf { get; init; }

    /// <summary>Other indexes whose leading key columns are this one's, with the same predicate.</summary>
    public string[] OverlappedBy { get; init; } = Array.Empty<string>();

    /// <summary>When the usage counters started counting (last reset, or server start when never reset).</summary>
    public DateTime StatsSince { get; init; }

    /// <summary>SQL an operator could run, with a comment saying why; empty when there is nothing to do.</summary>
    public string Recommendation { get; init; } = string.Empty;

    /// <summary>
    /// The index's most pressing fact in a few words, short enough for the table view at 120 columns: INVALID, what it
    /// duplicates, or what covers its leading columns (OverlappedBy names them all).
    /// </summary>
    public string Note =>
        !IsValid ? "INVALID"
        : DuplicateOf is not null ? $"duplicates {DuplicateOf}"
        : OverlappedBy.Length == 1 ? $"covered by {OverlappedBy[0]}"
        : OverlappedBy.Length > 1 ? $"covered by {OverlappedBy.Length} indexes"
        : Recommendation.Length > 0 ? "see Recommendation"
        : string.Empty;

    internal static TriggerIndexHealth From(Engine.Health.TriggerIndexHealth index) => new()
    {
        Name = index.Name,
        Schema = index.Schema,
        Method = index.Method,
        Columns = index.Columns,
        Definition = index.Definition,
        Predicate = index.Predicate,
        IsUnique = index.IsUnique,
        IsPrimary = index.IsPrimary,
        IsValid = index.IsValid,
        IsPartial = index.IsPartial,
        BacksConstraint = index.BacksConstraint,
        Scans = index.Scans,
        TuplesRead = index.TuplesRead,
        TuplesFetched = index.TuplesFetched,
        SizeBytes = index.SizeBytes,
        Size = index.Size,
        UsageStatus = (IndexUsageStatus)index.UsageStatus,
        DuplicateOf = index.DuplicateOf,
        OverlappedBy = index.OverlappedBy.ToArray(),
        StatsSince = LocalTime.Of(index.StatsSince),
        Recommendation = index.Recommendation,
    };
}

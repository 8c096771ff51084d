namespace WorkflowTriggers.Engine.Health;

/// <summary>One index of workflow_triggers: what it is, how much it is used, and what an operator could do about it.</summary>
public sealed class TriggerIndexHealth
{
    public string Name { get; init; } = string.Empty;
    public string Schema { get; init; } = string.Empty;
    public string Method { get; init; } = string.Empty;

    /// <summary>Key columns (or expressions), then INCLUDE columns, as the index definition writes them.</summary>
    public string Columns => string.Join(", ", KeyColumns) + (IncludeColumns.Length > 0 ? $" INCLUDE ({string.Join(", ", IncludeColumns)})" : string.Empty);
    public string Definition { get; init; } = string.Empty;
    public string? Predicate { get; init; }
    public bool IsUnique { get; init; }
    public bool IsPrimary { get; init; }
    public bool IsValid { get; init; }
    public bool IsPartial => Predicate is not null;

    /// <summary>True when a constraint (primary key, unique, exclusion) owns the index: it cannot simply be dropped.</summary>
    public bool BacksConstraint { get; init; }
    public long Scans { get; init; }
    public long TuplesRead { get; init; }
    public long TuplesFetched { get; init; }
    public long SizeBytes { get; init; }
    public string Size { get; init; } = string.Empty;

    /// <summary>UNUSED (no scans), LOW_USAGE (fewer than the threshold) or ACTIVE, as the document's health check says.</summary>
    public IndexUsageStatus UsageStatus { get; internal set; }

    /// <summary>Another index with the same method, columns, operator classes, predicate and expressions.</summary>
    public string? DuplicateOf { get; set; }

    /// <summary>Other indexes whose leading key columns are this one's, with the same predicate.</summary>
    public IReadOnlyList<string> OverlappedBy { get; set; } = Array.Empty<string>();

    /// <summary>When the usage counters started counting (last reset, or server start when never reset).</summary>
    public DateTime StatsSince { get; init; }

    /// <summary>SQL an operator could run, with a comment saying why; empty when there is nothing to do.</summary>
    public string Recommendation { get; set; } = string.Empty;

    // The definition without the index's own name ("CREATE [UNIQUE] INDEX name ON ..."): equal signatures are the
    // same index twice.
    internal string Signature
    {
        get
        {
            const string marker = " INDEX ";
            var at = Definition.IndexOf(marker, StringComparison.Ordinal);
            var on = Definition.IndexOf(" ON ", StringComparison.Ordinal);
            return at >= 0 && on > at ? Definition[..(at + marker.Length)] + Definition[on..] : Definition.Replace(Name, string.Empty, StringComparison.Ordinal);
        }
    }

    internal string[] KeyColumns { get; init; } = Array.Empty<string>();
    internal string[] IncludeColumns { get; init; } = Array.Empty<string>();
    internal string[] JsonColumns { get; init; } = Array.Empty<string>();
    internal bool HasExpressions { get; init; }
    internal string QualifiedName { get; init; } = string.Empty;
    internal string QuotedName { get; init; } = string.Empty;
    internal string RebuiltName { get; init; } = string.Empty;
    internal string QualifiedRebuiltName { get; init; } = string.Empty;
    internal string TableName { get; init; } = string.Empty;
}

/// <summary>How much an index is used, spelled as the document's health check query spells it, so comparisons with those names keep working.</summary>
public enum IndexUsageStatus
{
    UNUSED,
    LOW_USAGE,
    ACTIVE,
}

/// <summary>What maintenance did to one index (or to the table, for ANALYZE).</summary>
public sealed class IndexMaintenanceResult
{
    public string Name { get; init; } = string.Empty;
    public string Action { get; init; } = string.Empty;
    public long? SizeBeforeBytes { get; init; }
    public long? SizeAfterBytes { get; init; }
    public TimeSpan Duration { get; init; }
}

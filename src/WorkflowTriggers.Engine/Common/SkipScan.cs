namespace WorkflowTriggers.Engine.Common;

/// <summary>
/// The distinct values of a column of workflow_triggers read by a skip scan: a recursive query that asks the column's
/// index for the next value above the last one, so it costs one index probe per distinct value, not a pass over the
/// rows. The column and condition are fixed text of the engine's, never a caller's.
/// </summary>
internal static class SkipScan
{
    /// <summary>
    /// A recursive CTE named <paramref name="name"/> with one column, value: every distinct non-null value of
    /// <paramref name="column"/> among the rows that meet <paramref name="condition"/>, in order, and a last NULL.
    /// </summary>
    public static string DistinctValues(string name, string column, string condition = "true") => $"""
        {name} AS (
            SELECT min(t.{column}) AS value FROM workflow_triggers t WHERE {condition}
            UNION ALL
            SELECT (SELECT min(t.{column}) FROM workflow_triggers t WHERE {condition} AND t.{column} > {name}.value) FROM {name} WHERE {name}.value IS NOT NULL
        )
        """;
}

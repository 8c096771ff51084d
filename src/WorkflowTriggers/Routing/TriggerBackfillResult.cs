namespace WorkflowTriggers;

/// <summary>What Invoke-TriggerBackfill did.</summary>
public sealed class TriggerBackfillResult
{
    public int Updated { get; init; }

    /// <summary>Untargeted triggers left alone because their workflow has no input node.</summary>
    public int SkippedNoInputNode { get; init; }

    /// <summary>The workflows those skipped triggers belong to.</summary>
    public string[] WorkflowsWithoutInputNode { get; init; } = Array.Empty<string>();

    public int Batches { get; init; }
    public TimeSpan Duration { get; init; }
}

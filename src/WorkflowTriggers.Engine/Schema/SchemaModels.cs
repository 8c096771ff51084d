namespace WorkflowTriggers.Engine.Schema;

public enum SchemaAction
{
    /// <summary>The table predates the module: the step's objects are created where missing and the step recorded.</summary>
    Adopt,
    Upgrade,
    Downgrade,
    AddForeignKey,

    /// <summary>An index or CHECK constraint brought back to its version's definition.</summary>
    Repair,
}

/// <summary>A step an install would take.</summary>
public sealed record PlannedSchemaStep(string Version, string Name, SchemaAction Action, string? Warning)
{
    public override string ToString() => Action switch
    {
        SchemaAction.AddForeignKey => $"Add foreign key {SchemaSteps.ForeignKeyName} (workflow_id -> workflows.id)",
        SchemaAction.Downgrade => $"Downgrade {Version} '{Name}': {Warning}",
        _ => $"{Action} {Version} '{Name}'",
    };
}

/// <summary>A step an install took.</summary>
public sealed record SchemaStepResult(string Version, string Name, SchemaAction Action, TimeSpan Duration, string? Detail);

/// <summary>A row of the module's migration history.</summary>
public sealed record AppliedSchemaStep(string Version, string Name, DateTime AppliedAt, string AppliedBy, bool Adopted);

/// <summary>Where a database stands: the answer of Get-TriggerSchema.</summary>
public sealed class SchemaStatus
{
    public string? CurrentVersion { get; init; }
    public string LatestVersion { get; init; } = SchemaSteps.LatestVersion;
    public bool IsCurrent => CurrentVersion == LatestVersion && PendingSteps.Count == 0;
    public IReadOnlyList<AppliedSchemaStep> AppliedSteps { get; init; } = Array.Empty<AppliedSchemaStep>();
    public IReadOnlyList<PlannedSchemaStep> PendingSteps { get; init; } = Array.Empty<PlannedSchemaStep>();
    public bool HasWorkflowForeignKey { get; init; }
    public bool WorkflowsTableExists { get; init; }

    /// <summary>False for a workflow_triggers table that has no history yet (it predates the module).</summary>
    public bool IsManaged { get; init; }

    /// <summary>Indexes and CHECK constraints that differ from the current version's, with the SQL that would align each.</summary>
    public IReadOnlyList<SchemaDrift> Drift { get; init; } = Array.Empty<SchemaDrift>();
    public string Database { get; init; } = string.Empty;
}

using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers;

/// <summary>Pass, Warn or Fail: Fail makes the report unhealthy, Warn asks for a look.</summary>
[Newtonsoft.Json.JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
public enum HealthStatus
{
    Pass,
    Warn,
    Fail,
}

/// <summary>The document's table health check plus named checks; healthy when no check fails.</summary>
public sealed class TriggerHealthReport
{
    public string Database { get; init; } = string.Empty;
    public long TotalRecords { get; init; }
    public long ActiveRecords { get; init; }
    public long TargetedRecords { get; init; }
    public DateTime? OldestRecord { get; init; }
    public DateTime? LastUpdate { get; init; }

    /// <summary>
    /// Which of TotalRecords, ActiveRecords and TargetedRecords are the planner's estimates. On a table of 250,000 rows
    /// or more (by the planner's estimate) read without -Exact, counts over 10,000 are estimated and LastUpdate is
    /// empty, so the report costs milliseconds, not a pass over the table. Empty when every count is exact.
    /// </summary>
    public string[] EstimatedCounts { get; init; } = Array.Empty<string>();

    /// <summary>primary or standby: a standby's checks that cannot apply there say so.</summary>
    public string Role { get; init; } = string.Empty;

    /// <summary>On a standby, seconds since the last transaction it replayed was committed on the primary.</summary>
    public double? ReplayLagSeconds { get; init; }
    public TriggerHealthCheck[] Checks { get; init; } = Array.Empty<TriggerHealthCheck>();
    public bool IsHealthy { get; init; }

    internal static TriggerHealthReport From(Engine.Health.TriggerHealthReport report) => new()
    {
        Database = report.Database,
        TotalRecords = report.TotalRecords,
        ActiveRecords = report.ActiveRecords,
        TargetedRecords = report.TargetedRecords,
        OldestRecord = LocalTime.Of(report.OldestRecord),
        LastUpdate = LocalTime.Of(report.LastUpdate),
        EstimatedCounts = report.EstimatedCounts.ToArray(),
        Role = report.Role,
        ReplayLagSeconds = report.ReplayLagSeconds,
        Checks = report.Checks.Select(TriggerHealthCheck.From).ToArray(),
        IsHealthy = report.IsHealthy,
    };
}

/// <summary>One named check of the health report: its status, what was found, and what to do about it.</summary>
public sealed class TriggerHealthCheck
{
    public string Name { get; init; } = string.Empty;
    public HealthStatus Status { get; init; }

    /// <summary>What the check found.</summary>
    public string Detail { get; init; } = string.Empty;

    /// <summary>What to do about a Warn or Fail; empty for Pass.</summary>
    public string RecommendedAction { get; init; } = string.Empty;

    public override string ToString() => $"{Status} {Name}: {Detail}" + (RecommendedAction.Length > 0 ? $" {RecommendedAction}" : string.Empty);

    internal static TriggerHealthCheck From(Engine.Health.TriggerHealthCheck check) => new()
    {
        Name = check.Name,
        Status = (HealthStatus)check.Status,
        Detail = check.Detail,
        RecommendedAction = check.Status == Engine.Health.HealthStatus.Pass ? string.Empty : RemedyFor(check.Name, check.Status),
    };

    // The cmdlets that act on each finding: the engine reports what it found, this layer says which cmdlet helps.
    private static string RemedyFor(string check, Engine.Health.HealthStatus status) => (check, status) switch
    {
        (Engine.Health.TriggerHealth.SchemaCheck, _) => "Run Install-TriggerSchema.",
        (Engine.Health.TriggerHealth.SchemaDriftCheck, _) => "(Get-TriggerSchema).Drift shows each with its SQL; Install-TriggerSchema -Repair aligns them (Extra indexes are only reported).",
        (Engine.Health.TriggerHealth.ForeignKeyCheck, Engine.Health.HealthStatus.Fail) => "Run Install-TriggerSchema to add it.",
        (Engine.Health.TriggerHealth.ForeignKeyCheck, _) =>
            $"Remove the orphans (Remove-OrphanTrigger -Delete -IncludeInactive), then run: ALTER TABLE workflow_triggers VALIDATE CONSTRAINT {SchemaSteps.ForeignKeyName};",
        (Engine.Health.TriggerHealth.OrphanCheck, Engine.Health.HealthStatus.Fail) => "Get-OrphanTrigger lists them; Remove-OrphanTrigger archives them.",
        (Engine.Health.TriggerHealth.OrphanCheck, _) => "Remove-OrphanTrigger -Delete -IncludeInactive removes them.",
        (Engine.Health.TriggerHealth.UntargetedCheck, _) => "Invoke-TriggerBackfill -WhatIf shows where they would go.",
        (Engine.Health.TriggerHealth.BrokenRoutesCheck, _) => "Test-WorkflowTrigger shows where their events land; Set-TriggerTargetNode routes them to a node of their workflow (-Clear to its first input node).",
        (Engine.Health.TriggerHealth.UnvalidatedConstraintsCheck, _) =>
            "Install-TriggerSchema's warning lists the rows that break each; fix them, then run: ALTER TABLE workflow_triggers VALIDATE CONSTRAINT <name>;",
        (Engine.Health.TriggerHealth.InvalidIndexCheck or Engine.Health.TriggerHealth.DuplicateIndexCheck, _) => "Get-TriggerIndexHealth gives the SQL that fixes each.",
        (Engine.Health.TriggerHealth.StatisticsCheck, _) => "Run Invoke-TriggerIndexMaintenance -Analyze.",
        (Engine.Health.TriggerHealth.HistoryCheck, Engine.Health.HealthStatus.Fail) =>
            "Find out who changed what the detail names (changes may have gone unrecorded meanwhile). Then run Enable-TriggerHistory as the history's owner: it makes the " +
            "recording triggers and function again and keeps the entries; it refuses, naming them, objects it cannot prove are the module's (see about_WorkflowTriggers_Security).",
        (Engine.Health.TriggerHealth.HistoryVersionCheck, _) => "Run Enable-TriggerHistory as the history's owner: it makes its objects again for this version and keeps the entries.",
        (Engine.Health.TriggerHealth.HistoryCheck, _) => "Run Clear-TriggerHistory, which keeps the retention's days; schedule it (a daily runbook) to keep it so.",
        _ => string.Empty,
    };
}

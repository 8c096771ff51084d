using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Commands;

/// <summary>Brings the database to the latest schema version, or to -Version.</summary>
[Cmdlet(VerbsLifecycle.Install, "TriggerSchema", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(SchemaStepResult))]
public sealed class InstallTriggerSchemaCommand : TriggerCmdletBase
{
    /// <summary>The version to install, upgrade or downgrade to; the latest when omitted.</summary>
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(SchemaVersionCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Version { get; set; }

    /// <summary>Also bring drifted indexes and CHECK constraints back to their version's definitions (see Get-TriggerSchema's Drift).</summary>
    [Parameter]
    public SwitchParameter Repair { get; set; }

    /// <summary>Allows a downgrade that drops data (target_node_id).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        RequireWritable();
        var installer = new SchemaInstaller(Database);
        var plan = Await(ct => installer.PlanAsync(Version, ct));
        if (plan.Count == 0)
        {
            // Said as a result, also under -WhatIf: a runbook's log shows that the step ran and found nothing to do.
            var current = Version ?? SchemaSteps.LatestVersion;
            WriteObject(new SchemaStepResult
            {
                Version = current,
                Name = "Already current",
                Action = SchemaAction.Current,
                Detail = $"{Database} is already at schema version {current}; nothing was changed.",
            });
            RepairDrift(installer);
            return;
        }

        string? loss = null;
        if (plan.Any(s => s.Warning is not null))
        {
            var targeted = Await(installer.CountTargetedTriggersAsync);
            loss = $"{targeted} trigger(s) have a target node that would be lost";
            if (!Force && !WhatIfRequested)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException($"Downgrading to {Version} drops the column target_node_id: {loss}. Run again with -Force to downgrade anyway."),
                    "DowngradeLosesData",
                    ErrorCategory.InvalidOperation,
                    Database.ToString()));
            }
        }

        // Ask per step; a declined step ends the run there, so the database stops at a whole version.
        var approved = new List<Engine.Schema.PlannedSchemaStep>();
        foreach (var step in plan)
        {
            var action = step.Warning is null ? step.ToString() : $"{step} ({loss})";
            if (!ShouldProcess(Database.ToString(), action))
            {
                break;
            }

            approved.Add(step);
        }

        if (approved.Count == 0)
        {
            return;
        }

        var target = TargetOf(approved, plan);
        var addForeignKey = approved.Any(s => s.Action == Engine.Schema.SchemaAction.AddForeignKey);
        var results = Await(ct => installer.ApplyAsync(target, allowDataLoss: Force, addForeignKey, ct));
        foreach (var result in results)
        {
            if (result.Detail is not null)
            {
                WriteWarning(result.Detail);
            }

            WriteObject(WorkflowTriggers.SchemaStepResult.From(result));
        }

        RepairDrift(installer);
    }

    // Each drifted object on its own, asked one by one; an Extra index is only named, never dropped.
    private void RepairDrift(SchemaInstaller installer)
    {
        if (!Repair)
        {
            return;
        }

        var status = Await(installer.GetStatusAsync);
        foreach (var drift in status.Drift)
        {
            if (drift.Kind == Engine.Schema.DriftKind.Extra)
            {
                WriteVerbose($"{drift.Object} is not part of the schema; -Repair leaves it. To drop it: {drift.Sql}");
                continue;
            }

            if (!ShouldProcess(Database.ToString(), $"Repair {drift.Kind.ToString().ToLowerInvariant()} {drift.Object}:\n{drift.Sql}"))
            {
                continue;
            }

            var clock = System.Diagnostics.Stopwatch.StartNew();
            Await(ct => installer.RepairAsync(drift, ct));
            WriteObject(new SchemaStepResult { Version = status.CurrentVersion ?? string.Empty, Name = drift.Object, Action = SchemaAction.Repair, Duration = clock.Elapsed, Detail = drift.Sql });
        }
    }

    // The version the database is at after the approved steps: the last one reached going up, or the one below
    // the last one removed going down.
    private string? TargetOf(List<Engine.Schema.PlannedSchemaStep> approved, IReadOnlyList<Engine.Schema.PlannedSchemaStep> plan)
    {
        var versionSteps = approved.Where(s => s.Action != Engine.Schema.SchemaAction.AddForeignKey).ToList();
        if (versionSteps.Count == plan.Count(s => s.Action != Engine.Schema.SchemaAction.AddForeignKey))
        {
            return Version;
        }

        var last = versionSteps[^1];
        if (last.Action != Engine.Schema.SchemaAction.Downgrade)
        {
            return last.Version;
        }

        var index = SchemaSteps.IndexOf(last.Version);
        return SchemaSteps.Versions[index - 1].Version;
    }
}

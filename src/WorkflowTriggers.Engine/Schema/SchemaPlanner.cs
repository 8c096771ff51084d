namespace WorkflowTriggers.Engine.Schema;

/// <summary>What the installer reads of a database before it plans: history, table shape and the engine's workflows table.</summary>
internal sealed record SchemaState(string? CurrentVersion, IReadOnlyList<AppliedSchemaStep> History, bool TableExists, bool HasTargetColumn, bool WorkflowsExists, bool HasForeignKey);

/// <summary>Decides the steps from a database's state to a target version. Pure: no database, so it is tested on its own.</summary>
internal static class SchemaPlanner
{
    /// <summary>
    /// The version a workflow_triggers table without history is taken to be at: the shape decides, since the only
    /// difference between the versions is target_node_id.
    /// </summary>
    public static string AdoptedVersion(bool hasTargetColumn) => hasTargetColumn ? SchemaSteps.TargetNodeVersion : SchemaSteps.BaseVersion;

    public static IReadOnlyList<PlannedSchemaStep> Plan(SchemaState state, string? targetVersion)
    {
        var target = SchemaSteps.IndexOf(targetVersion ?? SchemaSteps.LatestVersion);
        var steps = new List<PlannedSchemaStep>();
        var versions = SchemaSteps.Versions;
        int current;
        if (state.History.Count > 0)
        {
            current = SchemaSteps.IndexOf(state.CurrentVersion!);
        }
        else if (state.TableExists)
        {
            // A table with no history predates the module: adopt what it already is.
            current = SchemaSteps.IndexOf(AdoptedVersion(state.HasTargetColumn));
            for (var i = 0; i <= current; i++)
            {
                steps.Add(new PlannedSchemaStep(versions[i].Version, versions[i].Name, SchemaAction.Adopt, null));
            }
        }
        else
        {
            current = -1;
        }

        for (var i = current + 1; i <= target; i++)
        {
            steps.Add(new PlannedSchemaStep(versions[i].Version, versions[i].Name, SchemaAction.Upgrade, null));
        }

        for (var i = current; i > target; i--)
        {
            steps.Add(new PlannedSchemaStep(versions[i].Version, versions[i].Name, SchemaAction.Downgrade, versions[i].DownWarning));
        }

        if (state.WorkflowsExists && !state.HasForeignKey)
        {
            steps.Add(new PlannedSchemaStep(versions[target].Version, "Add workflows foreign key", SchemaAction.AddForeignKey, null));
        }

        return steps;
    }
}

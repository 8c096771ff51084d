using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>The installer's planning, without a database: from a state and a target to the steps.</summary>
public class SchemaPlannerTests
{
    private static readonly AppliedSchemaStep[] AtLatest =
    {
        new("1.0.0", "Create workflow_triggers", DateTime.UtcNow, "ops", false),
        new("2.0.0", "Add target node support", DateTime.UtcNow, "ops", false),
    };

    private static SchemaState State(string? current, AppliedSchemaStep[]? history = null, bool table = true, bool targetColumn = true, bool workflows = false, bool foreignKey = false) =>
        new(current, history ?? Array.Empty<AppliedSchemaStep>(), table, targetColumn, workflows, foreignKey);

    private static IEnumerable<(string, SchemaAction)> Steps(SchemaState state, string? target = null) =>
        SchemaPlanner.Plan(state, target).Select(s => (s.Version, s.Action));

    [Fact]
    public void An_empty_database_gets_every_version_in_order() =>
        Assert.Equal(new[] { ("1.0.0", SchemaAction.Upgrade), ("2.0.0", SchemaAction.Upgrade) }, Steps(State(null, table: false)));

    [Fact]
    public void A_database_at_the_latest_version_needs_nothing() =>
        Assert.Empty(Steps(State("2.0.0", AtLatest)));

    [Fact]
    public void A_table_without_history_is_adopted_at_the_version_its_shape_matches()
    {
        Assert.Equal(new[] { ("1.0.0", SchemaAction.Adopt), ("2.0.0", SchemaAction.Adopt) }, Steps(State("2.0.0", targetColumn: true)));
        Assert.Equal(new[] { ("1.0.0", SchemaAction.Adopt), ("2.0.0", SchemaAction.Upgrade) }, Steps(State("1.0.0", targetColumn: false)));
        Assert.Equal("1.0.0", SchemaPlanner.AdoptedVersion(hasTargetColumn: false));
        Assert.Equal(SchemaSteps.LatestVersion, SchemaPlanner.AdoptedVersion(hasTargetColumn: true));
    }

    [Fact]
    public void A_downgrade_carries_the_warning_of_the_data_it_drops()
    {
        var step = SchemaPlanner.Plan(State("2.0.0", AtLatest), "1.0.0").Single();
        Assert.Equal(("2.0.0", SchemaAction.Downgrade), (step.Version, step.Action));
        Assert.Contains("target_node_id", step.Warning);
    }

    [Fact]
    public void The_foreign_key_is_planned_only_where_workflows_exists_and_the_key_does_not()
    {
        Assert.Equal(new[] { ("2.0.0", SchemaAction.AddForeignKey) }, Steps(State("2.0.0", AtLatest, workflows: true)));
        Assert.Empty(Steps(State("2.0.0", AtLatest, workflows: true, foreignKey: true)));
        Assert.Empty(Steps(State("2.0.0", AtLatest, workflows: false)));
    }
}

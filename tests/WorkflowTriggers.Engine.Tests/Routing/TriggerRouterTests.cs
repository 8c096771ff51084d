using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Triggers;
using static WorkflowTriggers.Engine.Tests.TriggerTestData;

namespace WorkflowTriggers.Engine.Tests;

public class TriggerRouterTests : DatabaseTest
{
    protected override async Task SetUpAsync()
    {
        await AddEngineTablesAsync("""
            INSERT INTO workflows VALUES ('wf_bd11290f923b', 'Invoices'), ('wf_other', 'Other');
            INSERT INTO workflow_nodes (workflow_id, node_id) VALUES ('wf_bd11290f923b', 'pdf_input_validator'), ('wf_other', 'query_input_processor');
            """);
        await InstallSchemaAsync();
    }

    [Fact]
    public async Task Target_node_must_be_in_the_workflow_unless_forced()
    {
        var router = new TriggerRouter(Connection);
        var trigger = (await new TriggerWriter(Connection).InsertAsync(new[] { Sample("Route me") }, false, false, default)).Written.Single();
        var id = trigger.Id;

        var refused = await router.SetTargetNodeAsync(new[] { (new VersionedId(id), (string?)"query_input_processor") }, force: false, default);
        Assert.Equal(new RejectedTrigger(0, TriggerRejection.NodeNotInWorkflow, id, trigger.Key, "wf_bd11290f923b", "query_input_processor"), refused.Rejected.Single());

        Assert.Equal("pdf_input_validator", (await router.SetTargetNodeAsync(new[] { (new VersionedId(id), (string?)"pdf_input_validator") }, false, default)).Written.Single().TargetNodeId);
        Assert.Equal("query_input_processor", (await router.SetTargetNodeAsync(new[] { (new VersionedId(id), (string?)"query_input_processor") }, true, default)).Written.Single().TargetNodeId);
        Assert.Null((await router.SetTargetNodeAsync(new[] { (new VersionedId(id), (string?)null) }, false, default)).Written.Single().TargetNodeId);
        Assert.Equal(TriggerRejection.NotFound, (await router.SetTargetNodeAsync(new[] { (new VersionedId(424242), (string?)null) }, false, default)).Rejected.Single().Reason);
    }

    [Fact]
    public void The_routing_type_rule_is_the_views()
    {
        Assert.Equal("targeted", RoutingType.Of("pdf_input_validator"));
        Assert.Equal("auto_detected", RoutingType.Of(null));
        Assert.Contains($"'{RoutingType.Targeted}'", Schema.SchemaSteps.Versions[^1].UpSql);
        Assert.Contains($"'{RoutingType.AutoDetected}'", Schema.SchemaSteps.Versions[^1].UpSql);
    }
}

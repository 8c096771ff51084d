using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Orphans;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>Orphans found with NOT EXISTS, archived or deleted, never guessed without the workflows table.</summary>
public class OrphanCleanerTests : LiveAndOrphanedTriggersTest
{
    [Fact]
    public async Task Orphans_are_found_with_not_exists_even_when_workflows_holds_a_null_id()
    {
        // NOT IN (SELECT id FROM workflows) finds nothing once the subquery yields a NULL; NOT EXISTS is not fooled.
        await Db.ExecuteAsync("ALTER TABLE workflows DROP CONSTRAINT workflows_pkey; ALTER TABLE workflows ALTER COLUMN id DROP NOT NULL; INSERT INTO workflows VALUES (NULL, 'broken')");
        var orphans = await ListAsync(new TriggerReader(Connection).QueryAsync(new TriggerFilter { Orphans = true }, default));
        Assert.Equal(new[] { "Orphan active", "Orphan inactive" }, orphans.Select(o => o.Name));
    }

    [Fact]
    public async Task Archive_deactivates_orphans_and_refuses_triggers_that_are_not_orphans()
    {
        var result = await new OrphanCleaner(Connection).CleanUpAsync(new[] { 2, 1, 99 }, delete: false, default);
        Assert.Equal(new[] { 2 }, result.Written.Select(r => r.Id));
        Assert.False(result.Written[0].IsActive);
        Assert.Equal(new[] { TriggerRejection.NotAnOrphan, TriggerRejection.NotFound }, result.Rejected.Select(r => r.Reason));
        Assert.Equal(3L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers"));
        Assert.True(await Db.ScalarAsync<bool>("SELECT is_active FROM workflow_triggers WHERE id = 1"));
    }

    [Fact]
    public async Task Delete_removes_only_orphans()
    {
        var result = await new OrphanCleaner(Connection).CleanUpAsync(new[] { 1, 2, 3 }, delete: true, default);
        Assert.Equal(new[] { 2, 3 }, result.Written.Select(r => r.Id));
        Assert.Equal("Live one", await Db.ScalarAsync<string>("SELECT string_agg(name, ',') FROM workflow_triggers"));
    }

    [Fact]
    public async Task Without_a_workflows_table_nothing_is_called_an_orphan()
    {
        await Db.ExecuteAsync("DROP TABLE workflows");
        var error = await Assert.ThrowsAsync<TriggerEngineException>(() => new OrphanCleaner(Connection).CleanUpAsync(new[] { 1 }, false, default));
        Assert.Equal("workflows", error.TableName);
        await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(new TriggerReader(Connection).QueryAsync(new TriggerFilter { Orphans = true }, default)));
        Assert.Equal(2L, await Db.ScalarAsync<long>("SELECT count(*) FROM workflow_triggers WHERE is_active"));
    }
}

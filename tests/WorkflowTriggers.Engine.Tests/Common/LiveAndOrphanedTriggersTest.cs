
namespace WorkflowTriggers.Engine.Tests;

/// <summary>
/// A database with workflow 'wf_live' and three triggers: 1 'Live one' (wf_live), 2 'Orphan active' and 3 'Orphan
/// inactive' (wf_gone, which does not exist). No foreign key: orphans are what a database without it (or with it
/// added NOT VALID) can hold.
/// </summary>
public abstract class LiveAndOrphanedTriggersTest : DatabaseTest
{
    protected override async Task SetUpAsync()
    {
        await AddEngineTablesAsync("INSERT INTO workflows VALUES ('wf_live', 'Live');");
        await InstallSchemaAsync(addForeignKey: false);
        await Db.ExecuteAsync("""
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type, is_active) VALUES
                ('Live one', 'wf_live', 'pdf-monitor-event-source', 'pdf_file_added', true),
                ('Orphan active', 'wf_gone', 'pdf-monitor-event-source', 'pdf_file_added', true),
                ('Orphan inactive', 'wf_gone', 'pdf-monitor-event-source', 'pdf_file_added', false);
            """);
    }
}

using WorkflowTriggers.Engine.Common;

namespace WorkflowTriggers.Engine.Orphans;

/// <summary>
/// What makes a trigger an orphan: its workflow is not in the engine's workflows table. The one home of that
/// predicate, for finding, cleaning up, counting and the foreign key's NOT VALID decision.
/// </summary>
/// <remarks>
/// The document's cleanup uses NOT IN (SELECT id FROM workflows), which matches nothing once workflows holds a NULL
/// id and cannot use an anti-join; NOT EXISTS has neither problem.
/// </remarks>
internal static class OrphanRule
{
    /// <summary>True for a trigger aliased t whose workflow does not exist.</summary>
    public const string Predicate = "NOT EXISTS (SELECT 1 FROM workflows o WHERE o.id = t.workflow_id)";

    /// <summary>Fails with a MissingTable error when the engine's workflows table does not exist.</summary>
    public static void RequireWorkflows(EngineTables tables, string databaseDisplay)
    {
        if (!tables.Workflows)
        {
            // Without the table every trigger would look orphaned: refuse rather than archive them all.
            throw TriggerEngineException.MissingTable("workflows", databaseDisplay, "Without it orphaned triggers cannot be told from the others.");
        }
    }
}

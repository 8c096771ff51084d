using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>Triggers with the document's realistic values, for tests that need some.</summary>
internal static class TriggerTestData
{
    public static NewTrigger Sample(string name, string workflow = "wf_bd11290f923b", string? node = null, string? config = null) =>
        new(name, workflow, "pdf-monitor-event-source", "pdf_file_added", TargetNodeId: node, ConfigJson: config);
}

namespace WorkflowTriggers.Engine.Common;

/// <summary>How many items one statement carries: large enough that round trips do not dominate, small enough to cancel quickly.</summary>
public static class StatementBatch
{
    public const int DefaultSize = 1000;
}

namespace WorkflowTriggers;

/// <summary>A result type of the module that is about one trigger, and pipes into the trigger cmdlets as that trigger.</summary>
internal interface IDescribesTrigger
{
    int? DescribedTriggerId { get; }
}

using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine;
using WorkflowTriggers.Engine.Validation;

namespace WorkflowTriggers.Commands;

/// <summary>Changes only the fields given, and sets updated_at.</summary>
[Cmdlet(VerbsCommon.Set, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class SetWorkflowTriggerCommand : TriggerIdCmdletBase<TriggerChange>
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? Name { get; set; }

    private string? _description;
    private bool _descriptionGiven;

    /// <summary>The new description; an empty string clears it.</summary>
    /// <remarks>
    /// Whether it was given is tracked here, not read from BoundParameters: between piped records PowerShell
    /// restores the default (null) through this setter but leaves the previous record's name in BoundParameters.
    /// </remarks>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    [AllowNull]
    public string? Description
    {
        get => _description;
        set
        {
            _description = value;
            _descriptionGiven = value is not null;
        }
    }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(WorkflowIdCompleter))]
    public string? WorkflowId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(SourceCompleter))]
    public string? Source { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(EventTypeCompleter))]
    public string? EventType { get; set; }

    /// <summary>A hashtable, a PSCustomObject or JSON text of an object; replaces the whole config.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object? Config { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        string? config;
        try
        {
            config = ConfigConverter.ToJson(Config);
        }
        catch (ArgumentException ex)
        {
            WriteViolation(new RuleViolation("Config", Config, "InvalidConfig", ex.Message));
            return;
        }

        var setDescription = _descriptionGiven;
        var anyChange = Name is not null || WorkflowId is not null || Source is not null || EventType is not null || config is not null || setDescription;
        if (!anyChange)
        {
            WriteViolation(new RuleViolation("Name", null, "NothingToChange", "Give at least one of -Name, -Description, -WorkflowId, -Source, -EventType or -Config."));
            return;
        }

        foreach (var id in Id)
        {
            var change = new TriggerChange(id, Name, WorkflowId, Source, EventType, config, setDescription, string.IsNullOrEmpty(Description) ? null : Description);
            var violations = TriggerRules.CheckChange(change);
            if (violations.Count > 0)
            {
                foreach (var violation in violations)
                {
                    WriteViolation(violation);
                }

                continue;
            }

            Enqueue(change, id);
        }
    }

    protected override void ProcessBatch(IReadOnlyList<TriggerChange> batch)
    {
        var approved = ConfirmEach(batch, c => c.Id, c => "Update " + string.Join(", ", FieldsOf(c)));
        WriteIsolatingRefusals(approved, Store.UpdateAsync, c => c.Id, (_, result) => Report(result, PassThru, "updated"));
    }

    private static IEnumerable<string> FieldsOf(TriggerChange change)
    {
        if (change.Name is not null) yield return "name";
        if (change.SetDescription) yield return "description";
        if (change.WorkflowId is not null) yield return "workflow_id";
        if (change.Source is not null) yield return "source";
        if (change.EventType is not null) yield return "event_type";
        if (change.ConfigJson is not null) yield return "config";
    }
}

/// <summary>Routes triggers to a node of their workflow, or clears the target node.</summary>
[Cmdlet(VerbsCommon.Set, "TriggerTargetNode", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NodeSet)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class SetTriggerTargetNodeCommand : TriggerIdCmdletBase<(int Id, string? NodeId)>
{
    private const string NodeSet = "Node";
    private const string ClearSet = "Clear";

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = NodeSet, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(TargetNodeIdCompleter))]
    public string NodeId { get; set; } = string.Empty;

    /// <summary>Remove the target node, so the trigger is routed to the workflow's first input node.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ClearSet)]
    public SwitchParameter Clear { get; set; }

    /// <summary>Set the node even where workflow_nodes does not list it in the trigger's workflow.</summary>
    [Parameter(ParameterSetName = NodeSet)]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        string? node = Clear ? null : NodeId;
        if (node is not null && TriggerRules.CheckTargetNodeId(node) is { } violation)
        {
            WriteViolation(violation);
            return;
        }

        foreach (var id in Id)
        {
            Enqueue((id, node), id);
        }
    }

    protected override void ProcessBatch(IReadOnlyList<(int Id, string? NodeId)> batch)
    {
        var approved = ConfirmEach(batch, r => r.Id, r => r.NodeId is null ? "Clear target node" : $"Set target node to '{r.NodeId}'");
        WriteIsolatingRefusals(approved, (items, ct) => Store.SetTargetNodeAsync(items, Force, ct), r => r.Id, (_, result) => Report(result, PassThru, "routed"));
    }
}

/// <summary>Switches triggers on or off.</summary>
public abstract class SetTriggerStateCommandBase : TriggerIdCmdletBase<int>
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected abstract bool Active { get; }

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            Enqueue(id, id);
        }
    }

    protected override void ProcessBatch(IReadOnlyList<int> batch)
    {
        var approved = ConfirmEach(batch, id => id, _ => Active ? "Enable" : "Disable");
        WriteIsolatingRefusals(approved, (ids, ct) => Store.SetActiveAsync(ids, Active, ct), id => id, (_, result) => Report(result, PassThru, Active ? "enabled" : "disabled"));
    }
}

[Cmdlet(VerbsLifecycle.Enable, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class EnableWorkflowTriggerCommand : SetTriggerStateCommandBase
{
    protected override bool Active => true;
}

[Cmdlet(VerbsLifecycle.Disable, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class DisableWorkflowTriggerCommand : SetTriggerStateCommandBase
{
    protected override bool Active => false;
}

/// <summary>Deletes triggers. Prompts for each unless -Confirm:$false or -Force.</summary>
[Cmdlet(VerbsCommon.Remove, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class RemoveWorkflowTriggerCommand : TriggerIdCmdletBase<int>
{
    /// <summary>Delete without prompting (-WhatIf and an explicit -Confirm still apply).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Return the deleted triggers as they were.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            Enqueue(id, id);
        }
    }

    protected override void ProcessBatch(IReadOnlyList<int> batch)
    {
        var skipPrompt = Force && !WhatIfRequested && !MyInvocation.BoundParameters.ContainsKey("Confirm");
        var approved = ConfirmEach(batch, id => id, _ => "Delete", skipPrompt);
        WriteIsolatingRefusals(approved, Store.DeleteAsync, id => id, (_, result) => Report(result, PassThru, "deleted"));
    }
}

using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>Changes only the fields given, and sets updated_at.</summary>
[Cmdlet(VerbsCommon.Set, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class SetWorkflowTriggerCommand : TriggerIdCmdletBase<TriggerChange>
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? Name { get; set; }

    private TriggerWriter? _writer;
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

    private TriggerWriter Writer => _writer ??= new TriggerWriter(Database);

    protected override void ProcessRecord()
    {
        string? config;
        try
        {
            config = ConfigConverter.ToJson(Config);
        }
        catch (ArgumentException ex)
        {
            WriteError(EngineErrors.Violation(new RuleViolation("Config", Config, "InvalidConfig", ex.Message)));
            return;
        }

        var setDescription = _descriptionGiven;
        var anyChange = Name is not null || WorkflowId is not null || Source is not null || EventType is not null || config is not null || setDescription;
        if (!anyChange)
        {
            WriteError(EngineErrors.Violation(new RuleViolation("Name", null, "NothingToChange", "Give at least one of -Name, -Description, -WorkflowId, -Source, -EventType or -Config.")));
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
                    WriteError(EngineErrors.Violation(violation));
                }

                continue;
            }

            Enqueue(change, id);
        }
    }

    protected override void ProcessBatch(IReadOnlyList<TriggerChange> batch)
    {
        var approved = ConfirmEach(batch, c => c.Id, c => "Update " + string.Join(", ", c.Fields));
        WriteIsolatingRefusals(approved, Writer.UpdateAsync, c => c.Id, (_, result) => Report(result, PassThru, "updated"));
    }
}

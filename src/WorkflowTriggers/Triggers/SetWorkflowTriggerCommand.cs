using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Changes the fields the user named, and on piped triggers the fields whose values differ from the row; sets
/// updated_at. A piped trigger whose row changed after it was read is refused unless -Force.
/// </summary>
[Cmdlet(VerbsCommon.Set, "WorkflowTrigger", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(WorkflowTrigger))]
public sealed class SetWorkflowTriggerCommand : TriggerIdCmdletBase<PipedTrigger>
{
    private static readonly TriggerField[] Settable =
    {
        TriggerField.Name, TriggerField.Description, TriggerField.WorkflowId, TriggerField.Source, TriggerField.EventType, TriggerField.Config,
    };

    // The values named on the command line: written to every trigger, whatever it holds.
    private readonly Dictionary<TriggerField, string?> _named = new();
    private TriggerWriter? _writer;

    [Parameter]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(TriggerNameCompleter))]
    public string? Name { get; set; }

    /// <summary>The new description; an empty string clears it.</summary>
    [Parameter]
    [AllowEmptyString]
    [AllowNull]
    public string? Description { get; set; }

    [Parameter]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(WorkflowIdCompleter))]
    public string? WorkflowId { get; set; }

    [Parameter]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(SourceCompleter))]
    public string? Source { get; set; }

    [Parameter]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(EventTypeCompleter))]
    public string? EventType { get; set; }

    /// <summary>A hashtable, an ordered dictionary, a PSCustomObject or JSON text of an object; replaces the whole config.</summary>
    [Parameter]
    public object? Config { get; set; }

    /// <summary>With -WorkflowId: clear the target node, which belongs to the old workflow.</summary>
    [Parameter]
    public SwitchParameter ClearTargetNode { get; set; }

    /// <summary>
    /// Write even to a piped trigger whose row changed after it was read (the piped values win), and keep a target
    /// node that is not a node of the new workflow.
    /// </summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private TriggerWriter Writer => _writer ??= new TriggerWriter(Database);

    private protected override string NodeAdvice => "Use -ClearTargetNode to move it without its node, or -Force to keep the node anyway.";

    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        var bound = MyInvocation.BoundParameters;
        if (bound.ContainsKey(nameof(Name))) _named[TriggerField.Name] = Name;
        if (bound.ContainsKey(nameof(Description))) _named[TriggerField.Description] = string.IsNullOrEmpty(Description) ? null : Description;
        if (bound.ContainsKey(nameof(WorkflowId))) _named[TriggerField.WorkflowId] = WorkflowId;
        if (bound.ContainsKey(nameof(Source))) _named[TriggerField.Source] = Source;
        if (bound.ContainsKey(nameof(EventType))) _named[TriggerField.EventType] = EventType;
        if (bound.ContainsKey(nameof(Config)))
        {
            try
            {
                _named[TriggerField.Config] = ConfigConverter.ToJson(Config) ?? "{}";
            }
            catch (ArgumentException ex)
            {
                ThrowTerminatingError(EngineErrors.Violation(new RuleViolation("Config", Config, "InvalidConfig", ex.Message)));
            }
        }
    }

    private protected override void Accept(PipedTrigger trigger)
    {
        // A plain id carries no values: only the command line can say what to change.
        if (_named.Count == 0 && !ClearTargetNode && !trigger.IsTriggerObject && !Settable.Any(f => trigger.Has(f.ToString())))
        {
            WriteError(EngineErrors.Violation(
                new RuleViolation("Name", trigger.Id, "NothingToChange", "Give at least one of -Name, -Description, -WorkflowId, -Source, -EventType or -Config, or pipe triggers whose values you changed.")));
            return;
        }

        Enqueue(trigger, trigger.Id);
    }

    protected override void ProcessBatch(IReadOnlyList<PipedTrigger> batch)
    {
        var changes = new Dictionary<int, TriggerChange>();
        var approved = ConfirmEach(batch, t => t, (trigger, current) =>
        {
            var fields = Settable.Where(f => _named.ContainsKey(f) || trigger.Differs(f, current)).ToList();
            if (ClearTargetNode && current.TargetNodeId is not null)
            {
                fields.Add(TriggerField.TargetNodeId);
            }

            if (fields.Count == 0)
            {
                WriteVerbose($"{current.Key}: nothing to change.");
                if (PassThru)
                {
                    WriteObject(WorkflowTrigger.From(current));
                }

                return null;
            }

            var change = ChangeOf(trigger, fields);
            var violations = TriggerRules.CheckChange(change);
            foreach (var violation in violations)
            {
                WriteError(EngineErrors.Violation(violation));
            }

            if (violations.Count > 0)
            {
                return null;
            }

            changes[trigger.Id] = change;
            return "Update " + string.Join(", ", fields);
        }, Force);
        WriteIsolatingRefusals(approved.Select(a => changes[a.Item.Id]).ToArray(), (items, ct) => Writer.UpdateAsync(items, Force, ct), c => c.Id, (_, result) => Report(result, PassThru, "updated"));
    }

    // Only the given fields are sent: a named value, else the piped one; every other field stays as the row has it.
    private TriggerChange ChangeOf(PipedTrigger trigger, IReadOnlyCollection<TriggerField> fields)
    {
        string? Value(TriggerField field) =>
            !fields.Contains(field) ? null
            : _named.TryGetValue(field, out var named) ? named
            : field == TriggerField.Config ? trigger.ConfigJson()
            : trigger.Text(field.ToString());

        var description = Value(TriggerField.Description);
        return new TriggerChange(
            trigger.Id,
            Versioned(trigger, Force).Version,
            Name: Value(TriggerField.Name),
            WorkflowId: Value(TriggerField.WorkflowId),
            Source: Value(TriggerField.Source),
            EventType: Value(TriggerField.EventType),
            ConfigJson: Value(TriggerField.Config),
            SetDescription: fields.Contains(TriggerField.Description),
            Description: string.IsNullOrEmpty(description) ? null : description,
            ClearTargetNode: fields.Contains(TriggerField.TargetNodeId));
    }
}

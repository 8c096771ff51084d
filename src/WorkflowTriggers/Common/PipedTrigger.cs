using System.Globalization;
using System.Management.Automation;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>
/// What came down the pipeline into a cmdlet that acts on triggers, and whether it may be acted on:
/// <list type="bullet">
/// <item>a trigger object: a live <see cref="WorkflowTrigger"/>, or one deserialized (Import-Clixml, a job, a
/// remote session, Import-Csv of an Export-Csv -IncludeTypeInformation);</item>
/// <item>a record: a PSCustomObject (a CSV or JSON row, [pscustomobject]@{...}) with an Id, whose type names name no
/// other type (Select-Object over processes makes 'Selected.System.Diagnostics.Process': not a trigger);</item>
/// <item>a plain id: a whole number, or text of digits.</item>
/// </list>
/// Anything else is not a trigger, whatever properties it has: a process's Id is not a trigger id.
/// Public only because cmdlet classes batch it; scripts have no use for it.
/// </summary>
public sealed class PipedTrigger
{
    private const string TriggerTypeName = "WorkflowTriggers.WorkflowTrigger";

    private readonly PSObject? _object;

    private PipedTrigger(int id, long? rowVersion, PSObject? source, bool isTriggerObject)
    {
        Id = id;
        RowVersion = rowVersion;
        _object = source;
        IsTriggerObject = isTriggerObject;
    }

    internal int Id { get; }

    /// <summary>The version the trigger object was read at; null for records without one and for plain ids.</summary>
    internal long? RowVersion { get; }

    /// <summary>True for a trigger object (all of its properties are the trigger's), false for a record or an id.</summary>
    internal bool IsTriggerObject { get; }

    /// <summary>The trigger (or null, with the reason) that <paramref name="input"/> stands for.</summary>
    internal static PipedTrigger? From(object? input, out string? notATrigger)
    {
        notATrigger = null;
        var item = input is null ? null : PSObject.AsPSObject(input);
        var value = item?.BaseObject;
        switch (value)
        {
            case null:
                notATrigger = "nothing (null) is not a trigger";
                return null;
            case WorkflowTrigger live:
                return new PipedTrigger(live.Id, live.RowVersion, item, isTriggerObject: true);
            case IDescribesTrigger described when described.DescribedTriggerId is { } describedId:
                // A route, an execution count, an import result: the trigger by its id only. Its other properties
                // describe something else (a file's entry, say), so none of them is read as a value to write.
                return new PipedTrigger(describedId, null, null, isTriggerObject: false);
            case byte or sbyte or short or ushort or int or uint or long or ulong:
                return IdFrom(Convert.ToDecimal(value, CultureInfo.InvariantCulture), input!, out notATrigger);
            case string text when text.Trim().Length > 0 && text.Trim().All(char.IsAsciiDigit):
                return IdFrom(decimal.Parse(text.Trim(), CultureInfo.InvariantCulture), input!, out notATrigger);
            case PSCustomObject:
                var typeName = item!.TypeNames.FirstOrDefault() ?? string.Empty;
                // Select-Object over records (or over triggers) keeps them records.
                var namesTrigger = typeName.EndsWith(TriggerTypeName, StringComparison.Ordinal);
                var namesRecord = typeName == "Selected.System.Management.Automation.PSCustomObject";
                var namesOther = !namesTrigger && !namesRecord && (typeName.StartsWith("Selected.", StringComparison.Ordinal)
                    || typeName.StartsWith("Deserialized.", StringComparison.Ordinal) || typeName.StartsWith("CSV:", StringComparison.Ordinal));
                if (namesOther)
                {
                    notATrigger = $"a {typeName} is not a trigger";
                    return null;
                }

                if (item.Properties["Id"]?.Value is not { } idValue || !TryId(idValue, out var id))
                {
                    notATrigger = "a record without a positive whole-number Id is not a trigger";
                    return null;
                }

                var version = item.Properties["RowVersion"]?.Value is { } v && long.TryParse(Convert.ToString(v, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
                    ? parsed
                    : (long?)null;
                return new PipedTrigger(id, version, item, isTriggerObject: namesTrigger);
            default:
                notATrigger = $"a {value.GetType().FullName} is not a trigger";
                return null;
        }
    }

    /// <summary>Whether the piped object carries a value for the trigger property <paramref name="name"/>.</summary>
    internal bool Has(string name) => _object?.Properties[name] is not null;

    /// <summary>The piped object's value of a trigger property (null when it has none).</summary>
    internal object? Value(string name) => _object?.Properties[name]?.Value is { } value ? (value is PSObject ps && ps.BaseObject is not PSCustomObject ? ps.BaseObject : value) : null;

    /// <summary>The piped object's value of a text property.</summary>
    internal string? Text(string name) => Value(name) is { } value ? Convert.ToString(value, CultureInfo.InvariantCulture) : null;

    /// <summary>
    /// The piped trigger's config as JSON: its ConfigJson as read unless its Config was assigned or changed since.
    /// Only a trigger object or a record that carries a Config has one.
    /// </summary>
    internal string? ConfigJson()
    {
        if (_object?.BaseObject is WorkflowTrigger live)
        {
            return live.CurrentConfigJson();
        }

        return Has("Config") ? ConfigConverter.ToJson(Value("Config")) : null;
    }

    /// <summary>
    /// Whether the piped object carries a value for <paramref name="field"/> that differs from the row as it is now.
    /// Text compares exactly (a name as stored: trimmed; an empty text as none), config as jsonb compares it.
    /// </summary>
    internal bool Differs(TriggerField field, TriggerRecord current)
    {
        var name = field.ToString();
        if (_object is null || !Has(name))
        {
            return false;
        }

        return field switch
        {
            TriggerField.Name => !string.Equals(Text(name)?.Trim(), current.Name, StringComparison.Ordinal),
            TriggerField.Description => !string.Equals(NoneIfEmpty(Text(name)), current.Description, StringComparison.Ordinal),
            TriggerField.WorkflowId => !string.Equals(Text(name), current.WorkflowId, StringComparison.Ordinal),
            TriggerField.Source => !string.Equals(Text(name), current.Source, StringComparison.Ordinal),
            TriggerField.EventType => !string.Equals(Text(name), current.EventType, StringComparison.Ordinal),
            TriggerField.TargetNodeId => !string.Equals(NoneIfEmpty(Text(name)), current.TargetNodeId, StringComparison.Ordinal),
            TriggerField.IsActive => LanguagePrimitives.IsTrue(Value(name)) != current.IsActive,
            TriggerField.Config => !ConfigConverter.JsonEquals(ConfigJson(), current.ConfigJson),
            _ => false,
        };
    }

    /// <summary>The fields whose piped values the row no longer holds: what changed since the object was read, as far as it shows.</summary>
    internal IReadOnlyList<TriggerField> DifferingFields(TriggerRecord current) =>
        Enum.GetValues<TriggerField>().Where(f => Differs(f, current)).ToArray();

    private static string? NoneIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private static PipedTrigger? IdFrom(decimal number, object input, out string? notATrigger)
    {
        notATrigger = null;
        if (number is >= 1 and <= int.MaxValue)
        {
            return new PipedTrigger((int)number, null, null, isTriggerObject: false);
        }

        notATrigger = $"{input} is not a trigger id (a whole number from 1 to {int.MaxValue})";
        return null;
    }

    private static bool TryId(object value, out int id)
    {
        var text = Convert.ToString(value is PSObject ps ? ps.BaseObject : value, CultureInfo.InvariantCulture);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id >= 1;
    }

    /// <summary>The error for an object that is not a trigger; nothing is written for it.</summary>
    internal static ErrorRecord NotATriggerError(object? input, string reason) => new(
        new ArgumentException($"{char.ToUpperInvariant(reason[0])}{reason[1..]}: pipe triggers (from Get-WorkflowTrigger), records with an Id, or trigger ids. Nothing was done for it."),
        "NotATrigger",
        ErrorCategory.InvalidArgument,
        input);
}

using System.Text.Json;
using System.Text.RegularExpressions;

namespace WorkflowTriggers.Engine.Triggers;

/// <summary>One broken rule: which field, the value given, and the rule in words.</summary>
public sealed record RuleViolation(string Field, object? Value, string ErrorId, string Message);

/// <summary>
/// The document's validation rules (database CHECK constraints and the application-level validators),
/// checked before anything is sent so that bad input is refused with a clear message and nothing is written.
/// This is the only place these patterns and limits are written down: the schema's CHECK constraints are made from
/// the same constants (<see cref="Schema.SchemaSteps.CheckConstraints"/>).
/// </summary>
public static partial class TriggerRules
{
    public const int MaxLength = 255;
    public const int MinNameLength = 3;

    // Each pattern without its end anchor: the document (and the server) end it in '$', which in .NET also matches
    // before a final newline; PostgreSQL's does not. .NET gets '\z', the server's meaning, so nothing passes here
    // that a CHECK constraint would refuse.
    private const string SourceBody = "^[a-z][a-z0-9-]*[a-z0-9]";
    private const string EventTypeBody = "^[a-z][a-z0-9_]*";
    private const string TargetNodeBody = "^[a-zA-Z0-9_-]+";

    /// <summary>The document's patterns, as the server's regular expressions (and the CHECK constraints) write them.</summary>
    public const string SourcePattern = SourceBody + "$";
    public const string EventTypePattern = EventTypeBody + "$";
    public const string TargetNodePattern = TargetNodeBody + "$";

    [GeneratedRegex(SourceBody + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex SourceRegex();

    [GeneratedRegex(EventTypeBody + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex EventTypeRegex();

    [GeneratedRegex(TargetNodeBody + @"\z", RegexOptions.CultureInvariant)]
    private static partial Regex TargetNodeRegex();

    /// <summary>The name as stored: trimmed, as the document's validate_name returns it.</summary>
    public static string NormalizeName(string name) => name.Trim();

    public static RuleViolation? CheckName(string? name)
    {
        if (CheckText("Name", name, "InvalidTriggerName") is { } invalidText)
        {
            return invalidText;
        }

        var length = Characters(name?.Trim());
        return length is < MinNameLength or > MaxLength
            ? new RuleViolation("Name", name, "InvalidTriggerName", $"Name must be {MinNameLength} to {MaxLength} characters after trimming spaces; '{name}' has {length}.")
            : null;
    }

    public static RuleViolation? CheckWorkflowId(string? workflowId)
    {
        if (CheckText("WorkflowId", workflowId, "InvalidWorkflowId") is { } invalidText)
        {
            return invalidText;
        }

        if (string.IsNullOrWhiteSpace(workflowId))
        {
            return new RuleViolation("WorkflowId", workflowId, "InvalidWorkflowId", "WorkflowId must not be empty or blank.");
        }

        return Characters(workflowId) > MaxLength
            ? new RuleViolation("WorkflowId", workflowId, "InvalidWorkflowId", $"WorkflowId must be at most {MaxLength} characters; it has {Characters(workflowId)}.")
            : null;
    }

    public static RuleViolation? CheckSource(string? source) =>
        CheckPattern("Source", source, SourceRegex(), SourcePattern, "InvalidSource", "lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen");

    public static RuleViolation? CheckEventType(string? eventType) =>
        CheckPattern("EventType", eventType, EventTypeRegex(), EventTypePattern, "InvalidEventType", "lower-case letters, digits and underscores, starting with a letter");

    /// <summary>Null means "no target node", which is allowed.</summary>
    public static RuleViolation? CheckTargetNodeId(string? nodeId) =>
        nodeId is null
            ? null
            : CheckPattern("TargetNodeId", nodeId, TargetNodeRegex(), TargetNodePattern, "InvalidTargetNodeId", "letters, digits, underscores and hyphens");

    /// <summary>A description is free text; it only has to be text the database can store.</summary>
    public static RuleViolation? CheckDescription(string? description) => CheckText("Description", description, "InvalidDescription");

    /// <summary>
    /// A write's reason: text PostgreSQL can store, at most <see cref="History.ChangeHistory.MaxReasonLength"/>
    /// characters (the recording function cuts longer ones from other clients, so one statement cannot bloat history).
    /// </summary>
    public static RuleViolation? CheckReason(string? reason) =>
        reason is { Length: > History.ChangeHistory.MaxReasonLength }
            ? new RuleViolation("Reason", reason, "InvalidReason", $"Reason is {reason.Length:N0} characters long; change history keeps at most {History.ChangeHistory.MaxReasonLength:N0}.")
            : CheckText("Reason", reason, "InvalidReason");

    /// <summary>Config must be a JSON object; null means the column default ({}).</summary>
    public static RuleViolation? CheckConfig(string? configJson)
    {
        if (configJson is null)
        {
            return null;
        }

        if (CheckText("Config", configJson, "InvalidConfig") is { } invalidText)
        {
            return invalidText;
        }

        try
        {
            using var document = JsonDocument.Parse(configJson, new JsonDocumentOptions { MaxDepth = MaxConfigDepth });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new RuleViolation("Config", configJson, "InvalidConfig", $"Config must be a JSON object ({{...}}); the value given is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
            }

            return HasInvalidText(document.RootElement)
                ? new RuleViolation("Config", configJson, "InvalidConfig", "Config holds a \\u escape of a NUL character (\\u0000) or of a lone surrogate; PostgreSQL's jsonb refuses both.")
                : null;
        }
        catch (JsonException ex)
        {
            return new RuleViolation("Config", configJson, "InvalidConfig", $"Config must be a JSON object; the text given is not valid JSON ({ex.Message}).");
        }
    }

    /// <summary>How deeply config may nest: deeper than any real config, well inside what the server accepts.</summary>
    public const int MaxConfigDepth = 512;

    /// <summary>
    /// Text must be valid Unicode to be sent: a lone UTF-16 surrogate (half of a pair) cannot be encoded as UTF-8,
    /// and would fail the whole batch at the driver instead of this one item here.
    /// </summary>
    private static RuleViolation? CheckText(string field, string? value, string errorId)
    {
        if (value is null || IsValidText(value))
        {
            return null;
        }

        var at = value.Select((c, i) => (c, i)).First(p => p.c == '\0' || (char.IsSurrogate(p.c) && !IsPaired(value, p.i)));
        return at.c == '\0'
            ? new RuleViolation(field, value, errorId, $"{field} holds a NUL character (U+0000) at position {at.i + 1}, which PostgreSQL cannot store in text.")
            : new RuleViolation(field, value, errorId, $"{field} is not valid Unicode text: it has half of a surrogate pair (U+{(int)at.c:X4}) at position {at.i + 1}.");
    }

    private static bool IsPaired(string value, int i) =>
        char.IsHighSurrogate(value[i]) ? i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]) : i > 0 && char.IsHighSurrogate(value[i - 1]);

    private static bool HasInvalidText(JsonElement element)
    {
        try
        {
            return element.ValueKind switch
            {
                JsonValueKind.Object => element.EnumerateObject().Any(p => !IsValidText(p.Name) || HasInvalidText(p.Value)),
                JsonValueKind.Array => element.EnumerateArray().Any(HasInvalidText),
                JsonValueKind.String => !IsValidText(element.GetString()),
                _ => false,
            };
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to unescape a lone surrogate.
            return true;
        }
    }

    /// <summary>Every rule a new trigger must meet, first violation per field.</summary>
    public static IReadOnlyList<RuleViolation> CheckNew(NewTrigger trigger) =>
        new[]
        {
            CheckName(trigger.Name),
            CheckWorkflowId(trigger.WorkflowId),
            CheckSource(trigger.Source),
            CheckEventType(trigger.EventType),
            CheckTargetNodeId(trigger.TargetNodeId),
            CheckDescription(trigger.Description),
            CheckConfig(trigger.ConfigJson),
        }.OfType<RuleViolation>().ToArray();

    /// <summary>The rules for the fields a change sets; fields left null are not being changed.</summary>
    public static IReadOnlyList<RuleViolation> CheckChange(TriggerChange change) =>
        new[]
        {
            change.Name is null ? null : CheckName(change.Name),
            change.WorkflowId is null ? null : CheckWorkflowId(change.WorkflowId),
            change.Source is null ? null : CheckSource(change.Source),
            change.EventType is null ? null : CheckEventType(change.EventType),
            change.ConfigJson is null ? null : CheckConfig(change.ConfigJson),
            change.SetDescription ? CheckDescription(change.Description) : null,
        }.OfType<RuleViolation>().ToArray();

    private static RuleViolation? CheckPattern(string field, string? value, Regex regex, string pattern, string errorId, string words)
    {
        if (CheckText(field, value, errorId) is { } invalidText)
        {
            return invalidText;
        }

        if (string.IsNullOrEmpty(value))
        {
            return new RuleViolation(field, value, errorId, $"{field} must not be empty; it must match {pattern} ({words}).");
        }

        if (Characters(value) > MaxLength)
        {
            return new RuleViolation(field, value, errorId, $"{field} must be at most {MaxLength} characters; it has {Characters(value)}.");
        }

        return regex.IsMatch(value)
            ? null
            : new RuleViolation(field, value, errorId, $"{field} '{value}' does not match {pattern} ({words}).");
    }

    /// <summary>
    /// False for text PostgreSQL cannot take: not valid UTF-16 (a lone surrogate, which cannot be sent as UTF-8), or
    /// holding a NUL character, which text and jsonb cannot store.
    /// </summary>
    public static bool IsValidText(string? value)
    {
        if (value is null)
        {
            return true;
        }

        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]) || value[i] == '\0')
            {
                return false;
            }
        }

        return true;
    }

    // varchar(n) counts characters (code points), not UTF-16 units.
    private static int Characters(string? value) => value?.EnumerateRunes().Count() ?? 0;
}

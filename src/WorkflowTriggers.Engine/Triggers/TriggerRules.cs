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
        var length = Characters(name?.Trim());
        return length is < MinNameLength or > MaxLength
            ? new RuleViolation("Name", name, "InvalidTriggerName", $"Name must be {MinNameLength} to {MaxLength} characters after trimming spaces; '{name}' has {length}.")
            : null;
    }

    public static RuleViolation? CheckWorkflowId(string? workflowId)
    {
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

    /// <summary>Config must be a JSON object; null means the column default ({}).</summary>
    public static RuleViolation? CheckConfig(string? configJson)
    {
        if (configJson is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(configJson);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? null
                : new RuleViolation("Config", configJson, "InvalidConfig", $"Config must be a JSON object ({{...}}); the value given is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
        }
        catch (JsonException ex)
        {
            return new RuleViolation("Config", configJson, "InvalidConfig", $"Config must be a JSON object; the text given is not valid JSON ({ex.Message}).");
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
        }.OfType<RuleViolation>().ToArray();

    private static RuleViolation? CheckPattern(string field, string? value, Regex regex, string pattern, string errorId, string words)
    {
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

    // varchar(n) counts characters (code points), not UTF-16 units.
    private static int Characters(string? value) => value?.EnumerateRunes().Count() ?? 0;
}

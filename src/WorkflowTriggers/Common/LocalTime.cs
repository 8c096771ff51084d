namespace WorkflowTriggers;

/// <summary>
/// Times a user sees are in the local time zone, with Kind Local: the console shows the clock on the wall, and
/// ConvertTo-Json writes the offset ("2026-11-29T10:37:00+01:00"). The server gives UTC; a time without a zone
/// (a column of type timestamp) is left as the server stored it.
/// </summary>
internal static class LocalTime
{
    public static DateTime Of(DateTime value) => value.Kind == DateTimeKind.Utc ? value.ToLocalTime() : value;

    public static DateTime? Of(DateTime? value) => value is { } v ? Of(v) : null;
}

using System.Text.Json;

namespace WorkflowTriggers.Engine.TriggersAsCode;

/// <summary>
/// Keys written twice in one JSON object. System.Text.Json keeps both; a file's reader must refuse them, since which
/// value was meant cannot be known (and JsonNode would fail on them later with a message about dictionaries).
/// </summary>
internal static class RepeatedKeys
{
    /// <summary>A key that appears twice in one object of the document's top level, or null.</summary>
    public static string? AtTop(JsonElement element)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return element.EnumerateObject().Select(p => p.Name).FirstOrDefault(name => !seen.Add(name));
    }

    /// <summary>The path (config.a.b) of the first key that appears twice in one object, at any depth, or null.</summary>
    public static string? AtAnyDepth(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    var here = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                    if (!seen.Add(property.Name))
                    {
                        return here;
                    }

                    if (AtAnyDepth(property.Value, here) is { } deeper)
                    {
                        return deeper;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var value in element.EnumerateArray())
                {
                    if (AtAnyDepth(value, $"{path}[{i++}]") is { } inItem)
                    {
                        return inItem;
                    }
                }

                return null;
            default:
                return null;
        }
    }
}

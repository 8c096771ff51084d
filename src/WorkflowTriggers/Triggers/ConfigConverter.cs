using System.Collections;
using System.Collections.Specialized;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;
using System.Text;
using System.Text.Json;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers;

/// <summary>
/// Config between PowerShell and JSON, losslessly: whatever jsonb stores comes back equal (jsonb equality) after a
/// round trip through PowerShell objects.
/// </summary>
/// <remarks>
/// Out: a JSON object is an ordered dictionary with case-sensitive keys ($t.Config.monitor_path reads and writes
/// through it, and keys that differ only by case stay apart, which a PSCustomObject cannot do); an array is an
/// object[]; a number is the first of long, BigInteger (whole numbers), decimal, double that holds it exactly, else
/// a <see cref="JsonNumber"/> that keeps its text. In: a hashtable, an ordered dictionary, a PSCustomObject, or JSON
/// text taken as it is.
/// </remarks>
internal static class ConfigConverter
{
    /// <summary>JSON text for a Config value; null when no value was given. Strings are taken as JSON text.</summary>
    public static string? ToJson(object? value)
    {
        var unwrapped = Unwrap(value);
        if (unwrapped is null)
        {
            return null;
        }

        if (unwrapped is string text)
        {
            // An empty cell (Import-Csv of an optional Config column) means no config, not broken JSON.
            return string.IsNullOrWhiteSpace(text) ? null : text;
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions
        {
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            MaxDepth = TriggerRules.MaxConfigDepth + 1,
        }))
        {
            Write(writer, value, "Config", 0);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static object? FromJson(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = TriggerRules.MaxConfigDepth + 1 });
        return Read(document.RootElement);
    }

    private static object? Unwrap(object? value) =>
        value is PSObject ps && ps.BaseObject is not PSCustomObject ? ps.BaseObject : value;

    private static void Write(Utf8JsonWriter writer, object? value, string path, int depth)
    {
        if (depth > TriggerRules.MaxConfigDepth)
        {
            throw new ArgumentException($"Config is nested deeper than {TriggerRules.MaxConfigDepth} levels (or refers to itself).");
        }

        switch (Unwrap(value))
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(Text(s, path));
                break;
            case char c:
                writer.WriteStringValue(Text(c.ToString(), path));
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case SwitchParameter sw:
                writer.WriteBooleanValue(sw.IsPresent);
                break;
            case byte or sbyte or short or ushort or int or uint or long:
                writer.WriteNumberValue(Convert.ToInt64(Unwrap(value), CultureInfo.InvariantCulture));
                break;
            case ulong ul:
                writer.WriteNumberValue(ul);
                break;
            case decimal m:
                writer.WriteNumberValue(m);
                break;
            case float f when float.IsFinite(f):
                writer.WriteNumberValue(f);
                break;
            case double d when double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case float or double:
                throw new ArgumentException($"{path} is {Unwrap(value)}, which JSON cannot hold.");
            case BigInteger big:
                writer.WriteRawValue(big.ToString(CultureInfo.InvariantCulture));
                break;
            case JsonNumber number:
                writer.WriteRawValue(number.Text);
                break;
            case DateTime dt:
                writer.WriteStringValue(dt.ToString("o", CultureInfo.InvariantCulture));
                break;
            case DateTimeOffset dto:
                writer.WriteStringValue(dto.ToString("o", CultureInfo.InvariantCulture));
                break;
            case Guid or Enum or Uri or TimeSpan:
                writer.WriteStringValue(Convert.ToString(Unwrap(value), CultureInfo.InvariantCulture));
                break;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    var key = Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty;
                    writer.WritePropertyName(Text(key, $"{path} key"));
                    Write(writer, entry.Value, $"{path}.{key}", depth + 1);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable sequence:
                writer.WriteStartArray();
                var index = 0;
                foreach (var item in sequence)
                {
                    Write(writer, item, $"{path}[{index++}]", depth + 1);
                }

                writer.WriteEndArray();
                break;
            default:
                // A PSCustomObject (from ConvertFrom-Json, Import-Csv, [pscustomobject]@{}) or any other object: its properties.
                writer.WriteStartObject();
                foreach (var property in PSObject.AsPSObject(value!).Properties)
                {
                    if (property.IsGettable && property.MemberType is PSMemberTypes.NoteProperty or PSMemberTypes.Property)
                    {
                        writer.WritePropertyName(Text(property.Name, $"{path} key"));
                        Write(writer, property.Value, $"{path}.{property.Name}", depth + 1);
                    }
                }

                writer.WriteEndObject();
                break;
        }
    }

    // The JSON writer would quietly put U+FFFD in place of half a surrogate pair: refuse instead of changing the text.
    private static string Text(string text, string path) =>
        TriggerRules.IsValidText(text) ? text : throw new ArgumentException($"{path} holds text PostgreSQL cannot store: half of a surrogate pair, or a NUL character.");

    private static object? Read(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var result = new TriggerConfig();
                foreach (var property in element.EnumerateObject())
                {
                    // A key given twice keeps its last value, as jsonb does.
                    result[property.Name] = Read(property.Value);
                }

                return result;
            case JsonValueKind.Array:
                return element.EnumerateArray().Select(Read).ToArray();
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                return Number(element.GetRawText());
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    /// <summary>
    /// True when two configs are equal as jsonb compares them: the same keys (case-sensitive, in any order), equal
    /// numbers whatever their spelling (1e2 and 100), equal text, arrays equal item by item.
    /// </summary>
    public static bool JsonEquals(string? left, string? right)
    {
        using var a = JsonDocument.Parse(string.IsNullOrWhiteSpace(left) ? "{}" : left, new JsonDocumentOptions { MaxDepth = TriggerRules.MaxConfigDepth + 1 });
        using var b = JsonDocument.Parse(string.IsNullOrWhiteSpace(right) ? "{}" : right, new JsonDocumentOptions { MaxDepth = TriggerRules.MaxConfigDepth + 1 });
        return Same(a.RootElement, b.RootElement);
    }

    private static bool Same(JsonElement a, JsonElement b)
    {
        switch (a.ValueKind)
        {
            case JsonValueKind.Object when b.ValueKind == JsonValueKind.Object:
                // A key given twice counts once, with its last value, as jsonb keeps it.
                var left = Members(a);
                var right = Members(b);
                return left.Count == right.Count && left.All(p => right.TryGetValue(p.Key, out var other) && Same(p.Value, other));
            case JsonValueKind.Array when b.ValueKind == JsonValueKind.Array:
                return a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(p => Same(p.First, p.Second));
            case JsonValueKind.Number when b.ValueKind == JsonValueKind.Number:
                return Canonical(a.GetRawText()) == Canonical(b.GetRawText());
            case JsonValueKind.String when b.ValueKind == JsonValueKind.String:
                return string.Equals(a.GetString(), b.GetString(), StringComparison.Ordinal);
            default:
                return a.ValueKind == b.ValueKind && a.ValueKind is JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null;
        }

        static Dictionary<string, JsonElement> Members(JsonElement element)
        {
            var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
            {
                members[property.Name] = property.Value;
            }

            return members;
        }
    }

    /// <summary>The first .NET number that holds the JSON number exactly, or the JSON text itself.</summary>
    internal static object Number(string raw)
    {
        var whole = raw.IndexOfAny(new[] { '.', 'e', 'E' }) < 0;
        if (whole)
        {
            // Not a conditional expression: its type would be BigInteger for both branches.
            if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var small))
            {
                return small;
            }

            return BigInteger.Parse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }

        var exact = Canonical(raw);
        if (decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) && Canonical(m.ToString(CultureInfo.InvariantCulture)) == exact)
        {
            return m;
        }

        if (double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && Canonical(d.ToString("R", CultureInfo.InvariantCulture)) == exact)
        {
            return d;
        }

        return new JsonNumber(raw);
    }

    /// <summary>A number's value as text that equal numbers share: sign, significant digits, exponent.</summary>
    private static (bool Negative, string Digits, long Exponent) Canonical(string number)
    {
        var text = number.Trim();
        var negative = text.StartsWith('-');
        text = text.TrimStart('-', '+');
        long exponent = 0;
        var e = text.IndexOfAny(new[] { 'e', 'E' });
        if (e >= 0)
        {
            exponent = long.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }

        var point = text.IndexOf('.');
        var integerPart = point < 0 ? text : text[..point];
        var digits = integerPart + (point < 0 ? string.Empty : text[(point + 1)..]);
        exponent += integerPart.Length;
        var leading = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        exponent -= leading;
        return digits.Length == 0 ? (false, "0", 0) : (negative, digits, exponent);
    }
}

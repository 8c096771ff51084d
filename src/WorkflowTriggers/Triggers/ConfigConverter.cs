using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace WorkflowTriggers;

/// <summary>
/// Config between PowerShell and JSON: a hashtable, a PSCustomObject or JSON text in; a PSCustomObject tree out,
/// so $trigger.Config.monitor_path works and nested objects, arrays, numbers, booleans, null and text round-trip.
/// </summary>
internal static class ConfigConverter
{
    private const int MaxDepth = 64;

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
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, value, 0);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static object? FromJson(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return Read(document.RootElement);
    }

    private static object? Unwrap(object? value) =>
        value is PSObject ps && ps.BaseObject is not PSCustomObject ? ps.BaseObject : value;

    private static void Write(Utf8JsonWriter writer, object? value, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ArgumentException($"Config is nested deeper than {MaxDepth} levels (or refers to itself).");
        }

        switch (Unwrap(value))
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case char c:
                writer.WriteStringValue(c.ToString());
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
            case float f:
                writer.WriteNumberValue(f);
                break;
            case double d:
                writer.WriteNumberValue(d);
                break;
            case BigInteger big:
                writer.WriteRawValue(big.ToString(CultureInfo.InvariantCulture));
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
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? string.Empty);
                    Write(writer, entry.Value, depth + 1);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable sequence:
                writer.WriteStartArray();
                foreach (var item in sequence)
                {
                    Write(writer, item, depth + 1);
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
                        writer.WritePropertyName(property.Name);
                        Write(writer, property.Value, depth + 1);
                    }
                }

                writer.WriteEndObject();
                break;
        }
    }

    private static object? Read(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var result = new PSObject();
                foreach (var property in element.EnumerateObject())
                {
                    result.Properties.Add(new PSNoteProperty(property.Name, Read(property.Value)));
                }

                return result;
            case JsonValueKind.Array:
                return element.EnumerateArray().Select(Read).ToArray();
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                if (element.TryGetInt64(out var whole))
                {
                    return whole;
                }

                var raw = element.GetRawText();
                // decimal keeps every written digit (0.1 stays 0.1); exponents and huge values fall back to double.
                return raw.IndexOfAny(new[] { 'e', 'E' }) < 0 && element.TryGetDecimal(out var exact) ? exact : element.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }
}

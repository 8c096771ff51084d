using System.Collections;
using System.Management.Automation;
using System.Text.Json;

namespace WorkflowTriggers.Tests;

/// <summary>Config between PowerShell objects and JSON, without a database or a pwsh process.</summary>
public class ConfigConverterTests
{
    private static readonly JsonDocumentOptions Deep = new() { MaxDepth = 1000 };

    private static bool SameJson(string expected, string? actual) =>
        JsonElement.DeepEquals(JsonDocument.Parse(expected, Deep).RootElement, JsonDocument.Parse(actual!, Deep).RootElement);

    [Fact]
    public void Nothing_and_an_empty_cell_mean_no_config()
    {
        Assert.Null(ConfigConverter.ToJson(null));
        Assert.Null(ConfigConverter.ToJson(""));
        Assert.Null(ConfigConverter.ToJson("   "));
    }

    [Fact]
    public void Text_is_taken_as_json_as_it_is()
    {
        const string text = """{"filename_pattern": "^invoice_.*\\.pdf$", "min_size_kb": 10}""";
        Assert.Equal(text, ConfigConverter.ToJson(text));
        Assert.Equal(text, ConfigConverter.ToJson(new PSObject(text)));
    }

    [Fact]
    public void A_hashtable_with_nested_values_becomes_the_same_json_object()
    {
        var config = new Hashtable
        {
            ["monitor_path"] = "/data/inbox",
            ["recursive"] = true,
            ["file_extensions"] = new object[] { ".pdf", ".PDF" },
            ["min_size_kb"] = 10,
            ["ratio"] = 0.25,
            ["nested"] = new Hashtable { ["none"] = null, ["emoji"] = "Grüße 😀" },
            ["switch"] = new SwitchParameter(true),
        };
        var json = ConfigConverter.ToJson(config);
        Assert.True(SameJson("""
            {"monitor_path": "/data/inbox", "recursive": true, "file_extensions": [".pdf", ".PDF"], "min_size_kb": 10, "ratio": 0.25,
             "nested": {"none": null, "emoji": "Grüße 😀"}, "switch": true}
            """, json), json);
    }

    [Fact]
    public void A_pscustomobject_gives_its_note_properties_in_order()
    {
        var item = new PSObject();
        item.Properties.Add(new PSNoteProperty("b", 1));
        item.Properties.Add(new PSNoteProperty("a", "x"));
        Assert.Equal("""{"b":1,"a":"x"}""", ConfigConverter.ToJson(item));
    }

    [Fact]
    public void Json_comes_back_as_an_ordered_dictionary_to_dot_into_and_goes_out_again_unchanged()
    {
        const string json = """{"path": "/in", "deep": {"list": [1, 2.5, "three", null, true]}, "count": 9007199254740993}""";
        var read = (IDictionary)ConfigConverter.FromJson(json)!;
        Assert.Equal("/in", read["path"]);
        var deep = (IDictionary)read["deep"]!;
        Assert.Equal(new object?[] { 1L, 2.5m, "three", null, true }, (object?[])deep["list"]!);
        Assert.Equal(9007199254740993L, read["count"]);
        Assert.Equal(new[] { "path", "deep", "count" }, read.Keys.Cast<string>());
        Assert.True(SameJson(json, ConfigConverter.ToJson(read)));
    }

    [Theory]
    [InlineData("""{"big": 123456789012345678901234567890}""")]
    [InlineData("""{"long_decimal": 3.14159265358979323846264338327950288419716939937510}""")]
    [InlineData("""{"tiny": 1e-30, "tinier": 1e-400, "huge": 1e400, "negative": -2.5E+300}""")]
    [InlineData("""{"A": 2, "a": 1}""")]
    [InlineData("""{"zero": 0.0, "minus_zero": -0, "money": 10.10, "exact": 0.1}""")]
    [InlineData("""{"unicode": "Grüße 😀 \u00e9", "escaped": "tab\tquote\"", "empty": {}, "list": []}""")]
    public void Every_value_jsonb_stores_comes_back_equal(string json)
    {
        var written = ConfigConverter.ToJson(ConfigConverter.FromJson(json));
        Assert.True(SameNumbers(json, written!), written);
    }

    [Fact]
    public void Keys_that_differ_only_by_case_are_two_keys()
    {
        var read = (IDictionary)ConfigConverter.FromJson("""{"A": 2, "a": 1}""")!;
        Assert.Equal(2, read.Count);
        Assert.Equal(2L, read["A"]);
        Assert.Equal(1L, read["a"]);
    }

    [Fact]
    public void Deep_nesting_round_trips()
    {
        var json = string.Concat(Enumerable.Repeat("{\"n\": ", 200)) + "1" + new string('}', 200);
        Assert.True(SameJson(json, ConfigConverter.ToJson(ConfigConverter.FromJson(json))));
    }

    [Fact]
    public void Half_a_surrogate_pair_is_refused_not_replaced()
    {
        var config = new Hashtable { ["path"] = "/in" + '\ud83d' };
        Assert.Contains("half of a surrogate pair", Assert.Throws<ArgumentException>(() => ConfigConverter.ToJson(config)).Message);
    }

    // Numbers compared by value, as jsonb compares them (1e2 equals 100); everything else exactly.
    private static bool SameNumbers(string expected, string actual) => Same(JsonDocument.Parse(expected).RootElement, JsonDocument.Parse(actual).RootElement);

    private static bool Same(JsonElement a, JsonElement b) => (a.ValueKind, b.ValueKind) switch
    {
        (JsonValueKind.Object, JsonValueKind.Object) =>
            a.EnumerateObject().Count() == b.EnumerateObject().Count()
            && a.EnumerateObject().All(p => b.TryGetProperty(p.Name, out var other) && Same(p.Value, other)),
        (JsonValueKind.Array, JsonValueKind.Array) =>
            a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(p => Same(p.First, p.Second)),
        (JsonValueKind.Number, JsonValueKind.Number) => NumericText(a.GetRawText()) == NumericText(b.GetRawText()),
        _ => JsonElement.DeepEquals(a, b),
    };

    private static string NumericText(string raw) =>
        ConfigConverter.Number(raw) switch
        {
            JsonNumber n => "text " + n.Text,
            var exact => Convert.ToString(exact, System.Globalization.CultureInfo.InvariantCulture)!,
        };

    [Fact]
    public void A_config_that_refers_to_itself_is_refused_by_depth()
    {
        var loop = new Hashtable();
        loop["self"] = loop;
        var error = Assert.Throws<ArgumentException>(() => ConfigConverter.ToJson(loop));
        Assert.Contains("deeper than", error.Message);
    }
}

using System.Collections;
using System.Management.Automation;
using System.Text.Json;

namespace WorkflowTriggers.Tests;

/// <summary>Config between PowerShell objects and JSON, without a database or a pwsh process.</summary>
public class ConfigConverterTests
{
    private static bool SameJson(string expected, string? actual) =>
        JsonElement.DeepEquals(JsonDocument.Parse(expected).RootElement, JsonDocument.Parse(actual!).RootElement);

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
    public void Json_comes_back_as_objects_to_dot_into_and_goes_out_again_unchanged()
    {
        const string json = """{"path": "/in", "deep": {"list": [1, 2.5, "three", null, true]}, "count": 9007199254740993}""";
        var read = (PSObject)ConfigConverter.FromJson(json)!;
        Assert.Equal("/in", read.Properties["path"].Value);
        var deep = (PSObject)read.Properties["deep"].Value;
        Assert.Equal(new object?[] { 1L, 2.5m, "three", null, true }, (object?[])deep.Properties["list"].Value);
        Assert.Equal(9007199254740993L, read.Properties["count"].Value);
        Assert.True(SameJson(json, ConfigConverter.ToJson(read)));
    }

    [Fact]
    public void A_config_that_refers_to_itself_is_refused_by_depth()
    {
        var loop = new Hashtable();
        loop["self"] = loop;
        var error = Assert.Throws<ArgumentException>(() => ConfigConverter.ToJson(loop));
        Assert.Contains("deeper than", error.Message);
    }
}

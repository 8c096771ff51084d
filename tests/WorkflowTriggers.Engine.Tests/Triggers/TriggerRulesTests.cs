using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Tests;

public class TriggerRulesTests
{
    [Theory]
    [InlineData("pdf-monitor-event-source", true)]
    [InlineData("a1", true)]
    [InlineData("Pdf-source", false)]
    [InlineData("pdf-source-", false)]
    [InlineData("1pdf", false)]
    [InlineData("pdf_source", false)]
    [InlineData("pdf-source\n", false)]
    [InlineData("", false)]
    public void Source_follows_the_documents_pattern(string source, bool valid) =>
        Assert.Equal(valid, TriggerRules.CheckSource(source) is null);

    [Theory]
    [InlineData("pdf_file_added", true)]
    [InlineData("cron_trigger", true)]
    [InlineData("Pdf_added", false)]
    [InlineData("pdf-added", false)]
    [InlineData("_pdf", false)]
    [InlineData("pdf\n", false)]
    public void EventType_follows_the_documents_pattern(string eventType, bool valid) =>
        Assert.Equal(valid, TriggerRules.CheckEventType(eventType) is null);

    [Theory]
    [InlineData("pdf_input_validator", true)]
    [InlineData("Node-7", true)]
    [InlineData("node 7", false)]
    [InlineData("node.7", false)]
    [InlineData("", false)]
    public void TargetNode_follows_the_documents_pattern(string node, bool valid) =>
        Assert.Equal(valid, TriggerRules.CheckTargetNodeId(node) is null);

    [Fact]
    public void Name_is_counted_after_trimming_and_in_characters()
    {
        Assert.NotNull(TriggerRules.CheckName("  ab  "));
        Assert.Null(TriggerRules.CheckName("  abc  "));
        Assert.NotNull(TriggerRules.CheckName(new string('x', 256)));
        // 255 characters that are 510 UTF-16 units: varchar(255) takes them, so must the rule.
        Assert.Null(TriggerRules.CheckName(string.Concat(Enumerable.Repeat("😀", 255))));
        Assert.Equal("abc", TriggerRules.NormalizeName("  abc "));
    }

    [Theory]
    [InlineData("{}", true)]
    [InlineData("{\"a\": [1, {\"b\": null}]}", true)]
    [InlineData("[1,2]", false)]
    [InlineData("42", false)]
    [InlineData("\"text\"", false)]
    [InlineData("{not json", false)]
    public void Config_must_be_a_json_object(string json, bool valid)
    {
        var violation = TriggerRules.CheckConfig(json);
        Assert.Equal(valid, violation is null);
        if (violation is not null)
        {
            Assert.Equal("Config", violation.Field);
            Assert.Equal("InvalidConfig", violation.ErrorId);
        }
    }

    [Fact]
    public void A_violation_names_field_rule_and_value()
    {
        var violation = TriggerRules.CheckSource("Bad_Source")!;
        Assert.Equal("Source", violation.Field);
        Assert.Equal("InvalidSource", violation.ErrorId);
        Assert.Equal("Bad_Source", violation.Value);
        Assert.Contains(TriggerRules.SourcePattern, violation.Message);
        Assert.Contains("Bad_Source", violation.Message);
    }

    [Fact]
    public void A_change_checks_only_the_fields_it_sets()
    {
        Assert.Empty(TriggerRules.CheckChange(new TriggerChange(1, Description: null)));
        Assert.Single(TriggerRules.CheckChange(new TriggerChange(1, EventType: "Bad")));
    }

    [Fact]
    public void Wildcards_become_anchored_regexes_with_every_character_escaped()
    {
        Assert.Equal("^[\\u0049\\u0069][\\u006e\\u004e].*$", WildcardTranslator.ToRegex("In*", out _));
        Assert.Equal("^[\\u0061\\u0041]\\u002e[\\u0062\\u0042].$", WildcardTranslator.ToRegex("a.b?", out _));
        Assert.Equal("^[\\u0061\\u0041\\u005e]\\u002a$", WildcardTranslator.ToRegex("[a^]`*", out _));
        Assert.Equal("^[\\u0061-\\u0063]1$", WildcardTranslator.ToRegex("[a-c]1", out _));
        Assert.Equal("^\\U0001f600$", WildcardTranslator.ToRegex("\U0001F600", out _));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[z-a]*")]
    [InlineData("[ab")]
    [InlineData("abc", '\ud83d')]
    public void An_invalid_wildcard_gives_no_regex_and_a_reason(string pattern, char? loneSurrogate = null)
    {
        Assert.Null(WildcardTranslator.ToRegex(pattern + loneSurrogate, out var reason));
        Assert.False(string.IsNullOrEmpty(reason));
    }
}

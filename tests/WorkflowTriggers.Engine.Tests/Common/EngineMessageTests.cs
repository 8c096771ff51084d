using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>The engine reports facts; naming a cmdlet or a parameter is the cmdlet layer's to do (see the README).</summary>
public partial class EngineMessageTests
{
    [GeneratedRegex(@"\b(?:Get|Set|New|Remove|Install|Invoke|Test|Enable|Disable|Export|Import|Compare|Connect|Disconnect)-[A-Z]\w*")]
    private static partial Regex CmdletName();

    [GeneratedRegex(@"(?<![\w-])-[A-Z][a-z]+[A-Za-z]*\b")]
    private static partial Regex ParameterName();

    [Fact]
    public void No_string_of_the_engine_names_a_cmdlet_or_a_parameter()
    {
        using var stream = File.OpenRead(typeof(TriggerRules).Assembly.Location);
        using var image = new PEReader(stream);
        var metadata = image.GetMetadataReader();
        var offending = new List<string>();
        var handle = MetadataTokens.UserStringHandle(1);
        var count = 0;
        while (!handle.IsNil)
        {
            var text = metadata.GetUserString(handle);
            count++;
            if (CmdletName().IsMatch(text) || ParameterName().IsMatch(text))
            {
                offending.Add(text);
            }

            handle = metadata.GetNextHandle(handle);
        }

        Assert.True(count > 100, $"only {count} strings read: the scan is not reading the engine's literals");
        Assert.Empty(offending);
    }
}

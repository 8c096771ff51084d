using System.Text;

namespace WorkflowTriggers.Engine;

/// <summary>
/// Turns a PowerShell wildcard (* ? [a-z] and backtick escapes) into an anchored PostgreSQL regular expression,
/// sent as a parameter and matched case-insensitively with ~*, as PowerShell matches names.
/// </summary>
public static class WildcardTranslator
{
    private const string RegexSpecials = @"\.^$|()[]{}*+?";

    public static string ToRegex(string wildcard)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < wildcard.Length; i++)
        {
            var c = wildcard[i];
            switch (c)
            {
                case '`' when i + 1 < wildcard.Length:
                    AppendLiteral(regex, wildcard[++i]);
                    break;
                case '*':
                    regex.Append(".*");
                    break;
                case '?':
                    regex.Append('.');
                    break;
                case '[':
                    var close = wildcard.IndexOf(']', i + 1);
                    if (close < 0)
                    {
                        AppendLiteral(regex, c);
                        break;
                    }

                    regex.Append('[');
                    foreach (var member in wildcard[(i + 1)..close])
                    {
                        if (member == '\\')
                        {
                            regex.Append(@"\\");
                        }
                        else
                        {
                            regex.Append(member);
                        }
                    }

                    regex.Append(']');
                    i = close;
                    break;
                default:
                    AppendLiteral(regex, c);
                    break;
            }
        }

        return regex.Append('$').ToString();
    }

    private static void AppendLiteral(StringBuilder regex, char c)
    {
        if (RegexSpecials.Contains(c))
        {
            regex.Append('\\');
        }

        regex.Append(c);
    }
}

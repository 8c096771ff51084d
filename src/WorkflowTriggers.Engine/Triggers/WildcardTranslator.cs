using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace WorkflowTriggers.Engine.Triggers;

/// <summary>
/// Turns a PowerShell wildcard into an anchored PostgreSQL regular expression, sent as a parameter and matched
/// case-insensitively with ~*, so that a name filter means exactly what PowerShell's -like means.
/// </summary>
/// <remarks>
/// PowerShell's grammar: '*' any run, '?' any one character, a backtick escapes the next character (a trailing one is
/// itself), '[' opens a set of characters and ranges that the first unescaped ']' after its first character closes;
/// an unescaped '-' between two members makes a range, which must not run backwards. There is no negation: '^' and
/// '!' are members like any other. An unclosed set or a backwards range makes the pattern invalid. Every character
/// that is not a digit is written as a \u escape, so nothing in a name can mean something to the server, and a
/// letter as a set of its cases.
/// </remarks>
public static partial class WildcardTranslator
{
    /// <summary>True when <paramref name="value"/> has an unescaped *, ? or [, as PowerShell's WildcardPattern.ContainsWildcardCharacters says.</summary>
    public static bool HasWildcards(string value)
    {
        var escaped = false;
        foreach (var c in value)
        {
            if (escaped)
            {
                escaped = false;
            }
            else if (c == '`')
            {
                escaped = true;
            }
            else if (c is '*' or '?' or '[')
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A value without wildcards as the text it stands for: each backtick escape replaced by the character it escapes.</summary>
    public static string Unescape(string value)
    {
        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            text.Append(value[i] == '`' && i + 1 < value.Length ? value[++i] : value[i]);
        }

        return text.ToString();
    }

    /// <summary>The regular expression for <paramref name="wildcard"/>; null, with the reason, when the pattern is not valid.</summary>
    public static string? ToRegex(string wildcard, out string? invalidReason)
    {
        invalidReason = TriggerRules.IsValidText(wildcard) ? null : "it holds text PostgreSQL cannot take (a lone surrogate or a NUL character)";
        if (invalidReason is not null)
        {
            return null;
        }

        var regex = new StringBuilder("^");
        var escaped = false;
        List<(char Character, bool Operator)>? set = null;
        var setJustOpened = false;
        foreach (var c in wildcard)
        {
            if (set is not null)
            {
                if (c == ']' && !setJustOpened && !escaped)
                {
                    if (!AppendSet(regex, set))
                    {
                        invalidReason = "a range in [...] runs backwards";
                        return null;
                    }

                    set = null;
                }
                else if (c != '`' || escaped)
                {
                    set.Add((c, c == '-' && !escaped));
                }

                setJustOpened = false;
            }
            else if (c == '*' && !escaped)
            {
                regex.Append(".*");
            }
            else if (c == '?' && !escaped)
            {
                regex.Append('.');
            }
            else if (c == '[' && !escaped)
            {
                set = new List<(char, bool)>();
                setJustOpened = true;
            }
            else if (c != '`' || escaped)
            {
                AppendLiteral(regex, c);
            }

            escaped = c == '`' && !escaped;
        }

        if (set is not null)
        {
            invalidReason = "a [ is never closed by ]";
            return null;
        }

        // A trailing backtick stands for itself, except that the pattern '`' alone matches the empty name.
        if (escaped && wildcard != "`")
        {
            AppendLiteral(regex, '`');
        }

        // A character outside the Basic Multilingual Plane is one code point to the server: one escape for the pair.
        return SurrogatePair().Replace(regex.Append('$').ToString(), m =>
            "\\U" + char.ConvertToUtf32((char)Convert.ToInt32(m.Groups[1].Value, 16), (char)Convert.ToInt32(m.Groups[2].Value, 16)).ToString("x8", CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})")]
    private static partial Regex SurrogatePair();

    private static bool AppendSet(StringBuilder regex, List<(char Character, bool Operator)> members)
    {
        var body = new StringBuilder();
        var i = 0;
        while (i < members.Count)
        {
            if (i + 2 < members.Count && members[i + 1].Operator)
            {
                var (low, high) = (members[i].Character, members[i + 2].Character);
                if (low > high)
                {
                    return false;
                }

                body.Append(Escape(low)).Append('-').Append(Escape(high));
                i += 3;
            }
            else
            {
                foreach (var form in CaseForms(members[i].Character))
                {
                    body.Append(Escape(form));
                }

                i++;
            }
        }

        // An empty set cannot be written: '[]' never closes, so it is invalid above.
        regex.Append('[').Append(body).Append(']');
        return true;
    }

    private static void AppendLiteral(StringBuilder regex, char c)
    {
        var forms = CaseForms(c);
        if (forms.Length > 1)
        {
            regex.Append('[').Append(string.Concat(forms.Select(Escape))).Append(']');
        }
        else
        {
            regex.Append(char.IsAsciiDigit(c) ? c.ToString() : Escape(c));
        }
    }

    // A letter in both cases, by .NET's rules as -like uses them: the server's own case folding depends on its
    // locale (a C-locale database folds ASCII only), so a literal letter never relies on it.
    private static char[] CaseForms(char c) =>
        new[] { c, char.ToLowerInvariant(c), char.ToUpperInvariant(c) }.Distinct().ToArray();

    private static string Escape(char c) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture);
}

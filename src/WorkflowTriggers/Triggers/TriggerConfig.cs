using System.Collections.Specialized;

namespace WorkflowTriggers;

/// <summary>
/// A trigger's config as PowerShell sees it: an ordered dictionary with case-sensitive keys ($t.Config.monitor_path),
/// whose text form is its compact JSON, so Export-Csv writes a column that Import-Csv | New-WorkflowTrigger reads back.
/// </summary>
public sealed class TriggerConfig : OrderedDictionary
{
    public TriggerConfig()
        : base(StringComparer.Ordinal)
    {
    }

    public override string ToString() => ConfigConverter.ToJson(this) ?? "{}";
}

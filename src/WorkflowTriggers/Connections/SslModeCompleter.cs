using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers.Completers;

/// <summary>The SSL modes Npgsql accepts.</summary>
public sealed class SslModeCompleter : WordCompleter
{
    protected override IEnumerable<string> Words => ConnectionSettings.SslModeNames;
}

using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Completers;

/// <summary>The schema versions this module knows.</summary>
public sealed class SchemaVersionCompleter : WordCompleter
{
    protected override IEnumerable<string> Words => SchemaSteps.Versions.Select(v => v.Version);
}

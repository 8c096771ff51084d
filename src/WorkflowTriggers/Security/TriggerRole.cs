using WorkflowTriggers.Engine.Security;

namespace WorkflowTriggers;

/// <summary>One role of the least-privilege setup (Install-TriggerRole) and the privileges it was given.</summary>
public sealed class TriggerRole
{
    public string Database { get; init; } = string.Empty;
    public string Role { get; init; } = string.Empty;

    /// <summary>Reader, Operator or HistoryAdmin.</summary>
    public string Kind { get; init; } = string.Empty;

    /// <summary>True when the role was (or, under -WhatIf, would be) created by this run.</summary>
    public bool Created { get; init; }

    /// <summary>False under -WhatIf or when not confirmed: the plan, nothing written.</summary>
    public bool Applied { get; init; }
    public string[] Grants { get; init; } = Array.Empty<string>();

    /// <summary>Privileges the role should have that this user may not pass on (an engine table it does not own).</summary>
    public string[] NotGranted { get; init; } = Array.Empty<string>();

    internal static TriggerRole From(TriggerRoleGrant grant, string database, bool applied) => new()
    {
        Database = database,
        Role = grant.Role,
        Kind = grant.Kind.ToString(),
        Created = grant.Created,
        Applied = applied,
        Grants = grant.Grants.ToArray(),
        NotGranted = grant.NotGranted.ToArray(),
    };
}

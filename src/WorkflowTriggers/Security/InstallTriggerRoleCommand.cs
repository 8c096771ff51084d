using System.Management.Automation;
using WorkflowTriggers.Engine.Security;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Sets up least privilege: the group roles &lt;prefix&gt;_reader, &lt;prefix&gt;_operator and
/// &lt;prefix&gt;_history_admin with exactly the grants each needs on the module's and the engine's tables, so no
/// user needs CREATE on the schema, to own a table, or to be a superuser for daily work. Grant a role to a user with
/// GRANT workflow_triggers_operator TO app_user. Idempotent; run it after Install-TriggerSchema, as the owner of
/// workflow_triggers or a superuser (creating roles takes CREATEROLE).
/// </summary>
[Cmdlet(VerbsLifecycle.Install, "TriggerRole", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TriggerRole))]
public sealed class InstallTriggerRoleCommand : TriggerCmdletBase
{
    /// <summary>The start of the roles' names (lower-case letters, digits and underscores).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Prefix { get; set; } = TriggerRoles.DefaultPrefix;

    protected override void EndProcessing()
    {
        if (TriggerRoles.CheckPrefix(Prefix) is { } bad)
        {
            ThrowTerminatingError(EngineErrors.Violation(bad, target: Prefix));
        }

        RequireWritable();
        var roles = new TriggerRoles(Database);
        var plan = Await(ct => roles.InstallAsync(Prefix, apply: false, ct));
        var approved = plan.Where(r => ShouldProcess(r.Role, $"{(r.Created ? "Create the role and grant" : "Grant")} {string.Join("; ", r.Grants)}")).Select(r => r.Role).ToHashSet();
        if (WhatIfRequested || approved.Count < plan.Count)
        {
            // All or nothing: the roles lean on each other (operator and history admin are members of reader).
            WriteObject(plan.Select(r => TriggerRole.From(r, Database.ToString(), applied: false)), enumerateCollection: true);
            return;
        }

        foreach (var role in Await(ct => roles.InstallAsync(Prefix, apply: true, ct)))
        {
            foreach (var missing in role.NotGranted)
            {
                WriteWarning($"{role.Role}: not granted {missing}: this user may not pass that privilege on. Ask the object's owner to grant it.");
            }

            WriteObject(TriggerRole.From(role, Database.ToString(), applied: true));
        }
    }
}

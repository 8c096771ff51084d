using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.History;
using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Schema;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Security;

/// <summary>The roles the module's least-privilege setup makes, each a group role (NOLOGIN) that users are granted.</summary>
public enum TriggerRoleKind
{
    /// <summary>Reads triggers, their history, health, metrics and the engine's tables.</summary>
    Reader,

    /// <summary>The reader's rights, and writes triggers, runs backfills and imports.</summary>
    Operator,

    /// <summary>The reader's rights, and clears change history.</summary>
    HistoryAdmin,
}

/// <summary>What the setup did, or would do, for one role: the privileges it holds on each object.</summary>
public sealed record TriggerRoleGrant(string Role, TriggerRoleKind Kind, bool Created, IReadOnlyList<string> Grants, IReadOnlyList<string> NotGranted);

/// <summary>
/// Least privilege as code: three group roles with exactly the grants each kind of user needs, so nobody needs CREATE
/// on the schema, ownership of a table, or a superuser to run the module day to day. Run by the owner of
/// workflow_triggers (or a superuser) after Install-TriggerSchema, and again after change history is turned on
/// (turning it on grants on history's tables to the roles that exist). Idempotent: GRANT of what is held is a no-op.
/// </summary>
public sealed class TriggerRoles
{
    public const string DefaultPrefix = "workflow_triggers";

    /// <summary>A prefix makes role names that need no quoting and leave room for the longest suffix in 63 bytes.</summary>
    public const string PrefixPattern = "^[a-z_][a-z0-9_]{0,40}$";

    private static readonly Regex PrefixRegex = new(PrefixPattern, RegexOptions.CultureInvariant);

    // Engine tables the module reads; granted only where this user may pass the privilege on.
    private static readonly string[] EngineTables = { "workflows", "workflow_nodes", "workflow_connections", "execution_logs" };

    private const string RoleSql = """
        SELECT rolname AS Name, rolsuper AS Superuser, rolcreaterole AS CreateRole, rolcreatedb AS CreateDb, rolreplication AS Replication,
               rolbypassrls AS BypassRls, rolcanlogin AS CanLogin
        FROM pg_roles WHERE rolname = @Name
        """;

    private readonly TriggerConnection _connection;

    public TriggerRoles(TriggerConnection connection) => _connection = connection;

    public static string NameOf(string prefix, TriggerRoleKind kind) => prefix + kind switch
    {
        TriggerRoleKind.Reader => "_reader",
        TriggerRoleKind.Operator => "_operator",
        _ => "_history_admin",
    };

    public static RuleViolation? CheckPrefix(string? prefix) =>
        prefix is not null && PrefixRegex.IsMatch(prefix)
            ? null
            : new RuleViolation("Prefix", prefix, "InvalidRolePrefix", $"A role prefix must match {PrefixPattern} (lower-case letters, digits and underscores, at most 41 characters).");

    /// <summary>
    /// Creates the roles where missing and grants each its privileges on the objects that exist now, in one
    /// transaction; with <paramref name="apply"/> false nothing is written and the result is the plan.
    /// </summary>
    public Task<IReadOnlyList<TriggerRoleGrant>> InstallAsync(string prefix, bool apply, CancellationToken cancellationToken)
    {
        if (CheckPrefix(prefix) is { } bad)
        {
            throw new TriggerEngineException(TriggerErrorKind.InvalidArgument, bad.Message) { ErrorId = bad.ErrorId };
        }

        return _connection.ForWrites.InTransactionAsync(
            async (c, t) =>
            {
                await c.ExecuteAsync(new CommandDefinition($"SELECT pg_advisory_xact_lock({LockKeys.Schema})", transaction: t, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
                var home = await ModuleObjects.ReadAsync(c, _connection.ToString(), cancellationToken, t).ConfigureAwait(false);
                return await GrantAsync(c, t, home, prefix, createRoles: true, apply, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken,
            lockTimeout: TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// Grants each role of <paramref name="prefix"/> its privileges on what exists. Without <paramref name="createRoles"/>
    /// only roles that exist get them (what turning change history on does for its new tables).
    /// </summary>
    internal static async Task<IReadOnlyList<TriggerRoleGrant>> GrantAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, ModuleHome home, string prefix, bool createRoles, bool apply, CancellationToken cancellationToken)
    {
        // A role's name as the server quotes it: the only text of a caller's that reaches these statements.
        Task<string> QuoteAsync(string name) =>
            connection.ExecuteScalarAsync<string>(new CommandDefinition("SELECT quote_ident(@Name)", new { Name = name }, transaction, cancellationToken: cancellationToken))!;

        var objects = await ObjectsAsync(connection, transaction, home, cancellationToken).ConfigureAwait(false);
        var results = new List<TriggerRoleGrant>();
        foreach (var kind in Enum.GetValues<TriggerRoleKind>())
        {
            var name = NameOf(prefix, kind);
            var existing = await connection.QueryFirstOrDefaultAsync<RoleFacts>(new CommandDefinition(RoleSql, new { Name = name }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (existing is null && !createRoles)
            {
                continue;
            }

            if (existing is { } role && role.Attributes() is { Count: > 0 } attributes)
            {
                throw new TriggerEngineException(
                    TriggerErrorKind.Untrusted,
                    $"The role {name} exists with {string.Join(", ", attributes)}: the module's roles are group roles without attributes, so its privileges are not given to it. Nothing was changed.")
                {
                    ErrorId = ModuleObjects.ForeignObjectError,
                    TableName = name,
                    ObjectOwner = name,
                };
            }

            var quoted = await QuoteAsync(name).ConfigureAwait(false);
            var statements = new List<string>();
            if (existing is null)
            {
                statements.Add($"CREATE ROLE {quoted} NOLOGIN");
            }

            if (kind != TriggerRoleKind.Reader)
            {
                statements.Add($"GRANT {await QuoteAsync(NameOf(prefix, TriggerRoleKind.Reader)).ConfigureAwait(false)} TO {quoted}");
            }

            var grants = new List<string>();
            var notGranted = new List<string>();
            foreach (var (objectKind, target, privileges) in PrivilegesOf(kind, home, objects))
            {
                var what = $"{string.Join(", ", privileges)} ON {objectKind} {target}";
                if (!await MayGrantAsync(connection, transaction, objectKind, target, privileges, cancellationToken).ConfigureAwait(false))
                {
                    notGranted.Add(what);
                    continue;
                }

                grants.Add(what);
                statements.Add($"GRANT {what} TO {quoted}");
            }

            if (apply)
            {
                // Names are the server's own quoting of catalog names and of a prefix checked against PrefixPattern.
                await connection.ExecuteAsync(new CommandDefinition(string.Join(";\n", statements), transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }

            results.Add(new TriggerRoleGrant(name, kind, existing is null, grants, notGranted));
        }

        return results;
    }

    // Each kind's privileges: (object kind as GRANT names it, the object, privileges).
    private static IEnumerable<(string Kind, string Target, string[] Privileges)> PrivilegesOf(TriggerRoleKind kind, ModuleHome home, Objects objects)
    {
        bool Has(string name) => objects.Tables.Contains(name);
        (string, string, string[]) Table(string name, string privileges) => ("TABLE", home.Qualify(name), privileges.Split(", "));
        switch (kind)
        {
            case TriggerRoleKind.Reader:
                yield return ("SCHEMA", home.QuotedSchema, new[] { "USAGE" });
                foreach (var name in new[] { "workflow_triggers", SchemaSteps.HistoryTable, Lease.Table, ChangeHistory.Table, ChangeHistory.SettingsTable }.Concat(SchemaSteps.Views).Where(Has))
                {
                    yield return Table(name, "SELECT");
                }

                foreach (var engine in objects.EngineTables)
                {
                    yield return ("TABLE", engine, new[] { "SELECT" });
                }

                break;
            case TriggerRoleKind.Operator:
                yield return Table("workflow_triggers", "INSERT, UPDATE, DELETE");
                if (objects.Sequence is { } sequence)
                {
                    yield return ("SEQUENCE", sequence, "USAGE, SELECT".Split(", "));
                }

                if (Has(Lease.Table))
                {
                    yield return Table(Lease.Table, "INSERT, UPDATE, DELETE");
                }

                if (Has(TriggerBackfill.NodesTable))
                {
                    yield return Table(TriggerBackfill.NodesTable, "SELECT, INSERT, DELETE");
                }

                break;
            default:
                if (Has(ChangeHistory.Table) && Has(ChangeHistory.SettingsTable))
                {
                    yield return Table(ChangeHistory.Table, "DELETE");
                    // Only the clean-up's cut: the version and retention are the history owner's to set.
                    yield return Table(ChangeHistory.SettingsTable, "UPDATE (cleared_before)");
                }

                break;
        }
    }

    // Whether this user may pass every one of the privileges on (an owner always may).
    private static async Task<bool> MayGrantAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string kind, string target, string[] privileges, CancellationToken cancellationToken)
    {
        var check = kind switch
        {
            "SCHEMA" => "has_schema_privilege(@Target, p || ' WITH GRANT OPTION')",
            "SEQUENCE" => "has_sequence_privilege(@Target, p || ' WITH GRANT OPTION')",
            _ => "has_table_privilege(@Target, p || ' WITH GRANT OPTION')",
        };
        // The schema function takes a name, not a quoted identifier.
        var name = kind == "SCHEMA" ? await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "SELECT nspname::text FROM pg_namespace WHERE quote_ident(nspname) = @Target", new { Target = target }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false) : target;
        // A column privilege ("UPDATE (cleared_before)") is passed on with its table privilege's grant option.
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"SELECT bool_and({check}) FROM unnest(@Privileges::text[]) p", new { Target = name, Privileges = privileges.Select(p => p.Split(' ')[0]).ToArray() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    private sealed record Objects(IReadOnlySet<string> Tables, IReadOnlyList<string> EngineTables, string? Sequence);

    private static async Task<Objects> ObjectsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ModuleHome home, CancellationToken cancellationToken)
    {
        var names = new[] { "workflow_triggers", SchemaSteps.HistoryTable, Lease.Table, TriggerBackfill.NodesTable, ChangeHistory.Table, ChangeHistory.SettingsTable }.Concat(SchemaSteps.Views).ToArray();
        var present = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = @Schema AND c.relname = ANY(@Names)",
                new { home.Schema, Names = names },
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false))
            .ToHashSet();
        // The engine's tables are where the connection's search_path finds them, as every cmdlet reads them.
        var engine = (await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT format('%I.%I', n.nspname, c.relname) FROM unnest(@Names::text[]) t(name) JOIN pg_class c ON c.oid = to_regclass(t.name) JOIN pg_namespace n ON n.oid = c.relnamespace",
                new { Names = EngineTables },
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var sequence = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT pg_get_serial_sequence(@Table, 'id')", new { Table = home.Qualify("workflow_triggers") }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new Objects(present, engine, sequence);
    }

    private sealed class RoleFacts
    {
        public string Name { get; init; } = string.Empty;
        public bool Superuser { get; init; }
        public bool CreateRole { get; init; }
        public bool CreateDb { get; init; }
        public bool Replication { get; init; }
        public bool BypassRls { get; init; }
        public bool CanLogin { get; init; }

        public List<string> Attributes() => new (bool Set, string Name)[]
            {
                (Superuser, "SUPERUSER"), (CreateRole, "CREATEROLE"), (CreateDb, "CREATEDB"), (Replication, "REPLICATION"), (BypassRls, "BYPASSRLS"), (CanLogin, "LOGIN"),
            }
            .Where(a => a.Set).Select(a => a.Name).ToList();
    }
}

using Dapper;
using Npgsql;

namespace WorkflowTriggers.Engine.Common;

/// <summary>
/// Where the module's own objects live: the schema of workflow_triggers (the one the connection's search_path finds),
/// with the table's owner and who is asking. Every object the module makes is named with <see cref="Qualify"/>, so a
/// table of the same name earlier on someone's search_path is never the one written.
/// </summary>
public sealed record ModuleHome(string Schema, string QuotedSchema, string TableOwner, string CurrentUser, bool IsSuperuser, bool MayActAsTableOwner)
{
    internal const string Sql = """
        SELECT n.nspname AS Schema, quote_ident(n.nspname) AS QuotedSchema, pg_get_userbyid(c.relowner) AS TableOwner,
               current_user::text AS CurrentUser, coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), false) AS IsSuperuser,
               pg_has_role(current_user, c.relowner, 'MEMBER') AS MayActAsTableOwner
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass('workflow_triggers')
        """;

    // Before workflow_triggers exists, its home is where an unqualified CREATE TABLE puts it: the current schema.
    private const string InstallSql = """
        SELECT coalesce(n.nspname, current_schema()) AS Schema, quote_ident(coalesce(n.nspname, current_schema())) AS QuotedSchema,
               coalesce(pg_get_userbyid(c.relowner), current_user::text) AS TableOwner, current_user::text AS CurrentUser,
               coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), false) AS IsSuperuser,
               coalesce(pg_has_role(current_user, c.relowner, 'MEMBER'), true) AS MayActAsTableOwner
        FROM (SELECT to_regclass('workflow_triggers') AS oid) w LEFT JOIN pg_class c ON c.oid = w.oid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
        """;

    /// <summary>The home of workflow_triggers, or where an install would create it (the current schema).</summary>
    internal static Task<ModuleHome> ReadForInstallAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken) =>
        connection.QuerySingleAsync<ModuleHome>(new CommandDefinition(InstallSql, transaction: transaction, cancellationToken: cancellationToken));

    /// <summary>The home of workflow_triggers as this connection sees it; null when there is no such table.</summary>
    internal static Task<ModuleHome?> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken) =>
        connection.QueryFirstOrDefaultAsync<ModuleHome>(new CommandDefinition(Sql, transaction: transaction, cancellationToken: cancellationToken))!;

    /// <summary>An object of the module, named in this schema. The schema's quoting is the server's own (quote_ident).</summary>
    public string Qualify(string name) => $"{QuotedSchema}.{name}";

    /// <summary>
    /// Roles whose tables the caller already trusts when writing to workflow_triggers: itself and the table's owner
    /// (whose triggers on workflow_triggers run as any writer). A superuser's object is trusted too: it could do
    /// anything anyway. Anyone else's table is refused: its triggers, rules or defaults would run as the caller.
    /// </summary>
    internal bool Trusts(string owner, bool ownerIsSuperuser) =>
        ownerIsSuperuser || owner == CurrentUser || owner == TableOwner;
}

/// <summary>One column of a module table, its type as the server's format_type prints it.</summary>
internal sealed record ModuleColumn(string Name, string Type, string Rest = "")
{
    public string Definition => $"{Name} {Type}{(Rest.Length == 0 ? string.Empty : " " + Rest)}";
}

/// <summary>
/// A table the module owns: its columns in order (its one description: the CREATE statement and the adoption check
/// are both made from it) and the triggers of its own it may carry. Created with CREATE TABLE (never IF NOT EXISTS,
/// which would keep a stranger's table of that name) after <see cref="ModuleObjects.InspectTableAsync"/> found none.
/// </summary>
internal sealed record ModuleTable(string Name, IReadOnlyList<ModuleColumn> Columns, bool Unlogged = false, int OlderColumnCount = 0)
{
    /// <summary>"name type" of each column, as <see cref="RelationFacts.Columns"/> lists them.</summary>
    public IReadOnlyList<string> Shape => Columns.Select(c => $"{c.Name} {c.Type}").ToArray();

    /// <summary>
    /// The shape an earlier version of the module made (its first <see cref="OlderColumnCount"/> columns): still the
    /// module's table, and given the later columns when next ensured.
    /// </summary>
    public IReadOnlyList<string>? OlderShape => OlderColumnCount == 0 ? null : Shape.Take(OlderColumnCount).ToArray();

    public string CreateSql(ModuleHome home) =>
        $"CREATE {(Unlogged ? "UNLOGGED " : string.Empty)}TABLE {home.Qualify(Name)} (\n    " + string.Join(",\n    ", Columns.Select(c => c.Definition)) + "\n)";

    /// <summary>The columns a table of <see cref="OlderShape"/> lacks, added.</summary>
    public string AddLaterColumnsSql(ModuleHome home) =>
        $"ALTER TABLE {home.Qualify(Name)} {string.Join(", ", Columns.Skip(OlderColumnCount).Select(c => "ADD COLUMN " + c.Definition))}";
}

/// <summary>What the server says of a relation with a module object's name in the module's schema.</summary>
internal sealed class RelationFacts
{
    public string Kind { get; init; } = string.Empty;
    public string Owner { get; init; } = string.Empty;
    public bool OwnerIsSuperuser { get; init; }
    public bool RowSecurity { get; init; }
    public string[] Columns { get; init; } = Array.Empty<string>();
    public string[] Triggers { get; init; } = Array.Empty<string>();
    public string[] Rules { get; init; } = Array.Empty<string>();
    public string[] Policies { get; init; } = Array.Empty<string>();
    public bool Persistent { get; init; }
}

/// <summary>
/// The adoption rule for the module's objects, after PostgreSQL's own for extensions (CVE-2022-2625): an object of
/// a module name that is already there is used only when it is exactly the module's: the expected kind, an owner the
/// caller trusts, the module's columns, and no triggers, rules or row security of anyone else's. Anything else stops
/// the work with <see cref="ForeignObjectError"/>, which names the object, its owner and what is wrong.
/// </summary>
internal static class ModuleObjects
{
    public const string ForeignObjectError = "ForeignObject";

    private const string RelationSql = """
        SELECT c.relkind::text AS Kind, pg_get_userbyid(c.relowner) AS Owner,
               coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.oid = c.relowner), false) AS OwnerIsSuperuser,
               c.relrowsecurity AS RowSecurity, c.relpersistence <> 'u' AS Persistent,
               array(SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS Columns,
               array(SELECT t.tgname::text FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal ORDER BY 1) AS Triggers,
               array(SELECT r.rulename::text FROM pg_rewrite r WHERE r.ev_class = c.oid ORDER BY 1) AS Rules,
               array(SELECT p.polname::text FROM pg_policy p WHERE p.polrelid = c.oid ORDER BY 1) AS Policies
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = @Schema AND c.relname = @Name
        """;

    /// <summary>The facts of the relation <paramref name="name"/> in the module's schema; null when there is none.</summary>
    public static Task<RelationFacts?> ReadRelationAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, ModuleHome home, string name, CancellationToken cancellationToken) =>
        connection.QueryFirstOrDefaultAsync<RelationFacts>(new CommandDefinition(RelationSql, new { home.Schema, Name = name }, transaction, cancellationToken: cancellationToken))!;

    /// <summary>
    /// What is wrong with <paramref name="facts"/> as the module's <paramref name="table"/>, in words; empty when it
    /// is exactly the module's. <paramref name="owners"/> decides whose ownership is acceptable. A table of the
    /// module's earlier shape (<see cref="ModuleTable.OlderShape"/>) also passes.
    /// </summary>
    public static List<string> Problems(RelationFacts facts, ModuleTable table, Func<RelationFacts, bool> owners)
    {
        var problems = new List<string>();
        if (facts.Kind != "r")
        {
            problems.Add($"it is not a plain table (relkind '{facts.Kind}')");
            return problems;
        }

        if (!owners(facts))
        {
            problems.Add($"it is owned by {facts.Owner}");
        }

        var expected = table.Shape;
        if (!facts.Columns.SequenceEqual(expected) && (table.OlderShape is not { } older || !facts.Columns.SequenceEqual(older)))
        {
            problems.Add($"its columns are ({string.Join(", ", facts.Columns)}), not the module's ({string.Join(", ", expected)})");
        }

        if (facts.Triggers.Length > 0)
        {
            problems.Add($"it has triggers ({string.Join(", ", facts.Triggers)}) the module never makes");
        }

        if (facts.Rules.Length > 0)
        {
            problems.Add($"it has rules ({string.Join(", ", facts.Rules)})");
        }

        if (facts.RowSecurity || facts.Policies.Length > 0)
        {
            problems.Add($"it has row security{(facts.Policies.Length > 0 ? $" (policies {string.Join(", ", facts.Policies)})" : string.Empty)}");
        }

        return problems;
    }

    /// <summary>The refusal for an object that is not exactly the module's: what it is, who owns it, what is wrong.</summary>
    public static TriggerEngineException Foreign(ModuleHome home, string kind, string name, string owner, IEnumerable<string> problems) =>
        new(TriggerErrorKind.Untrusted,
            $"The {kind} {home.Qualify(name)} (owner {owner}) has the name of one of this module's objects, but it is not exactly the module's: {string.Join("; ", problems)}. " +
            "It was left as it is, and nothing was changed.")
        {
            ErrorId = ForeignObjectError,
            TableName = home.Qualify(name),
            ObjectOwner = owner,
        };

    /// <summary>
    /// Creates <paramref name="table"/> in the module's schema where there is none, or checks that the one there is
    /// exactly the module's (owned by a role the caller trusts). Runs in <paramref name="transaction"/>, which should
    /// hold the schema lock so two first runs do not race. Returns true when it created the table.
    /// </summary>
    public static async Task<bool> EnsureTableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ModuleHome home, ModuleTable table, CancellationToken cancellationToken)
    {
        var facts = await ReadRelationAsync(connection, transaction, home, table.Name, cancellationToken).ConfigureAwait(false);
        if (facts is null)
        {
            await connection.ExecuteAsync(new CommandDefinition(table.CreateSql(home), transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            return true;
        }

        var problems = Problems(facts, table, f => home.Trusts(f.Owner, f.OwnerIsSuperuser));
        if (problems.Count > 0)
        {
            throw Foreign(home, "table", table.Name, facts.Owner, problems);
        }

        if (!facts.Columns.SequenceEqual(table.Shape))
        {
            await connection.ExecuteAsync(new CommandDefinition(table.AddLaterColumnsSql(home), transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>
    /// Outside a transaction: makes sure <paramref name="table"/> is there and the module's, creating it under the
    /// schema's transaction lock the first time. The check alone costs one catalog query.
    /// </summary>
    public static async Task<ModuleHome> EnsureTableAsync(NpgsqlConnection connection, ModuleTable table, string databaseDisplay, CancellationToken cancellationToken)
    {
        var home = await ReadAsync(connection, databaseDisplay, cancellationToken).ConfigureAwait(false);
        var facts = await ReadRelationAsync(connection, null, home, table.Name, cancellationToken).ConfigureAwait(false);
        if (facts is not null)
        {
            var problems = Problems(facts, table, f => home.Trusts(f.Owner, f.OwnerIsSuperuser));
            if (problems.Count > 0)
            {
                throw Foreign(home, "table", table.Name, facts.Owner, problems);
            }

            if (facts.Columns.SequenceEqual(table.Shape))
            {
                return home;
            }
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition($"SELECT pg_advisory_xact_lock({LockKeys.Schema})", transaction: transaction, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await EnsureTableAsync(connection, transaction, home, table, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return home;
    }

    /// <summary>The module's home, or MissingTable when workflow_triggers is not there.</summary>
    public static async Task<ModuleHome> ReadAsync(NpgsqlConnection connection, string databaseDisplay, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null) =>
        await ModuleHome.ReadAsync(connection, transaction, cancellationToken).ConfigureAwait(false)
        ?? throw TriggerEngineException.MissingTable("workflow_triggers", databaseDisplay);
}

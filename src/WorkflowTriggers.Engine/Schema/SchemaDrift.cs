using Dapper;
using Npgsql;

namespace WorkflowTriggers.Engine.Schema;

/// <summary>How a schema object differs from what its recorded version says it should be.</summary>
public enum DriftKind
{
    /// <summary>The version has it; the database does not.</summary>
    Missing,

    /// <summary>Both have it, defined differently (the document's Alembic migration makes the composite index plain, say).</summary>
    Different,

    /// <summary>The database has an index the schema does not name: reported, never repaired.</summary>
    Extra,
}

/// <summary>One object that differs from the schema version recorded for the table, and the SQL that would align it.</summary>
public sealed record SchemaDrift(string Object, DriftKind Kind, string? Expected, string? Actual, string Sql);

/// <summary>
/// Compares the table's indexes and CHECK constraints with those of its recorded version. What the version should
/// be is not guessed from text: the objects are created on an empty temporary copy of the table, inside a transaction
/// that is rolled back, and the server's own definitions of both are compared.
/// </summary>
internal static class SchemaDriftDetector
{
    private const string Copy = "wt_schema_expected";

    public static async Task<IReadOnlyList<SchemaDrift>> FindAsync(NpgsqlConnection connection, string currentVersion, CancellationToken cancellationToken)
    {
        var upTo = SchemaSteps.IndexOf(currentVersion);
        var indexes = SchemaSteps.Indexes.Where(i => SchemaSteps.IndexOf(i.Version) <= upTo).ToList();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        async Task Run(string sql) => await connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);

        await Run($"CREATE TEMP TABLE {Copy} (LIKE workflow_triggers) ON COMMIT DROP");
        foreach (var (_, name, definition) in indexes)
        {
            await Run($"CREATE INDEX {name} {definition.Replace("ON workflow_triggers", $"ON pg_temp.{Copy}", StringComparison.Ordinal)}");
        }

        foreach (var (name, check) in SchemaSteps.CheckConstraints)
        {
            await Run($"ALTER TABLE pg_temp.{Copy} ADD CONSTRAINT {name} CHECK ({check})");
        }

        const string indexesOf = """
            SELECT c.relname AS Name, pg_get_indexdef(i.indexrelid) AS Definition, i.indisprimary OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) AS BacksConstraint,
                   format('%I.%I', n.nspname, c.relname) AS QualifiedName
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE i.indrelid = @Table::regclass
            """;
        const string checksOf = """
            SELECT conname AS Name, pg_get_constraintdef(oid) AS Definition FROM pg_constraint WHERE conrelid = @Table::regclass AND contype = 'c'
            """;
        async Task<List<(string Name, string Definition, bool BacksConstraint, string QualifiedName)>> Indexes(string table) =>
            (await connection.QueryAsync<(string, string, bool, string)>(new CommandDefinition(indexesOf, new { Table = table }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        async Task<Dictionary<string, string>> Checks(string table) =>
            (await connection.QueryAsync<(string Name, string Definition)>(new CommandDefinition(checksOf, new { Table = table }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false))
                .ToDictionary(c => c.Name, c => c.Definition.Replace(" NOT VALID", string.Empty, StringComparison.Ordinal));

        var expectedIndexes = (await Indexes($"pg_temp.{Copy}").ConfigureAwait(false)).ToDictionary(i => i.Name, i => Signature(i.Definition));
        var actualIndexes = await Indexes("workflow_triggers").ConfigureAwait(false);
        var expectedChecks = await Checks($"pg_temp.{Copy}").ConfigureAwait(false);
        var actualChecks = await Checks("workflow_triggers").ConfigureAwait(false);
        await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);

        var drift = new List<SchemaDrift>();
        foreach (var (_, name, definition) in indexes)
        {
            var create = $"CREATE INDEX CONCURRENTLY {name} {definition};";
            var actual = actualIndexes.FirstOrDefault(a => a.Name == name);
            if (actual.Name is null)
            {
                drift.Add(new SchemaDrift(name, DriftKind.Missing, expectedIndexes[name], null, create));
            }
            else if (Signature(actual.Definition) != expectedIndexes[name])
            {
                drift.Add(new SchemaDrift(name, DriftKind.Different, expectedIndexes[name], Signature(actual.Definition), $"DROP INDEX CONCURRENTLY {actual.QualifiedName};\n{create}"));
            }
        }

        foreach (var extra in actualIndexes.Where(a => !a.BacksConstraint && !expectedIndexes.ContainsKey(a.Name)))
        {
            drift.Add(new SchemaDrift(extra.Name, DriftKind.Extra, null, Signature(extra.Definition), $"-- Not part of the schema; if nothing relies on it:\nDROP INDEX CONCURRENTLY {extra.QualifiedName};"));
        }

        foreach (var (name, check) in SchemaSteps.CheckConstraints)
        {
            var add = $"ALTER TABLE workflow_triggers ADD CONSTRAINT {name} CHECK ({check}) NOT VALID;";
            if (!actualChecks.TryGetValue(name, out var actual))
            {
                drift.Add(new SchemaDrift(name, DriftKind.Missing, expectedChecks[name], null, add));
            }
            else if (actual != expectedChecks[name])
            {
                drift.Add(new SchemaDrift(name, DriftKind.Different, expectedChecks[name], actual, $"ALTER TABLE workflow_triggers DROP CONSTRAINT {name};\n{add}"));
            }
        }

        return drift;
    }

    /// <summary>Runs the SQL that aligns one object, statement by statement, outside a transaction (CONCURRENTLY needs that).</summary>
    public static async Task RepairAsync(NpgsqlConnection connection, SchemaDrift drift, CancellationToken cancellationToken)
    {
        foreach (var statement in drift.Sql.Split('\n').Where(l => l.Length > 0 && !l.StartsWith("--", StringComparison.Ordinal)))
        {
            await connection.ExecuteAsync(new CommandDefinition(statement, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
    }

    // An index definition without its name and table: "CREATE INDEX USING btree (workflow_id) WHERE (is_active = true)".
    private static string Signature(string definition)
    {
        var on = definition.IndexOf(" ON ", StringComparison.Ordinal);
        var usingAt = definition.IndexOf(" USING ", StringComparison.Ordinal);
        var head = definition[..definition.IndexOf(" INDEX ", StringComparison.Ordinal)] + " INDEX";
        return on > 0 && usingAt > on ? head + definition[usingAt..] : definition;
    }
}

using System.Diagnostics;
using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Orphans;

namespace WorkflowTriggers.Engine.Schema;

/// <summary>
/// Installs, upgrades and downgrades the schema. Each step runs in its own transaction together with its history row,
/// under a transaction-scoped advisory lock per schema, and the plan is recomputed under that lock before each step,
/// so running it twice, or twice at once, does the work once. Nothing outlives a transaction (no session lock), so it
/// holds behind a transaction-pooling PgBouncer, and a crashed install leaves no lock behind.
/// </summary>
public sealed class SchemaInstaller
{
    private const string LockSql = $"SELECT pg_advisory_xact_lock({LockKeys.Schema})";

    private readonly TriggerConnection _connection;

    public SchemaInstaller(TriggerConnection connection) => _connection = connection;

    public Task<SchemaStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        _connection.ReadAsync(
            async c =>
            {
                var state = await ReadStateAsync(c, cancellationToken).ConfigureAwait(false);
                // Drift is found through a temporary table, which a standby cannot create; its objects are its primary's.
                var standby = await c.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_is_in_recovery()", cancellationToken: cancellationToken)).ConfigureAwait(false);
                var drift = state.TableExists && !standby && state.CurrentVersion is { } current
                    ? await SchemaDriftDetector.FindAsync(c, current, cancellationToken).ConfigureAwait(false)
                    : Array.Empty<SchemaDrift>();
                return new SchemaStatus
                {
                    Drift = drift,
                    CurrentVersion = state.CurrentVersion,
                    AppliedSteps = state.History,
                    PendingSteps = SchemaPlanner.Plan(state, null),
                    HasWorkflowForeignKey = state.HasForeignKey,
                    WorkflowsTableExists = state.WorkflowsExists,
                    IsManaged = state.History.Count > 0,
                    Database = _connection.ToString(),
                };
            },
            cancellationToken);

    /// <summary>Aligns one drifted object (not an Extra index, which is only reported) with the current version.</summary>
    public Task RepairAsync(SchemaDrift drift, CancellationToken cancellationToken) =>
        drift.Kind == DriftKind.Extra
            ? Task.CompletedTask
            : _connection.RunAsync(
                async c =>
                {
                    await SchemaDriftDetector.RepairAsync(c, drift, cancellationToken).ConfigureAwait(false);
                    return true;
                },
                cancellationToken);

    /// <summary>The steps that would bring the database to <paramref name="targetVersion"/> (latest when null). Writes nothing.</summary>
    public Task<IReadOnlyList<PlannedSchemaStep>> PlanAsync(string? targetVersion, CancellationToken cancellationToken)
    {
        CheckTarget(targetVersion);
        return _connection.ReadAsync(
            async c => SchemaPlanner.Plan(await ReadStateAsync(c, cancellationToken).ConfigureAwait(false), targetVersion),
            cancellationToken);
    }

    /// <summary>How many triggers have a target node: what a downgrade to 1.0.0 would lose.</summary>
    public Task<long> CountTargetedTriggersAsync(CancellationToken cancellationToken) =>
        _connection.ReadAsync(
            async c =>
            {
                var state = await ReadStateAsync(c, cancellationToken).ConfigureAwait(false);
                return state.HasTargetColumn
                    ? await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM workflow_triggers WHERE target_node_id IS NOT NULL", cancellationToken: cancellationToken)).ConfigureAwait(false)
                    : 0L;
            },
            cancellationToken);

    /// <summary>
    /// Brings the database to <paramref name="targetVersion"/> (latest when null). A downgrade that loses data is
    /// refused unless <paramref name="allowDataLoss"/>. The workflows foreign key is added where it is missing and
    /// workflows exists, unless <paramref name="addForeignKey"/> is false.
    /// </summary>
    public Task<IReadOnlyList<SchemaStepResult>> ApplyAsync(string? targetVersion, bool allowDataLoss, bool addForeignKey, CancellationToken cancellationToken)
    {
        CheckTarget(targetVersion);
        return _connection.RunAsync<IReadOnlyList<SchemaStepResult>>(
            async c =>
            {
                var results = new List<SchemaStepResult>();
                var first = true;
                while (true)
                {
                    await using var transaction = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                    await c.ExecuteAsync(new CommandDefinition(LockSql, transaction: transaction, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
                    var home = await ModuleHome.ReadForInstallAsync(c, transaction, cancellationToken).ConfigureAwait(false);
                    await ModuleObjects.EnsureTableAsync(c, transaction, home, SchemaSteps.HistoryTableDefinition, cancellationToken).ConfigureAwait(false);
                    var plan = SchemaPlanner.Plan(await ReadStateAsync(c, cancellationToken, transaction).ConfigureAwait(false), targetVersion)
                        .Where(s => addForeignKey || s.Action != SchemaAction.AddForeignKey)
                        .ToList();
                    if (first && !allowDataLoss && plan.FirstOrDefault(s => s.Warning is not null) is { } lossy)
                    {
                        throw new TriggerEngineException(TriggerErrorKind.Conflict, $"Refusing to downgrade: step {lossy.Version} {lossy.Warning}.");
                    }

                    first = false;
                    if (plan.Count == 0)
                    {
                        // The backfill's tables come with the schema, so the role that runs one needs no CREATE on it.
                        if (await ModuleHome.ReadAsync(c, transaction, cancellationToken).ConfigureAwait(false) is { } installed)
                        {
                            await ModuleObjects.EnsureTableAsync(c, transaction, installed, Lease.Definition, cancellationToken).ConfigureAwait(false);
                            await ModuleObjects.EnsureTableAsync(c, transaction, installed, Routing.TriggerBackfill.NodesTableDefinition, cancellationToken).ConfigureAwait(false);
                        }

                        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                        return results;
                    }

                    if (results.Any(r => r.Version == plan[0].Version && r.Action == plan[0].Action))
                    {
                        // A committed step that the plan still asks for would loop forever: stop and say so.
                        throw new TriggerEngineException(TriggerErrorKind.Conflict, $"Step {plan[0].Version} ({plan[0].Action}) was applied but the database still plans it; nothing more was changed.");
                    }

                    results.Add(await ApplyStepAsync(c, transaction, home, plan[0], cancellationToken).ConfigureAwait(false));
                }
            },
            cancellationToken);
    }

    /// <summary>Applies one step in <paramref name="transaction"/> (which holds the schema lock) and commits it.</summary>
    private static async Task<SchemaStepResult> ApplyStepAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ModuleHome home, PlannedSchemaStep step, CancellationToken cancellationToken)
    {
        var history = home.Qualify(SchemaSteps.HistoryTable);
        var watch = Stopwatch.StartNew();
        string? detail = null;
        // DDL on a busy table waits for its lock; a bounded wait fails clearly instead of queueing every reader behind it.
        await connection.ExecuteAsync(new CommandDefinition("SET LOCAL lock_timeout = '30s'", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var version = SchemaSteps.Versions.FirstOrDefault(v => v.Version == step.Version);
        switch (step.Action)
        {
            case SchemaAction.Upgrade or SchemaAction.Adopt:
                if (step.Action == SchemaAction.Upgrade && SchemaSteps.IndexOf(step.Version) == 0)
                {
                    // Creating the table anew: rows left from a table dropped by hand describe nothing any more.
                    await connection.ExecuteAsync(new CommandDefinition($"DELETE FROM {history}", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                }

                await RequireTrustedViewsAsync(connection, transaction, home, cancellationToken).ConfigureAwait(false);
                await connection.ExecuteAsync(new CommandDefinition(version!.UpSql, transaction: transaction, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await connection.ExecuteAsync(new CommandDefinition(
                    $"INSERT INTO {history} (version, name, adopted) VALUES (@Version, @Name, @Adopted) ON CONFLICT (version) DO NOTHING",
                    new { version.Version, version.Name, Adopted = step.Action == SchemaAction.Adopt },
                    transaction,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (step.Version == SchemaSteps.BaseVersion)
                {
                    // The CHECK constraints come with the base version: say once which rows keep one NOT VALID.
                    detail = await DescribeUnvalidatedChecksAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
                }
                break;
            case SchemaAction.Downgrade:
                await connection.ExecuteAsync(new CommandDefinition(version!.DownSql!, transaction: transaction, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await connection.ExecuteAsync(new CommandDefinition(
                    $"DELETE FROM {history} WHERE version = @Version", new { version.Version }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                break;
            case SchemaAction.AddForeignKey:
                var orphans = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                    $"SELECT count(*) FROM workflow_triggers t WHERE {OrphanRule.Predicate}",
                    transaction: transaction,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
                await connection.ExecuteAsync(new CommandDefinition(SchemaSteps.ForeignKeySql(validateExisting: orphans == 0), transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                if (orphans > 0)
                {
                    detail = $"{orphans} existing trigger(s) name a workflow that does not exist; the key was added NOT VALID so they stay. "
                           + $"Clean them up, then run: ALTER TABLE workflow_triggers VALIDATE CONSTRAINT {SchemaSteps.ForeignKeyName};";
                }

                break;
        }

        await History.ChangeHistory.RefreshIfOnAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new SchemaStepResult(step.Version, step.Name, step.Action, watch.Elapsed, detail);
    }

    // CREATE OR REPLACE VIEW keeps a view's owner: one made first by someone else would stay theirs, and any
    // function it calls would run as each user who reads the metrics.
    private static async Task RequireTrustedViewsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ModuleHome home, CancellationToken cancellationToken)
    {
        foreach (var view in SchemaSteps.Views)
        {
            if (await ModuleObjects.ReadRelationAsync(connection, transaction, home, view, cancellationToken).ConfigureAwait(false) is { } facts
                && (facts.Kind != "v" || !home.Trusts(facts.Owner, facts.OwnerIsSuperuser)))
            {
                throw ModuleObjects.Foreign(home, facts.Kind == "v" ? "view" : "relation", view, facts.Owner, new[]
                {
                    facts.Kind == "v" ? $"it is owned by {facts.Owner}, and its code would run as each user who reads it" : $"it is not a view (relkind '{facts.Kind}')",
                });
            }
        }
    }

    /// <summary>
    /// For each of the document's CHECK constraints left NOT VALID (rows of an adopted table break it): how many rows,
    /// which, and how to validate it once they are fixed. Null when every constraint holds.
    /// </summary>
    private static async Task<string?> DescribeUnvalidatedChecksAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var names = (await connection.QueryAsync<string>(new CommandDefinition(SchemaSteps.UnvalidatedChecksSql, transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToList();
        var lines = new List<string>();
        foreach (var (name, check) in SchemaSteps.CheckConstraints.Where(c => names.Contains(c.Name)))
        {
            var (count, firstIds) = await connection.QuerySingleAsync<(long, int[])>(new CommandDefinition(SchemaSteps.ViolatorsSql(check), transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            lines.Add($"{count} existing row(s) break {name} ({check}; ids {string.Join(", ", firstIds)}{(count > firstIds.Length ? ", ..." : string.Empty)}): "
                      + $"it was added NOT VALID so they stay, and new rows are checked. Fix them, then run: ALTER TABLE workflow_triggers VALIDATE CONSTRAINT {name};");
        }

        return lines.Count == 0 ? null : string.Join("\n", lines);
    }

    private static void CheckTarget(string? targetVersion)
    {
        if (targetVersion is not null && SchemaSteps.IndexOf(targetVersion) < 0)
        {
            throw new TriggerEngineException(
                TriggerErrorKind.InvalidArgument,
                $"Version '{targetVersion}' is not a schema version this module knows; the versions are {string.Join(", ", SchemaSteps.Versions.Select(v => v.Version))}.");
        }
    }

    private static async Task<SchemaState> ReadStateAsync(NpgsqlConnection connection, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        var historyTable = (await ModuleHome.ReadForInstallAsync(connection, transaction, cancellationToken).ConfigureAwait(false)).Qualify(SchemaSteps.HistoryTable);
        const string probe = $"""
            SELECT to_regclass('workflow_triggers') IS NOT NULL AS TableExists,
                   EXISTS (SELECT 1 FROM pg_attribute
                           WHERE attrelid = to_regclass('workflow_triggers') AND attname = 'target_node_id' AND NOT attisdropped) AS HasTargetColumn,
                   to_regclass('workflows') IS NOT NULL AS WorkflowsExists,
                   EXISTS (SELECT 1 FROM pg_constraint
                           WHERE conrelid = to_regclass('workflow_triggers') AND conname = '{SchemaSteps.ForeignKeyName}') AS HasForeignKey,
                   to_regclass(@History) IS NOT NULL AS HistoryExists
            """;
        var flags = await connection.QuerySingleAsync<(bool TableExists, bool HasTargetColumn, bool WorkflowsExists, bool HasForeignKey, bool HistoryExists)>(
            new CommandDefinition(probe, new { History = historyTable }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        IReadOnlyList<AppliedSchemaStep> history = Array.Empty<AppliedSchemaStep>();
        if (flags.HistoryExists)
        {
            history = (await connection.QueryAsync<AppliedSchemaStep>(new CommandDefinition(
                $"SELECT version AS Version, name AS Name, applied_at AS AppliedAt, applied_by AS AppliedBy, adopted AS Adopted FROM {historyTable}",
                transaction: transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false))
                .OrderBy(h => SchemaSteps.IndexOf(h.Version) < 0 ? int.MaxValue : SchemaSteps.IndexOf(h.Version))
                .ToArray();
        }

        if (history.FirstOrDefault(h => SchemaSteps.IndexOf(h.Version) < 0) is { } unknown)
        {
            throw new TriggerEngineException(
                TriggerErrorKind.Conflict,
                $"The database records schema version {unknown.Version}, which this module does not know (it knows up to {SchemaSteps.LatestVersion}). Use a newer WorkflowTriggers module.");
        }

        // A history whose table was dropped by hand describes nothing: start again from the table as it is.
        if (!flags.TableExists)
        {
            history = Array.Empty<AppliedSchemaStep>();
        }

        var current = history.Count > 0
            ? history[^1].Version
            : flags.TableExists ? SchemaPlanner.AdoptedVersion(flags.HasTargetColumn) : null;
        return new SchemaState(current, history, flags.TableExists, flags.HasTargetColumn, flags.WorkflowsExists, flags.HasForeignKey);
    }
}

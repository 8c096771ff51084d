using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.TriggersAsCode;

/// <summary>The write half of <see cref="TriggerImporter"/>: apply a plan under the import lock, isolating refused rows.</summary>
public sealed partial class TriggerImporter
{
    /// <summary>
    /// Writes the plan's Created and Updated entries in one transaction, under the import lock, after planning them
    /// again there: an entry that another writer has meanwhile made Unchanged is not written (reported Unchanged), and
    /// one that now needs another write than the one planned is not written either (in <see cref="ImportOutcome.ChangedSincePlan"/>).
    /// A row the server refuses is left out with its reason; the others commit together. Sets ids and Applied.
    /// </summary>
    public Task<ImportOutcome> ApplyAsync(ImportPlan plan, bool force, PruneRequest? prune, CancellationToken cancellationToken)
    {
        var outcome = new ImportOutcome();
        var toWrite = plan.Items.Where(i => i.Action != ImportAction.Unchanged).ToList();
        if (toWrite.Count == 0 && (prune is null || prune.Approved.Count == 0))
        {
            return Task.FromResult(outcome);
        }

        return _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                await connection.ExecuteAsync(new CommandDefinition($"SELECT pg_advisory_xact_lock({LockKeys.Import})", transaction: transaction, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
                var tables = await EngineTables.ProbeAsync(connection, cancellationToken, transaction).ConfigureAwait(false);
                var fresh = (await PlanAsync(connection, transaction, tables, toWrite.Select(i => i.Source).ToList(), force, cancellationToken).ConfigureAwait(false))
                    .Items.ToDictionary(i => i.Entry);
                var approved = new List<TriggerImportResult>();
                foreach (var item in toWrite)
                {
                    if (!fresh.TryGetValue(item.Entry, out var now) || (now.Action != ImportAction.Unchanged && !SameWrite(item, now)))
                    {
                        outcome.ChangedSincePlan.Add(item);
                    }
                    else if (now.Action == ImportAction.Unchanged)
                    {
                        item.Action = ImportAction.Unchanged;
                    }
                    else
                    {
                        approved.Add(item);
                    }
                }

                var withId = approved.Where(i => i.Action == ImportAction.Created && i.Id is not null).ToList();
                var withoutId = approved.Where(i => i.Action == ImportAction.Created && i.Id is null).ToList();
                var updates = approved.Where(i => i.Action == ImportAction.Updated).ToList();
                var written = new List<TriggerImportResult>();
                await WriteIsolatingAsync(connection, transaction, InsertSql, withId, assignIds: false, written, outcome, cancellationToken).ConfigureAwait(false);
                if (withId.Count > 0)
                {
                    await connection.ExecuteAsync(new CommandDefinition(AdvanceSequenceSql, transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                }

                await WriteIsolatingAsync(connection, transaction, InsertSql, withoutId, assignIds: true, written, outcome, cancellationToken).ConfigureAwait(false);
                await WriteIsolatingAsync(connection, transaction, UpdateSql, updates, assignIds: false, written, outcome, cancellationToken).ConfigureAwait(false);
                foreach (var item in written)
                {
                    item.Applied = true;
                }

                if (prune is not null && prune.Approved.Count > 0)
                {
                    // Planned again under the lock: a trigger the file now mentions (or another import created) stays.
                    var mentioned = plan.Items.Where(i => i.Id is not null).Select(i => i.Id!.Value).ToHashSet();
                    var still = (await UnmentionedAsync(connection, transaction, tables, prune.WorkflowIds, mentioned, cancellationToken).ConfigureAwait(false))
                        .Where(t => prune.Approved.Contains(t.Id) && !(prune.Disable && !t.IsActive))
                        .ToList();
                    var sql = prune.Disable
                        ? "UPDATE workflow_triggers SET is_active = false, updated_at = CURRENT_TIMESTAMP WHERE id = ANY(@Ids) AND is_active RETURNING id"
                        : "DELETE FROM workflow_triggers WHERE id = ANY(@Ids) RETURNING id";
                    var done = (await connection.QueryAsync<int>(new CommandDefinition(sql, new { Ids = still.Select(t => t.Id).ToArray() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToHashSet();
                    outcome.Pruned.AddRange(still.Where(t => done.Contains(t.Id)));
                }

                return outcome;
            },
            cancellationToken);
    }

    private static bool SameWrite(TriggerImportResult planned, TriggerImportResult now) =>
        planned.Action == now.Action && planned.Id == now.Id && planned.Changes.SequenceEqual(now.Changes);

    // The entries of a statement as rows u(id, <the writable columns>), from parallel arrays (see WriteAsync). In this
    // file, above the statements made from it: static fields of a partial class start in file order.
    private static readonly string Entries =
        $"unnest(@Ids, @Names, @Descriptions, @WorkflowIds, @Sources, @EventTypes, @TargetNodeIds, @Configs, @Actives) AS u(id, {TriggerColumns.WritableList})";

    private static readonly string InsertSql = $"""
        INSERT INTO workflow_triggers (id, {TriggerColumns.WritableList})
        SELECT coalesce(u.id, nextval(pg_get_serial_sequence('workflow_triggers', 'id'))::int), u.name, u.description, u.workflow_id,
               u.source, u.event_type, u.target_node_id, u.config::jsonb, u.is_active
        FROM {Entries}
        RETURNING id
        """;

    // Explicit ids from a file must not be handed out again by the sequence.
    private const string AdvanceSequenceSql = """
        SELECT setval(pg_get_serial_sequence('workflow_triggers', 'id'),
                      greatest((SELECT max(id) FROM workflow_triggers),
                               coalesce(pg_sequence_last_value(pg_get_serial_sequence('workflow_triggers', 'id')::regclass), 1)))
        """;

    private static readonly string UpdateSql = $"""
        UPDATE workflow_triggers t SET {TriggerColumns.AssignFrom("u")}, updated_at = CURRENT_TIMESTAMP
        FROM {Entries}
        WHERE t.id = u.id
        RETURNING t.id
        """;

    /// <summary>
    /// Writes the items a statement per 1,000, each statement behind a savepoint. When the server refuses a row (a
    /// value it cannot store or index), the statement is undone and its items are halved until the refused one is
    /// alone: it is left out with the server's reason, and every other item is still written in this transaction.
    /// </summary>
    private static async Task WriteIsolatingAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, IReadOnlyList<TriggerImportResult> items, bool assignIds,
        List<TriggerImportResult> written, ImportOutcome outcome, CancellationToken cancellationToken)
    {
        foreach (var chunk in items.Chunk(StatementSize))
        {
            await WriteOrSplitAsync(chunk).ConfigureAwait(false);
        }

        async Task WriteOrSplitAsync(IReadOnlyList<TriggerImportResult> part)
        {
            const string savepoint = "import_statement";
            await transaction.SaveAsync(savepoint, cancellationToken).ConfigureAwait(false);
            try
            {
                await WriteAsync(connection, transaction, sql, part, assignIds, cancellationToken).ConfigureAwait(false);
                await transaction.ReleaseAsync(savepoint, cancellationToken).ConfigureAwait(false);
                written.AddRange(part);
            }
            catch (PostgresException ex) when (TriggerEngineException.Translate(ex, string.Empty) is TriggerEngineException { IsRowRefusal: true } refusal)
            {
                await transaction.RollbackAsync(savepoint, cancellationToken).ConfigureAwait(false);
                await transaction.ReleaseAsync(savepoint, cancellationToken).ConfigureAwait(false);
                if (part.Count == 1)
                {
                    outcome.Refused.Add((part[0], refusal));
                    return;
                }

                var half = part.Count / 2;
                await WriteOrSplitAsync(part.Take(half).ToArray()).ConfigureAwait(false);
                await WriteOrSplitAsync(part.Skip(half).ToArray()).ConfigureAwait(false);
            }
        }
    }

    private static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, IReadOnlyList<TriggerImportResult> chunk, bool assignIds, CancellationToken cancellationToken)
    {
        var merged = chunk.Select(i => i.Merged).ToArray();
        var parameters = new
        {
            Ids = chunk.Select(i => i.Id).ToArray(),
            Names = merged.Select(m => m.Name).ToArray(),
            Descriptions = merged.Select(m => m.Description).ToArray(),
            WorkflowIds = merged.Select(m => m.WorkflowId).ToArray(),
            Sources = merged.Select(m => m.Source).ToArray(),
            EventTypes = merged.Select(m => m.EventType).ToArray(),
            TargetNodeIds = merged.Select(m => m.TargetNodeId).ToArray(),
            Configs = merged.Select(m => m.ConfigJson).ToArray(),
            Actives = merged.Select(m => m.IsActive).ToArray(),
        };
        var ids = (await connection.QueryAsync<int>(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToArray();
        if (assignIds)
        {
            // RETURNING follows the unnest order for a plain INSERT ... SELECT without ORDER BY or joins.
            for (var i = 0; i < chunk.Count; i++)
            {
                chunk[i].Id = ids[i];
            }
        }
    }
}

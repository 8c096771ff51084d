using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.TriggersAsCode;

/// <summary>What importing one entry does (or, with -WhatIf, would do).</summary>
public enum ImportAction
{
    Created,
    Updated,
    Unchanged,
}

/// <summary>One field an import changes, with the database's value and the file's, as text (config as canonical JSON).</summary>
public sealed record FieldChange(TriggerField Field, string? OldValue, string? NewValue);

/// <summary>One valid entry of a file and what making the database match it takes.</summary>
public sealed class TriggerImportResult
{
    public int Entry { get; init; }
    public ImportAction Action { get; set; }

    /// <summary>The trigger's id: the existing one, the file's, or (after a create without one) the new one.</summary>
    public int? Id { get; set; }
    public string Name { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;

    /// <summary>For Updated: each field that differs, with both values.</summary>
    public IReadOnlyList<FieldChange> Changes { get; init; } = Array.Empty<FieldChange>();

    public IReadOnlyList<TriggerField> ChangedFields => Changes.Select(c => c.Field).ToArray();

    /// <summary>The database's trigger the entry changes, when its name or workflow differ from the entry's (-Force matched it by id).</summary>
    public TriggerKey? DatabaseTrigger { get; init; }

    /// <summary>False for a plan (-WhatIf) and for Unchanged entries: nothing was written for it.</summary>
    public bool Applied { get; set; }

    /// <summary>The entry this result plans for: errors about it name it.</summary>
    public TriggerDocumentEntry Source { get; internal init; } = null!;

    // The whole trigger the entry writes (the entry laid over the database's row): what the apply step sends.
    internal NewTrigger Merged { get; init; } = null!;
}

/// <summary>The plan for a file: what each valid entry needs, and the entries refused, with why.</summary>
public sealed class ImportPlan
{
    public List<TriggerImportResult> Items { get; } = new();
    public List<(TriggerDocumentEntry Entry, RuleViolation Violation)> Refused { get; } = new();
}

/// <summary>
/// Triggers of the file's workflows that the file does not mention, to be removed (or disabled) by the import:
/// only those of <see cref="Approved"/> that are still unmentioned when the import writes.
/// </summary>
public sealed record PruneRequest(IReadOnlyList<string> WorkflowIds, bool Disable, IReadOnlySet<int> Approved);

/// <summary>What applying a plan did: entries the server refused, and entries the database changed under since the plan.</summary>
public sealed class ImportOutcome
{
    /// <summary>Entries whose row the server refused (a value it cannot store or index), with its reason; nothing of them was written.</summary>
    public List<(TriggerImportResult Item, TriggerEngineException Error)> Refused { get; } = new();

    /// <summary>Entries that, planned again under the import lock, need a different write than the one approved: not written.</summary>
    public List<TriggerImportResult> ChangedSincePlan { get; } = new();

    /// <summary>The triggers the prune removed or disabled, as they were before.</summary>
    public List<TriggerRecord> Pruned { get; } = new();
}

/// <summary>
/// Makes the database match a triggers-as-code file. Entries are patches: a key an entry leaves out keeps the
/// database's value. An entry is the same trigger as a row when workflow and name match; an id narrows that to one
/// row, and an id whose row has another name or workflow (a file from another database) is refused unless forced.
/// Writing takes a transaction-scoped lock per schema and plans again under it, so two imports at once give the
/// result of one; every write of a file commits together, a statement per 1,000 entries.
/// </summary>
public sealed class TriggerImporter
{
    private const int StatementSize = StatementBatch.DefaultSize;

    // The entries of a statement as rows u(id, <the writable columns>), from parallel arrays (see WriteAsync).
    private static readonly string Entries =
        $"unnest(@Ids, @Names, @Descriptions, @WorkflowIds, @Sources, @EventTypes, @TargetNodeIds, @Configs, @Actives) AS u(id, {TriggerColumns.WritableList})";

    private readonly TriggerConnection _connection;

    public TriggerImporter(TriggerConnection connection) => _connection = connection;

    /// <summary>
    /// Compares the entries with the database and decides, per entry, Created, Updated or Unchanged. An entry whose
    /// target node is not a node of its workflow is refused (<see cref="RoutingRule"/>) unless <paramref name="force"/>;
    /// so is one whose id names a trigger with another name or workflow.
    /// </summary>
    public async Task<ImportPlan> PlanAsync(IReadOnlyList<TriggerDocumentEntry> entries, bool force, CancellationToken cancellationToken)
    {
        var tables = await _connection.ProbeTablesAsync(cancellationToken).ConfigureAwait(false);
        return await _connection.ReadAsync(c => PlanAsync(c, null, tables, entries, force, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The triggers of <paramref name="workflowIds"/> whose ids are not in <paramref name="mentionedIds"/>: what the file does not mention.</summary>
    public async Task<IReadOnlyList<TriggerRecord>> UnmentionedAsync(IReadOnlyList<string> workflowIds, IReadOnlyCollection<int> mentionedIds, CancellationToken cancellationToken)
    {
        var tables = await _connection.ProbeTablesAsync(cancellationToken).ConfigureAwait(false);
        return await _connection.ReadAsync(c => UnmentionedAsync(c, null, tables, workflowIds, mentionedIds, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<TriggerRecord>> UnmentionedAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, EngineTables tables, IReadOnlyList<string> workflowIds, IReadOnlyCollection<int> mentionedIds, CancellationToken cancellationToken)
    {
        var sql = TriggerColumns.SelectFrom("workflow_triggers", tables) + """

            WHERE t.workflow_id = ANY(@WorkflowIds) AND t.id <> ALL(@Ids)
            ORDER BY t.id
            """;
        var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
            sql, new { WorkflowIds = workflowIds.ToArray(), Ids = mentionedIds.ToArray() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.ToList();
    }

    private static async Task<ImportPlan> PlanAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, EngineTables tables, IReadOnlyList<TriggerDocumentEntry> entries, bool force, CancellationToken cancellationToken)
    {
        var plan = new ImportPlan();
        var valid = new List<TriggerDocumentEntry>();
        foreach (var entry in entries)
        {
            // Text no row can hold (a NUL, a lone surrogate) is refused before it is sent to look anything up.
            var violations = entry.Violations.Count > 0 ? entry.Violations : TriggerRules.CheckNew(entry.Over(null)).Where(v => v.Value is string text && !TriggerRules.IsValidText(text)).ToList();
            if (violations.Count > 0)
            {
                plan.Refused.AddRange(violations.Select(v => (entry, v)));
            }
            else
            {
                valid.Add(entry);
            }
        }

        var byId = new Dictionary<int, TriggerRecord>();
        var byName = new Dictionary<(string WorkflowId, string Name), List<TriggerRecord>>();
        var missingWorkflows = new HashSet<string>(StringComparer.Ordinal);
        var brokenRoutes = new HashSet<(string WorkflowId, string NodeId)>();
        foreach (var chunk in valid.Chunk(StatementSize))
        {
            var sql = TriggerColumns.SelectFrom("workflow_triggers", tables) + """

                WHERE t.id = ANY(@Ids)
                   OR (t.workflow_id, t.name) IN (SELECT * FROM unnest(@WorkflowIds::text[], @Names::text[]))
                """;
            var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                sql,
                new
                {
                    Ids = chunk.Where(e => e.Id is not null).Select(e => e.Id!.Value).ToArray(),
                    WorkflowIds = chunk.Select(e => e.WorkflowId).ToArray(),
                    Names = chunk.Select(e => TriggerRules.NormalizeName(e.Name)).ToArray(),
                },
                transaction,
                cancellationToken: cancellationToken)).ConfigureAwait(false);
            foreach (var row in rows)
            {
                byId[row.Id] = row;
                var key = (row.WorkflowId, row.Name);
                if (!byName.TryGetValue(key, out var list))
                {
                    byName[key] = list = new List<TriggerRecord>();
                }

                if (list.All(r => r.Id != row.Id))
                {
                    list.Add(row);
                }
            }

            missingWorkflows.UnionWith(await TriggerLookups.MissingWorkflowsAsync(connection, transaction, tables, chunk.Select(e => e.WorkflowId), cancellationToken).ConfigureAwait(false));
            if (!force)
            {
                brokenRoutes.UnionWith(await RoutingRule.BrokenAsync(
                    connection, transaction, tables, chunk.Where(e => e.TargetNodeId is not null).Select(e => (e.WorkflowId, e.TargetNodeId!)), cancellationToken).ConfigureAwait(false));
            }
        }

        var claimed = new HashSet<int>();
        var namedInFile = new HashSet<(string, string)>();
        foreach (var entry in valid)
        {
            void Refuse(string field, object? value, string errorId, string message) => plan.Refused.Add((entry, new RuleViolation(field, value, errorId, message)));

            var name = TriggerRules.NormalizeName(entry.Name);
            var sameName = byName.TryGetValue((entry.WorkflowId, name), out var list) ? list : new List<TriggerRecord>();
            TriggerRecord? existing;
            if (entry.Id is { } id)
            {
                byId.TryGetValue(id, out existing);
                if (existing is not null && (existing.WorkflowId != entry.WorkflowId || existing.Name != name) && !force)
                {
                    Refuse("Id", id, "TriggerIdentityConflict",
                        $"Trigger {id} in this database is '{existing.Name}' (workflow {existing.WorkflowId}), not '{name}' (workflow {entry.WorkflowId}): the id may come from another database. " +
                        "Remove the id to match by workflow and name, or force it to change that trigger.");
                    continue;
                }

                if (existing is null && sameName.FirstOrDefault() is { } namesake && !force)
                {
                    Refuse("Id", id, "TriggerIdentityConflict",
                        $"No trigger has id {id} in this database, but trigger {namesake.Id} has workflow {entry.WorkflowId} and name '{name}': the id may come from another database. " +
                        "Remove the id to update that trigger, or force it to create another one with id " + id + ".");
                    continue;
                }
            }
            else
            {
                if (sameName.Count > 1)
                {
                    Refuse("Name", entry.Name, "AmbiguousTrigger",
                        $"Workflow '{entry.WorkflowId}' has {sameName.Count} triggers named '{name}' (ids {string.Join(", ", sameName.Select(m => m.Id))}), so the entry needs an id.");
                    continue;
                }

                existing = sameName.FirstOrDefault();
                if (existing is null && !namedInFile.Add((entry.WorkflowId, name)))
                {
                    Refuse("Name", entry.Name, "DuplicateEntry", $"An earlier entry without an id already names '{name}' in workflow '{entry.WorkflowId}'.");
                    continue;
                }
            }

            var claimedId = existing?.Id ?? entry.Id;
            if (claimedId is { } taken && !claimed.Add(taken))
            {
                Refuse("Id", taken, "DuplicateEntry", $"An earlier entry of the file is already trigger {taken}.");
                continue;
            }

            if (existing is null && (!entry.Stated.Contains(TriggerField.Source) || !entry.Stated.Contains(TriggerField.EventType)))
            {
                var (missing, field) = !entry.Stated.Contains(TriggerField.Source) ? ("source", TriggerField.Source) : ("eventType", TriggerField.EventType);
                Refuse(field.ToString(), null, "MissingKey", $"{missing} is missing, and a new trigger needs it (no trigger of workflow {entry.WorkflowId} is named '{name}').");
                continue;
            }

            var merged = entry.Over(existing);
            // An existing trigger is held to the rules for the fields the entry changes: a legacy value it keeps is not the file's doing.
            var violations = TriggerRules.CheckNew(merged)
                .Where(v => existing is null || Changes(existing, merged).Any(c => c.Field.ToString() == v.Field))
                .ToList();
            if (violations.Count > 0)
            {
                plan.Refused.AddRange(violations.Select(v => (entry, v)));
                continue;
            }

            // A trigger that stays in its (vanished) workflow is left to the orphan cmdlets; a new or moved one is refused.
            if (missingWorkflows.Contains(entry.WorkflowId) && existing?.WorkflowId != entry.WorkflowId)
            {
                Refuse("WorkflowId", entry.WorkflowId, "WorkflowNotFound", $"Workflow '{entry.WorkflowId}' does not exist (table workflows).");
                continue;
            }

            if (entry.TargetNodeId is { } node && brokenRoutes.Contains((entry.WorkflowId, node)))
            {
                Refuse("TargetNodeId", node, "NodeNotInWorkflow", $"Node '{node}' is not a node of workflow '{entry.WorkflowId}' (table workflow_nodes).");
                continue;
            }

            var changes = existing is null ? Array.Empty<FieldChange>() : Changes(existing, merged).ToArray();
            plan.Items.Add(new TriggerImportResult
            {
                Entry = entry.Index + 1,
                Action = existing is null ? ImportAction.Created : changes.Length == 0 ? ImportAction.Unchanged : ImportAction.Updated,
                Id = existing?.Id ?? entry.Id,
                Name = name,
                WorkflowId = entry.WorkflowId,
                Changes = changes,
                DatabaseTrigger = existing is not null && (existing.Name != name || existing.WorkflowId != entry.WorkflowId) ? existing.Key : null,
                Source = entry,
                Merged = merged,
            });
        }

        return plan;
    }

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

    /// <summary>Each field where <paramref name="merged"/> differs from <paramref name="existing"/>, with both values as text.</summary>
    private static IEnumerable<FieldChange> Changes(TriggerRecord existing, NewTrigger merged)
    {
        static string Flag(bool value) => value ? "True" : "False";
        var existingConfig = TriggerDocument.CanonicalConfig(existing.ConfigJson);
        var pairs = new (TriggerField Field, string? Old, string? New)[]
        {
            (TriggerField.Name, existing.Name, merged.Name),
            (TriggerField.Description, existing.Description, merged.Description),
            (TriggerField.WorkflowId, existing.WorkflowId, merged.WorkflowId),
            (TriggerField.Source, existing.Source, merged.Source),
            (TriggerField.EventType, existing.EventType, merged.EventType),
            (TriggerField.TargetNodeId, existing.TargetNodeId, merged.TargetNodeId),
            (TriggerField.IsActive, Flag(existing.IsActive), Flag(merged.IsActive)),
            (TriggerField.Config, existingConfig, merged.ConfigJson),
        };
        return pairs.Where(p => !string.Equals(p.Old, p.New, StringComparison.Ordinal)).Select(p => new FieldChange(p.Field, p.Old, p.New));
    }
}

using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.TriggersAsCode;

/// <summary>
/// Makes the database match a triggers-as-code file. Entries are patches: a key an entry leaves out keeps the
/// database's value. An entry is the same trigger as a row when workflow and name match; an id narrows that to one
/// row, and an id whose row has another name or workflow (a file from another database) is refused unless forced.
/// Writing takes a transaction-scoped lock per schema and plans again under it, so two imports at once give the
/// result of one; every write of a file commits together, a statement per 1,000 entries.
/// </summary>
public sealed partial class TriggerImporter
{
    private const int StatementSize = StatementBatch.DefaultSize;

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
                if (existing is not null && (existing.WorkflowId != entry.WorkflowId || existing.Name != name) && !force && !entry.IdNamesTrigger)
                {
                    Refuse("Id", id, "TriggerIdentityConflict",
                        $"Trigger {id} in this database is '{existing.Name}' (workflow {existing.WorkflowId}), not '{name}' (workflow {entry.WorkflowId}): the id may come from another database. " +
                        "Remove the id to match by workflow and name, or force it to change that trigger.");
                    continue;
                }

                if (existing is null && sameName.FirstOrDefault() is { } namesake && !force && !entry.IdNamesTrigger)
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
            var changes = existing is null ? Array.Empty<FieldChange>() : Changes(existing, merged).ToArray();
            // An existing trigger is held to the rules for the fields the entry changes: a legacy value it keeps is not the file's doing.
            var violations = TriggerRules.CheckNew(merged)
                .Where(v => existing is null || changes.Any(c => c.Field.ToString() == v.Field))
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

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

/// <summary>One valid entry of a file and what making the database match it takes.</summary>
public sealed class TriggerImportResult
{
    public int Entry { get; init; }
    public ImportAction Action { get; init; }

    /// <summary>The trigger's id: the existing one, the file's, or (after a create without one) the new one.</summary>
    public int? Id { get; set; }
    public string Name { get; init; } = string.Empty;
    public string WorkflowId { get; init; } = string.Empty;

    /// <summary>For Updated: the fields that differ.</summary>
    public IReadOnlyList<TriggerField> ChangedFields { get; init; } = Array.Empty<TriggerField>();

    /// <summary>False for a plan (-WhatIf) and for Unchanged entries: nothing was written for it.</summary>
    public bool Applied { get; set; }

    // The entry this result plans for: what the apply step writes; callers read the fields above.
    internal TriggerDocumentEntry Source { get; init; } = null!;
}

/// <summary>The plan for a file: what each valid entry needs, and the entries refused, with why.</summary>
public sealed class ImportPlan
{
    public List<TriggerImportResult> Items { get; } = new();
    public List<(TriggerDocumentEntry Entry, RuleViolation Violation)> Refused { get; } = new();
}

/// <summary>
/// Makes the database match a triggers-as-code file. An entry is the same trigger as a row when its id matches,
/// or, without an id, when workflow and name match. Only Created and Updated entries are written, in one
/// transaction, a statement per 1,000 entries.
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
    /// target node is not a node of its workflow is refused (<see cref="RoutingRule"/>) unless <paramref name="force"/>.
    /// </summary>
    public async Task<ImportPlan> PlanAsync(IReadOnlyList<TriggerDocumentEntry> entries, bool force, CancellationToken cancellationToken)
    {
        var plan = new ImportPlan();
        var valid = new List<TriggerDocumentEntry>();
        foreach (var entry in entries)
        {
            if (entry.Violations.Count > 0)
            {
                plan.Refused.AddRange(entry.Violations.Select(v => (entry, v)));
            }
            else
            {
                valid.Add(entry);
            }
        }

        var tables = await _connection.ProbeTablesAsync(cancellationToken).ConfigureAwait(false);
        var byId = new Dictionary<int, TriggerRecord>();
        var byName = new Dictionary<(string WorkflowId, string Name), List<TriggerRecord>>();
        var missingWorkflows = new HashSet<string>(StringComparer.Ordinal);
        var brokenRoutes = new HashSet<(string WorkflowId, string NodeId)>();
        await _connection.ReadAsync(
            async connection =>
            {
                foreach (var chunk in valid.Chunk(StatementSize))
                {
                    var ids = chunk.Where(e => e.Id is not null).Select(e => e.Id!.Value).ToArray();
                    var named = chunk.Where(e => e.Id is null).ToArray();
                    var sql = TriggerColumns.SelectFrom("workflow_triggers", tables) + """

                        WHERE t.id = ANY(@Ids)
                           OR (t.workflow_id, t.name) IN (SELECT * FROM unnest(@WorkflowIds::text[], @Names::text[]))
                        """;
                    var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                        sql,
                        new { Ids = ids, WorkflowIds = named.Select(e => e.WorkflowId).ToArray(), Names = named.Select(e => TriggerRules.NormalizeName(e.Name)).ToArray() },
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

                    missingWorkflows.UnionWith(await TriggerLookups.MissingWorkflowsAsync(connection, null, tables, chunk.Select(e => e.WorkflowId), cancellationToken).ConfigureAwait(false));
                    if (!force)
                    {
                        brokenRoutes.UnionWith(await RoutingRule.BrokenAsync(
                            connection, null, tables, chunk.Where(e => e.TargetNodeId is not null).Select(e => (e.WorkflowId, e.TargetNodeId!)), cancellationToken).ConfigureAwait(false));
                    }
                }

                return true;
            },
            cancellationToken).ConfigureAwait(false);

        var claimed = new HashSet<int>();
        var namedInFile = new HashSet<(string, string)>();
        foreach (var entry in valid)
        {
            var name = TriggerRules.NormalizeName(entry.Name);
            TriggerRecord? existing;
            if (entry.Id is { } id)
            {
                byId.TryGetValue(id, out existing);
            }
            else
            {
                var matches = byName.TryGetValue((entry.WorkflowId, name), out var list) ? list : new List<TriggerRecord>();
                if (matches.Count > 1)
                {
                    plan.Refused.Add((entry, new RuleViolation("Name", entry.Name, "AmbiguousTrigger",
                        $"Workflow '{entry.WorkflowId}' has {matches.Count} triggers named '{name}' (ids {string.Join(", ", matches.Select(m => m.Id))}), so the entry needs an id.")));
                    continue;
                }

                existing = matches.FirstOrDefault();
                if (existing is null && !namedInFile.Add((entry.WorkflowId, name)))
                {
                    plan.Refused.Add((entry, new RuleViolation("Name", entry.Name, "DuplicateEntry", $"An earlier entry without an id already names '{name}' in workflow '{entry.WorkflowId}'.")));
                    continue;
                }
            }

            var claimedId = existing?.Id ?? entry.Id;
            if (claimedId is { } taken && !claimed.Add(taken))
            {
                plan.Refused.Add((entry, new RuleViolation("Id", taken, "DuplicateEntry", $"An earlier entry of the file is already trigger {taken}.")));
                continue;
            }

            // A trigger that stays in its (vanished) workflow is left to the orphan cmdlets; a new or moved one is refused.
            if (missingWorkflows.Contains(entry.WorkflowId) && existing?.WorkflowId != entry.WorkflowId)
            {
                plan.Refused.Add((entry, new RuleViolation("WorkflowId", entry.WorkflowId, "WorkflowNotFound", $"Workflow '{entry.WorkflowId}' does not exist (table workflows).")));
                continue;
            }

            if (entry.TargetNodeId is { } node && brokenRoutes.Contains((entry.WorkflowId, node)))
            {
                plan.Refused.Add((entry, new RuleViolation("TargetNodeId", node, "NodeNotInWorkflow", $"Node '{node}' is not a node of workflow '{entry.WorkflowId}' (table workflow_nodes).")));
                continue;
            }

            if (existing is null)
            {
                plan.Items.Add(new TriggerImportResult { Entry = entry.Index + 1, Action = ImportAction.Created, Id = entry.Id, Name = name, WorkflowId = entry.WorkflowId, Source = entry });
                continue;
            }

            var changed = ChangedFields(entry, name, existing).ToArray();
            plan.Items.Add(new TriggerImportResult
            {
                Entry = entry.Index + 1,
                Action = changed.Length == 0 ? ImportAction.Unchanged : ImportAction.Updated,
                Id = existing.Id,
                Name = name,
                WorkflowId = entry.WorkflowId,
                ChangedFields = changed,
                Source = entry,
            });
        }

        return plan;
    }

    /// <summary>Writes the plan's Created and Updated entries in one transaction; sets their ids and Applied.</summary>
    public Task ApplyAsync(ImportPlan plan, CancellationToken cancellationToken)
    {
        var insert = $"""
            INSERT INTO workflow_triggers (id, {TriggerColumns.WritableList})
            SELECT coalesce(u.id, nextval(pg_get_serial_sequence('workflow_triggers', 'id'))::int), u.name, u.description, u.workflow_id,
                   u.source, u.event_type, u.target_node_id, u.config::jsonb, u.is_active
            FROM {Entries}
            RETURNING id
            """;
        // Explicit ids from a file must not be handed out again by the sequence.
        const string advanceSequence = """
            SELECT setval(pg_get_serial_sequence('workflow_triggers', 'id'),
                          greatest((SELECT max(id) FROM workflow_triggers),
                                   coalesce(pg_sequence_last_value(pg_get_serial_sequence('workflow_triggers', 'id')::regclass), 1)))
            """;
        var update = $"""
            UPDATE workflow_triggers t SET {TriggerColumns.AssignFrom("u")}, updated_at = CURRENT_TIMESTAMP
            FROM {Entries}
            WHERE t.id = u.id
            """;

        var withId = plan.Items.Where(i => i.Action == ImportAction.Created && i.Id is not null).ToList();
        var withoutId = plan.Items.Where(i => i.Action == ImportAction.Created && i.Id is null).ToList();
        var updates = plan.Items.Where(i => i.Action == ImportAction.Updated).ToList();
        if (withId.Count + withoutId.Count + updates.Count == 0)
        {
            return Task.CompletedTask;
        }

        return _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                await WriteAsync(connection, transaction, insert, withId, assignIds: false, cancellationToken).ConfigureAwait(false);
                if (withId.Count > 0)
                {
                    await connection.ExecuteAsync(new CommandDefinition(advanceSequence, transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                }

                await WriteAsync(connection, transaction, insert, withoutId, assignIds: true, cancellationToken).ConfigureAwait(false);
                await WriteAsync(connection, transaction, update, updates, assignIds: false, cancellationToken).ConfigureAwait(false);
                foreach (var item in withId.Concat(withoutId).Concat(updates))
                {
                    item.Applied = true;
                }

                return true;
            },
            cancellationToken);
    }

    private static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, List<TriggerImportResult> items, bool assignIds, CancellationToken cancellationToken)
    {
        foreach (var chunk in items.Chunk(StatementSize))
        {
            var entries = chunk.Select(i => i.Source).ToArray();
            var parameters = new
            {
                Ids = chunk.Select(i => i.Id).ToArray(),
                Names = chunk.Select(i => i.Name).ToArray(),
                Descriptions = entries.Select(e => e.Description).ToArray(),
                WorkflowIds = entries.Select(e => e.WorkflowId).ToArray(),
                Sources = entries.Select(e => e.Source).ToArray(),
                EventTypes = entries.Select(e => e.EventType).ToArray(),
                TargetNodeIds = entries.Select(e => e.TargetNodeId).ToArray(),
                Configs = entries.Select(e => e.ConfigJson).ToArray(),
                Actives = entries.Select(e => e.IsActive).ToArray(),
            };
            var ids = (await connection.QueryAsync<int>(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToArray();
            if (assignIds)
            {
                // RETURNING follows the unnest order for a plain INSERT ... SELECT without ORDER BY or joins.
                for (var i = 0; i < chunk.Length; i++)
                {
                    chunk[i].Id = ids[i];
                }
            }
        }
    }

    private static IEnumerable<TriggerField> ChangedFields(TriggerDocumentEntry entry, string name, TriggerRecord existing)
    {
        if (!string.Equals(name, existing.Name, StringComparison.Ordinal)) yield return TriggerField.Name;
        if (!string.Equals(entry.Description, existing.Description, StringComparison.Ordinal)) yield return TriggerField.Description;
        if (!string.Equals(entry.WorkflowId, existing.WorkflowId, StringComparison.Ordinal)) yield return TriggerField.WorkflowId;
        if (!string.Equals(entry.Source, existing.Source, StringComparison.Ordinal)) yield return TriggerField.Source;
        if (!string.Equals(entry.EventType, existing.EventType, StringComparison.Ordinal)) yield return TriggerField.EventType;
        if (!string.Equals(entry.TargetNodeId, existing.TargetNodeId, StringComparison.Ordinal)) yield return TriggerField.TargetNodeId;
        if (entry.IsActive != existing.IsActive) yield return TriggerField.IsActive;
        if (!string.Equals(entry.ConfigJson, TriggerDocument.CanonicalConfig(existing.ConfigJson), StringComparison.Ordinal)) yield return TriggerField.Config;
    }
}

using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Routing;

namespace WorkflowTriggers.Engine.Triggers;

/// <summary>
/// Creates, changes, switches and deletes triggers. Every write takes a whole batch in one statement (unnest of
/// arrays), so a pipeline of 100,000 objects costs a hundred round trips, not 100,000, and runs in one
/// transaction per batch.
/// </summary>
public sealed class TriggerWriter
{
    private readonly TriggerConnection _connection;
    private EngineTables? _tables;

    public TriggerWriter(TriggerConnection connection) => _connection = connection;

    private async Task<EngineTables> TablesAsync(CancellationToken cancellationToken) =>
        _tables ??= await _connection.ProbeTablesAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Creates the triggers with one INSERT per batch that returns what it wrote, in one transaction. Items whose workflow does not exist,
    /// or whose target node is not a node of their workflow (<see cref="RoutingRule"/>, unless <paramref name="force"/>),
    /// are refused, the rest written; the written rows come back in input order with their ids.
    /// </summary>
    /// <remarks>
    /// INSERT ... SELECT FROM unnest(...) RETURNING replaced a binary COPY, which cannot return rows: its ids were drawn
    /// from the sequence first and its rows read back by id. The server's insert work is the same either way; the
    /// extra rounds cost 0.3 s per 100,000 triggers (2026-11-29, psql on the server).
    /// With <paramref name="skipExisting"/>, a trigger whose workflow and name a row (or an earlier item) already has
    /// is left out, under a transaction lock that makes two such loads at once take turns, so neither creates what
    /// the other just did.
    /// </remarks>
    public async Task<BatchResult> InsertAsync(IReadOnlyList<NewTrigger> triggers, bool force, bool skipExisting, CancellationToken cancellationToken)
    {
        var result = new BatchResult();
        if (triggers.Count == 0)
        {
            return result;
        }

        var tables = await TablesAsync(cancellationToken).ConfigureAwait(false);
        return await _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                var known = await TriggerLookups.AcceptKnownWorkflowsAsync(connection, transaction, tables, triggers, t => t.WorkflowId, result, cancellationToken).ConfigureAwait(false);
                if (skipExisting)
                {
                    known = await LeaveOutExistingAsync(connection, transaction, known, result, cancellationToken).ConfigureAwait(false);
                }

                var broken = force
                    ? new HashSet<(string, string)>()
                    : await RoutingRule.BrokenAsync(connection, transaction, tables, known.Where(k => k.Item.TargetNodeId is not null).Select(k => (k.Item.WorkflowId, k.Item.TargetNodeId!)), cancellationToken).ConfigureAwait(false);
                var accepted = new List<NewTrigger>(known.Count);
                foreach (var (index, trigger) in known)
                {
                    if (trigger.TargetNodeId is { } node && broken.Contains((trigger.WorkflowId, node)))
                    {
                        result.Rejected.Add(new RejectedTrigger(index, TriggerRejection.NodeNotInWorkflow, WorkflowId: trigger.WorkflowId, NodeId: node));
                    }
                    else
                    {
                        accepted.Add(trigger);
                    }
                }

                if (accepted.Count == 0)
                {
                    return result;
                }

                // One statement inserts the batch and returns its rows: the values travel as one array per column,
                // and ids come from the sequence in the order given. Against COPY with ids reserved first and the rows
                // read back, it spares a nextval round of the whole batch and a second read (0.3 s per 100,000).
                var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                    InsertSql(tables),
                    new
                    {
                        Names = accepted.Select(t => TriggerRules.NormalizeName(t.Name)).ToArray(),
                        Descriptions = accepted.Select(t => t.Description).ToArray(),
                        WorkflowIds = accepted.Select(t => t.WorkflowId).ToArray(),
                        Sources = accepted.Select(t => t.Source).ToArray(),
                        EventTypes = accepted.Select(t => t.EventType).ToArray(),
                        TargetNodeIds = accepted.Select(t => t.TargetNodeId).ToArray(),
                        Configs = accepted.Select(t => t.ConfigJson ?? "{}").ToArray(),
                        Actives = accepted.Select(t => t.IsActive).ToArray(),
                    },
                    transaction,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
                result.Written.AddRange(rows);
                return result;
            },
            cancellationToken).ConfigureAwait(false);
    }

    // The columns in the order of TriggerColumns.Writable; WITH ORDINALITY keeps the order given.
    private static string InsertSql(EngineTables tables) => $"""
        WITH written AS (
            INSERT INTO workflow_triggers AS t ({TriggerColumns.WritableList})
            SELECT v.name, v.description, v.workflow_id, v.source, v.event_type, v.target_node_id, v.config::jsonb, v.is_active
            FROM unnest(@Names::text[], @Descriptions::text[], @WorkflowIds::text[], @Sources::text[], @EventTypes::text[], @TargetNodeIds::text[], @Configs::text[], @Actives::boolean[])
                WITH ORDINALITY AS v(name, description, workflow_id, source, event_type, target_node_id, config, is_active, n)
            ORDER BY v.n
            {TriggerColumns.Returning}
        )
        {TriggerColumns.SelectWritten(tables)}
        ORDER BY t.id
        """;

    private static async Task<List<(int Index, NewTrigger Item)>> LeaveOutExistingAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<(int Index, NewTrigger Item)> items, BatchResult result, CancellationToken cancellationToken)
    {
        const string existing = """
            SELECT t.id AS Id, t.name AS Name, t.workflow_id AS WorkflowId
            FROM workflow_triggers t JOIN unnest(@WorkflowIds::text[], @Names::text[]) AS k(workflow_id, name)
                ON t.workflow_id = k.workflow_id AND t.name = k.name
            """;
        await connection.ExecuteAsync(new CommandDefinition($"SELECT pg_advisory_xact_lock({LockKeys.IdempotentLoad})", transaction: transaction, commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var keys = items.Select(i => (i.Item.WorkflowId, Name: TriggerRules.NormalizeName(i.Item.Name))).ToArray();
        var found = (await connection.QueryAsync<TriggerKey>(new CommandDefinition(
                existing, new { WorkflowIds = keys.Select(k => k.WorkflowId).ToArray(), Names = keys.Select(k => k.Name).ToArray() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false))
            .GroupBy(k => (k.WorkflowId, k.Name))
            .ToDictionary(g => g.Key, g => g.OrderBy(k => k.Id).First());
        var kept = new List<(int Index, NewTrigger Item)>(items.Count);
        var seen = new HashSet<(string, string)>();
        for (var i = 0; i < items.Count; i++)
        {
            if (found.TryGetValue(keys[i], out var there))
            {
                result.Skipped.Add((items[i].Index, there));
            }
            else if (!seen.Add(keys[i]))
            {
                // The same trigger twice in one batch: the first one is created, the second is it.
                result.Skipped.Add((items[i].Index, new TriggerKey(0, keys[i].Name, keys[i].WorkflowId)));
            }
            else
            {
                kept.Add(items[i]);
            }
        }

        return kept;
    }

    /// <summary>
    /// Applies the changes in one statement; each change sets only the fields it gives, and only to a row still at the
    /// version it names (a change without one applies to the row as it is). A row that moved on is refused as
    /// changed since read, never overwritten. A change that moves a trigger to another workflow keeps its target node
    /// only if the node is in the new workflow (<see cref="RoutingRule"/>): else it is refused, unless it clears the
    /// node or <paramref name="force"/>.
    /// </summary>
    public async Task<BatchResult> UpdateAsync(IReadOnlyList<TriggerChange> changes, bool force, CancellationToken cancellationToken)
    {
        var tables = await TablesAsync(cancellationToken).ConfigureAwait(false);
        var keepsRoute = force || !RoutingRule.Applies(tables)
            ? string.Empty
            : $"AND (c.workflow_id IS NULL OR c.clear_target_node OR t.target_node_id IS NULL OR {RoutingRule.NodeInWorkflow("c.workflow_id", "t.target_node_id")})";
        var sql = $"""
            WITH changes AS (
                SELECT * FROM unnest(@Ids, @Versions, @Names, @WorkflowIds, @Sources, @EventTypes, @Configs, @SetDescriptions, @Descriptions, @ClearTargetNodes)
                    AS c(id, version, name, workflow_id, source, event_type, config, set_description, description, clear_target_node)
            ), written AS (
                UPDATE workflow_triggers t SET
                    name = coalesce(c.name, t.name),
                    workflow_id = coalesce(c.workflow_id, t.workflow_id),
                    source = coalesce(c.source, t.source),
                    event_type = coalesce(c.event_type, t.event_type),
                    config = coalesce(c.config::jsonb, t.config),
                    description = CASE WHEN c.set_description THEN c.description ELSE t.description END,
                    target_node_id = CASE WHEN c.clear_target_node THEN NULL ELSE t.target_node_id END,
                    updated_at = CURRENT_TIMESTAMP
                FROM changes c
                WHERE t.id = c.id AND {TriggerColumns.VersionMatches} {keepsRoute}
                {TriggerColumns.Returning}
            )
            """;

        var result = new BatchResult();
        if (changes.Count == 0)
        {
            return result;
        }

        return await _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                var accepted = await TriggerLookups.AcceptKnownWorkflowsAsync(connection, transaction, tables, changes, c => c.WorkflowId, result, cancellationToken).ConfigureAwait(false);

                var parameters = new
                {
                    Ids = accepted.Select(a => a.Item.Id).ToArray(),
                    Versions = accepted.Select(a => a.Item.Version).ToArray(),
                    Names = accepted.Select(a => a.Item.Name is null ? null : TriggerRules.NormalizeName(a.Item.Name)).ToArray(),
                    WorkflowIds = accepted.Select(a => a.Item.WorkflowId).ToArray(),
                    Sources = accepted.Select(a => a.Item.Source).ToArray(),
                    EventTypes = accepted.Select(a => a.Item.EventType).ToArray(),
                    Configs = accepted.Select(a => a.Item.ConfigJson).ToArray(),
                    SetDescriptions = accepted.Select(a => a.Item.SetDescription).ToArray(),
                    Descriptions = accepted.Select(a => a.Item.Description).ToArray(),
                    ClearTargetNodes = accepted.Select(a => a.Item.ClearTargetNode).ToArray(),
                };
                var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                    sql + "\n" + TriggerColumns.SelectWritten(tables), parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                var requested = new BatchResult();
                // A row skipped at its version was not moved: its node is not in the workflow it was to move to.
                await TriggerLookups.CollectExplainingRefusalsAsync(
                    connection, transaction, tables, requested, rows, accepted.Select(a => new VersionedId(a.Item.Id, a.Item.Version)).ToArray(),
                    (index, row) => new RejectedTrigger(index, TriggerRejection.NodeNotInWorkflow, row.Id, row.Key, accepted[index].Item.WorkflowId, row.TargetNodeId), cancellationToken).ConfigureAwait(false);
                result.Written.AddRange(requested.Written);
                // Positions in the accepted list back to positions in the batch.
                result.Rejected.AddRange(requested.Rejected.Select(r => r with { Index = accepted[r.Index].Index }));
                return result;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Activates or deactivates the triggers in one statement (each only at the version it names, if any). A trigger
    /// already in that state is reported as it is and not written: its updated_at and version stay.
    /// </summary>
    public Task<BatchResult> SetActiveAsync(IReadOnlyList<VersionedId> triggers, bool active, CancellationToken cancellationToken) =>
        WriteByIdAsync(
            "UPDATE workflow_triggers t SET is_active = @Active, updated_at = CURRENT_TIMESTAMP FROM requested c",
            triggers,
            active,
            cancellationToken,
            alreadyDone: "t.is_active IS NOT DISTINCT FROM @Active");

    /// <summary>Deletes the triggers in one statement (each only at the version it names, if any) and returns the rows as they were.</summary>
    public Task<BatchResult> DeleteAsync(IReadOnlyList<VersionedId> triggers, CancellationToken cancellationToken) =>
        WriteByIdAsync("DELETE FROM workflow_triggers t USING requested c", triggers, null, cancellationToken);

    /// <summary>
    /// Runs <paramref name="write"/> on the requested rows; with <paramref name="alreadyDone"/>, rows for which it
    /// holds are left unwritten and returned as they are, as if written.
    /// </summary>
    private async Task<BatchResult> WriteByIdAsync(string write, IReadOnlyList<VersionedId> triggers, bool? active, CancellationToken cancellationToken, string? alreadyDone = null)
    {
        var result = new BatchResult();
        if (triggers.Count == 0)
        {
            return result;
        }

        var tables = await TablesAsync(cancellationToken).ConfigureAwait(false);
        var sql = alreadyDone is null
            ? $"""
                WITH requested AS (
                    SELECT * FROM unnest(@Ids, @Versions) AS r(id, version)
                ), written AS (
                    {write}
                    WHERE t.id = c.id AND {TriggerColumns.VersionMatches}
                    {TriggerColumns.Returning}
                )
                {TriggerColumns.SelectWritten(tables)}
                """
            : $"""
                WITH requested AS (
                    SELECT * FROM unnest(@Ids, @Versions) AS r(id, version)
                ), changed AS (
                    {write}
                    WHERE t.id = c.id AND {TriggerColumns.VersionMatches} AND NOT ({alreadyDone})
                    {TriggerColumns.Returning}
                ), written AS (
                    SELECT * FROM changed
                    UNION ALL
                    SELECT t.*, {TriggerColumns.RowVersion} AS row_version
                    FROM workflow_triggers t JOIN requested c ON t.id = c.id
                    WHERE {TriggerColumns.VersionMatches} AND {alreadyDone}
                )
                {TriggerColumns.SelectWritten(tables)}
                """;
        var parameters = new { Ids = triggers.Select(t => t.Id).ToArray(), Versions = triggers.Select(t => t.Version).ToArray(), Active = active };
        return await _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(sql, parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await TriggerLookups.CollectExplainingRefusalsAsync(connection, transaction, tables, result, rows, triggers, null, cancellationToken).ConfigureAwait(false);
                return result;
            },
            cancellationToken).ConfigureAwait(false);
    }
}

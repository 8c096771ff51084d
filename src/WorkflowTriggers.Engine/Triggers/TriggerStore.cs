using System.Runtime.CompilerServices;
using System.Text;
using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers.Engine;

/// <summary>
/// Reads and writes workflow_triggers. Every write takes a whole batch in one statement (unnest of arrays), so a
/// pipeline of 100,000 objects costs a hundred round trips, not 100,000, and runs in one transaction per batch.
/// </summary>
public sealed class TriggerStore
{
    private readonly TriggerConnection _connection;
    private EngineTables? _tables;

    public TriggerStore(TriggerConnection connection) => _connection = connection;

    // The one select list of a trigger. {0} is the relation (the table or a CTE of written rows); the workflow's
    // name comes from the engine's workflows table only where it exists.
    private const string SelectWithWorkflow = """
        SELECT t.id AS Id, t.name AS Name, t.description AS Description, t.workflow_id AS WorkflowId,
               w.name AS WorkflowName, t.source AS Source, t.event_type AS EventType,
               t.target_node_id AS TargetNodeId, t.config::text AS ConfigJson,
               coalesce(t.is_active, false) AS IsActive, t.created_at AS CreatedAt, t.updated_at AS UpdatedAt
        FROM {0} t LEFT JOIN workflows w ON w.id = t.workflow_id
        """;

    private const string SelectWithoutWorkflow = """
        SELECT t.id AS Id, t.name AS Name, t.description AS Description, t.workflow_id AS WorkflowId,
               NULL::text AS WorkflowName, t.source AS Source, t.event_type AS EventType,
               t.target_node_id AS TargetNodeId, t.config::text AS ConfigJson,
               coalesce(t.is_active, false) AS IsActive, t.created_at AS CreatedAt, t.updated_at AS UpdatedAt
        FROM {0} t
        """;

    private static string Select(string relation, EngineTables tables) =>
        string.Format(tables.Workflows ? SelectWithWorkflow : SelectWithoutWorkflow, relation);

    /// <summary>The select list of triggers a write CTE named 'written' returned, aliased t.</summary>
    internal static string SelectWritten(EngineTables tables) => Select("written", tables);

    /// <summary>The select list of triggers from a relation, aliased t.</summary>
    internal static string SelectFrom(string relation, EngineTables tables) => Select(relation, tables);

    /// <summary>Which of the engine's tables this database has; asked once per store.</summary>
    public async Task<EngineTables> GetTablesAsync(CancellationToken cancellationToken) =>
        _tables ??= await _connection.RunAsync(c => EngineTables.ProbeAsync(c, cancellationToken), cancellationToken).ConfigureAwait(false);

    /// <summary>Streams the triggers that match every given filter, in id order, one row at a time.</summary>
    public async IAsyncEnumerable<TriggerRecord> QueryAsync(TriggerFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tables = await GetTablesAsync(cancellationToken).ConfigureAwait(false);
        if (filter.Orphans)
        {
            RequireWorkflows(tables);
        }

        var sql = new StringBuilder(Select("workflow_triggers", tables)).Append("\nWHERE true");
        // Each fragment is fixed text chosen by which filters are present; the values travel as parameters.
        if (filter.Ids is not null) sql.Append("\n  AND t.id = ANY(@Ids)");
        if (filter.NamePattern is not null) sql.Append("\n  AND t.name ~* @NameRegex");
        if (filter.WorkflowId is not null) sql.Append("\n  AND t.workflow_id = @WorkflowId");
        if (filter.Source is not null) sql.Append("\n  AND t.source = @Source");
        if (filter.EventType is not null) sql.Append("\n  AND t.event_type = @EventType");
        if (filter.TargetNodeId is not null) sql.Append("\n  AND t.target_node_id = @TargetNodeId");
        // Literal true/false rather than a parameter, so the planner can match the document's partial indexes
        // (WHERE is_active = true) also with a generic plan.
        if (filter.IsActive == true) sql.Append("\n  AND t.is_active = true");
        if (filter.IsActive == false) sql.Append("\n  AND t.is_active IS NOT TRUE");
        if (filter.Untargeted) sql.Append("\n  AND t.target_node_id IS NULL");
        if (filter.Orphans) sql.Append("\n  AND " + OrphanPredicate);
        sql.Append("\nORDER BY t.id");

        var parameters = new
        {
            Ids = filter.Ids?.ToArray(),
            NameRegex = filter.NamePattern is null ? null : WildcardTranslator.ToRegex(filter.NamePattern),
            filter.WorkflowId,
            filter.Source,
            filter.EventType,
            filter.TargetNodeId,
        };

        // Dapper's row parser over its own reader: typed rows, one at a time. (QueryUnbufferedAsync measured about
        // 4 ms more per call than this on the same query, which matters for lookups in monitoring loops.)
        await using var connection = await _connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        System.Data.Common.DbDataReader reader;
        try
        {
            reader = await connection.ExecuteReaderAsync(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw _connection.Translate(ex);
        }

        await using (reader.ConfigureAwait(false))
        {
            var parse = reader.GetRowParser<TriggerRecord>();
            while (true)
            {
                // Rows already in the driver's buffer do not look at the token; this makes Ctrl+C prompt.
                cancellationToken.ThrowIfCancellationRequested();
                bool more;
                try
                {
                    more = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    throw _connection.Translate(ex);
                }

                if (!more)
                {
                    yield break;
                }

                yield return parse(reader);
            }
        }
    }

    /// <summary>
    /// Up to <paramref name="limit"/> distinct values of a column that start with <paramref name="prefix"/>: for tab
    /// completion, so bounded by a short statement timeout rather than allowed to scan a large table for long.
    /// </summary>
    public Task<IReadOnlyList<string>> DistinctValuesAsync(TriggerColumn column, string prefix, int limit, CancellationToken cancellationToken)
    {
        // The column comes from a fixed list, never from the caller's text.
        var name = column switch
        {
            TriggerColumn.Source => "source",
            TriggerColumn.EventType => "event_type",
            TriggerColumn.WorkflowId => "workflow_id",
            TriggerColumn.TargetNodeId => "target_node_id",
            _ => throw new ArgumentOutOfRangeException(nameof(column)),
        };
        var sql = $"SELECT DISTINCT {name} FROM workflow_triggers WHERE {name} LIKE @Pattern ESCAPE '\\' ORDER BY 1 LIMIT @Limit";
        var pattern = prefix.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
        return _connection.InTransactionAsync<IReadOnlyList<string>>(
            async (connection, transaction) =>
            {
                await connection.ExecuteAsync(new CommandDefinition("SET LOCAL statement_timeout = '1500ms'", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                var values = await connection.QueryAsync<string>(new CommandDefinition(sql, new { Pattern = pattern, Limit = limit }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return values.ToArray();
            },
            cancellationToken);
    }

    /// <summary>Id, name and workflow of the given triggers that exist: to name them in prompts and errors.</summary>
    public Task<Dictionary<int, TriggerKey>> DescribeAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken) =>
        _connection.RunAsync(c => DescribeAsync(c, null, ids, cancellationToken), cancellationToken);

    private static async Task<Dictionary<int, TriggerKey>> DescribeAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        const string sql = "SELECT id AS Id, name AS Name, workflow_id AS WorkflowId FROM workflow_triggers WHERE id = ANY(@Ids)";
        var rows = await connection.QueryAsync<TriggerKey>(new CommandDefinition(sql, new { Ids = ids.ToArray() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Id);
    }

    /// <summary>
    /// Creates the triggers with one binary COPY per batch, in one transaction. Items whose workflow does not exist
    /// are refused, the rest written; the written rows come back in input order with their ids.
    /// </summary>
    /// <remarks>
    /// COPY cannot return rows, so ids are drawn from the table's sequence first and the rows read back by id.
    /// Measured against INSERT ... SELECT FROM unnest(...) RETURNING: COPY keeps the module near psql's \copy.
    /// </remarks>
    public async Task<BatchResult> InsertAsync(IReadOnlyList<NewTrigger> triggers, CancellationToken cancellationToken)
    {
        const string reserveIds = "SELECT nextval(pg_get_serial_sequence('workflow_triggers', 'id'))::int FROM generate_series(1, @Count)";
        const string copy = "COPY workflow_triggers (id, name, description, workflow_id, source, event_type, target_node_id, config, is_active) FROM STDIN (FORMAT BINARY)";

        var result = new BatchResult();
        if (triggers.Count == 0)
        {
            return result;
        }

        var tables = await GetTablesAsync(cancellationToken).ConfigureAwait(false);
        return await _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                var accepted = (await AcceptKnownWorkflowsAsync(connection, transaction, tables, triggers, t => t.WorkflowId, result, cancellationToken).ConfigureAwait(false))
                    .Select(a => a.Item)
                    .ToList();
                if (accepted.Count == 0)
                {
                    return result;
                }

                var ids = (await connection.QueryAsync<int>(new CommandDefinition(reserveIds, new { accepted.Count }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false)).ToArray();
                await using (var writer = await connection.BeginBinaryImportAsync(copy, cancellationToken).ConfigureAwait(false))
                {
                    for (var i = 0; i < accepted.Count; i++)
                    {
                        var trigger = accepted[i];
                        await writer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(ids[i], NpgsqlTypes.NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(Validation.TriggerRules.NormalizeName(trigger.Name), NpgsqlTypes.NpgsqlDbType.Varchar, cancellationToken).ConfigureAwait(false);
                        await WriteNullableAsync(writer, trigger.Description, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(trigger.WorkflowId, NpgsqlTypes.NpgsqlDbType.Varchar, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(trigger.Source, NpgsqlTypes.NpgsqlDbType.Varchar, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(trigger.EventType, NpgsqlTypes.NpgsqlDbType.Varchar, cancellationToken).ConfigureAwait(false);
                        await WriteNullableAsync(writer, trigger.TargetNodeId, NpgsqlTypes.NpgsqlDbType.Varchar, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(trigger.ConfigJson ?? "{}", NpgsqlTypes.NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(trigger.IsActive, NpgsqlTypes.NpgsqlDbType.Boolean, cancellationToken).ConfigureAwait(false);
                    }

                    await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
                }

                var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                    Select("workflow_triggers", tables) + "\nWHERE t.id = ANY(@Ids)\nORDER BY t.id", new { Ids = ids }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                result.Written.AddRange(rows);
                return result;
            },
            cancellationToken).ConfigureAwait(false);
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter writer, string? value, NpgsqlTypes.NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? writer.WriteNullAsync(cancellationToken) : writer.WriteAsync(value, type, cancellationToken);

    // The document's cleanup uses NOT IN (SELECT id FROM workflows), which matches nothing once workflows holds a
    // NULL id and cannot use an anti-join; NOT EXISTS has neither problem.
    private const string OrphanPredicate = "NOT EXISTS (SELECT 1 FROM workflows o WHERE o.id = t.workflow_id)";

    /// <summary>Fails with a MissingTable error when the engine's workflows table does not exist.</summary>
    public async Task RequireWorkflowsAsync(CancellationToken cancellationToken) =>
        RequireWorkflows(await GetTablesAsync(cancellationToken).ConfigureAwait(false));

    private void RequireWorkflows(EngineTables tables)
    {
        if (!tables.Workflows)
        {
            // Without the table every trigger would look orphaned: refuse rather than archive them all.
            throw TriggerEngineException.MissingTable("workflows", _connection.ToString(), "Without it orphaned triggers cannot be told from the others.");
        }
    }

    /// <summary>
    /// Archives (is_active = false, as the document's cleanup does) or deletes the given triggers, in one statement,
    /// if they are still orphans when the statement runs; the others are refused as not orphaned or not found.
    /// </summary>
    public async Task<BatchResult> CleanUpOrphansAsync(IReadOnlyList<int> ids, bool delete, CancellationToken cancellationToken)
    {
        var write = delete
            ? $"DELETE FROM workflow_triggers t WHERE t.id = ANY(@Ids) AND {OrphanPredicate} RETURNING t.*"
            : $"UPDATE workflow_triggers t SET is_active = false, updated_at = CURRENT_TIMESTAMP WHERE t.id = ANY(@Ids) AND {OrphanPredicate} RETURNING t.*";
        var result = new BatchResult();
        if (ids.Count == 0)
        {
            return result;
        }

        var tables = await GetTablesAsync(cancellationToken).ConfigureAwait(false);
        RequireWorkflows(tables);
        return await _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                    $"WITH written AS ({write})\n{Select("written", tables)}", new { Ids = ids.ToArray() }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                await CollectExplainingRefusalsAsync(connection, transaction, result, rows, ids, (index, key) => new RejectedTrigger(
                    index, TriggerRejection.NotAnOrphan, $"{key} is not an orphan: workflow '{key.WorkflowId}' exists, so it was not changed.", key.Id), cancellationToken).ConfigureAwait(false);
                return result;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Applies the changes in one statement; each change sets only the fields it gives.</summary>
    public async Task<BatchResult> UpdateAsync(IReadOnlyList<TriggerChange> changes, CancellationToken cancellationToken)
    {
        const string sql = """
            WITH changes AS (
                SELECT * FROM unnest(@Ids, @Names, @WorkflowIds, @Sources, @EventTypes, @Configs, @SetDescriptions, @Descriptions)
                    AS c(id, name, workflow_id, source, event_type, config, set_description, description)
            ), written AS (
                UPDATE workflow_triggers t SET
                    name = coalesce(c.name, t.name),
                    workflow_id = coalesce(c.workflow_id, t.workflow_id),
                    source = coalesce(c.source, t.source),
                    event_type = coalesce(c.event_type, t.event_type),
                    config = coalesce(c.config::jsonb, t.config),
                    description = CASE WHEN c.set_description THEN c.description ELSE t.description END,
                    updated_at = CURRENT_TIMESTAMP
                FROM changes c
                WHERE t.id = c.id
                RETURNING t.*
            )
            {0}
            """;

        var result = new BatchResult();
        if (changes.Count == 0)
        {
            return result;
        }

        var tables = await GetTablesAsync(cancellationToken).ConfigureAwait(false);
        return await _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                var accepted = await AcceptKnownWorkflowsAsync(connection, transaction, tables, changes, c => c.WorkflowId, result, cancellationToken).ConfigureAwait(false);

                var parameters = new
                {
                    Ids = accepted.Select(a => a.Item.Id).ToArray(),
                    Names = accepted.Select(a => a.Item.Name is null ? null : Validation.TriggerRules.NormalizeName(a.Item.Name)).ToArray(),
                    WorkflowIds = accepted.Select(a => a.Item.WorkflowId).ToArray(),
                    Sources = accepted.Select(a => a.Item.Source).ToArray(),
                    EventTypes = accepted.Select(a => a.Item.EventType).ToArray(),
                    Configs = accepted.Select(a => a.Item.ConfigJson).ToArray(),
                    SetDescriptions = accepted.Select(a => a.Item.SetDescription).ToArray(),
                    Descriptions = accepted.Select(a => a.Item.Description).ToArray(),
                };
                var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                    string.Format(sql, Select("written", tables)), parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                CollectInInputOrder(result, rows, accepted.Select(a => (a.Index, a.Item.Id)));
                return result;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sets (or, with a null node, clears) target_node_id. Unless <paramref name="force"/>, and where the engine's
    /// workflow_nodes table exists, a node that is not in the trigger's workflow is refused for that trigger.
    /// </summary>
    public async Task<BatchResult> SetTargetNodeAsync(IReadOnlyList<(int Id, string? NodeId)> requests, bool force, CancellationToken cancellationToken)
    {
        const string sql = """
            WITH requested AS (
                SELECT * FROM unnest(@Ids, @NodeIds) AS r(id, node_id)
            ), written AS (
                UPDATE workflow_triggers t SET target_node_id = r.node_id, updated_at = CURRENT_TIMESTAMP
                FROM requested r
                WHERE t.id = r.id {1}
                RETURNING t.*
            )
            {0}
            """;
        const string nodeInWorkflow = """
            AND (r.node_id IS NULL OR EXISTS (
                    SELECT 1 FROM workflow_nodes n WHERE n.workflow_id = t.workflow_id AND n.node_id = r.node_id))
            """;

        var result = new BatchResult();
        if (requests.Count == 0)
        {
            return result;
        }

        var tables = await GetTablesAsync(cancellationToken).ConfigureAwait(false);
        var checkNodes = !force && tables.WorkflowNodes;
        return await _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                var parameters = new
                {
                    Ids = requests.Select(r => r.Id).ToArray(),
                    NodeIds = requests.Select(r => r.NodeId).ToArray(),
                };
                var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                    string.Format(sql, Select("written", tables), checkNodes ? nodeInWorkflow : string.Empty),
                    parameters,
                    transaction,
                    cancellationToken: cancellationToken)).ConfigureAwait(false);
                // Only the triggers the update skipped need naming: absent, or their workflow lacks the node.
                await CollectExplainingRefusalsAsync(connection, transaction, result, rows, requests.Select(r => r.Id).ToArray(), (index, key) => new RejectedTrigger(
                    index,
                    TriggerRejection.NodeNotInWorkflow,
                    $"Node '{requests[index].NodeId}' is not a node of workflow '{key.WorkflowId}' (table workflow_nodes), so {key} was not changed. Use -Force to set it anyway.",
                    requests[index].NodeId), cancellationToken).ConfigureAwait(false);
                return result;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Activates or deactivates the triggers in one statement.</summary>
    public Task<BatchResult> SetActiveAsync(IReadOnlyList<int> ids, bool active, CancellationToken cancellationToken)
    {
        const string sql = """
            WITH written AS (
                UPDATE workflow_triggers t SET is_active = @Active, updated_at = CURRENT_TIMESTAMP
                WHERE t.id = ANY(@Ids)
                RETURNING t.*
            )
            {0}
            """;
        return WriteByIdAsync(sql, ids, new { Ids = ids.ToArray(), Active = active }, cancellationToken);
    }

    /// <summary>Deletes the triggers in one statement and returns the rows as they were.</summary>
    public Task<BatchResult> DeleteAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken)
    {
        const string sql = """
            WITH written AS (
                DELETE FROM workflow_triggers t WHERE t.id = ANY(@Ids) RETURNING t.*
            )
            {0}
            """;
        return WriteByIdAsync(sql, ids, new { Ids = ids.ToArray() }, cancellationToken);
    }

    private async Task<BatchResult> WriteByIdAsync(string sql, IReadOnlyList<int> ids, object parameters, CancellationToken cancellationToken)
    {
        var result = new BatchResult();
        if (ids.Count == 0)
        {
            return result;
        }

        var tables = await GetTablesAsync(cancellationToken).ConfigureAwait(false);
        var rows = await _connection.RunAsync(
            c => c.QueryAsync<TriggerRecord>(new CommandDefinition(string.Format(sql, Select("written", tables)), parameters, cancellationToken: cancellationToken)),
            cancellationToken).ConfigureAwait(false);
        CollectInInputOrder(result, rows, ids.Select((id, index) => (index, id)));
        return result;
    }

    /// <summary>
    /// As <see cref="CollectInInputOrder"/>, but a requested trigger that exists and was not written is refused with
    /// <paramref name="refusal"/> (the statement's condition said no) rather than as not found. Only those are looked up.
    /// </summary>
    private static async Task CollectExplainingRefusalsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, BatchResult result, IEnumerable<TriggerRecord> rows, IReadOnlyList<int> requestedIds,
        Func<int, TriggerKey, RejectedTrigger> refusal, CancellationToken cancellationToken)
    {
        var written = rows.ToList();
        var writtenIds = written.Select(r => r.Id).ToHashSet();
        var skipped = requestedIds.Where(id => !writtenIds.Contains(id)).Distinct().ToArray();
        var keys = skipped.Length == 0
            ? new Dictionary<int, TriggerKey>()
            : await DescribeAsync(connection, transaction, skipped, cancellationToken).ConfigureAwait(false);
        CollectInInputOrder(result, written, requestedIds.Select((id, index) => (index, id)), (index, id) => keys.TryGetValue(id, out var key) ? refusal(index, key) : NotFound(index, id));
    }

    private static void CollectInInputOrder(BatchResult result, IEnumerable<TriggerRecord> rows, IEnumerable<(int Index, int Id)> requested, Func<int, int, RejectedTrigger>? missing = null)
    {
        var written = rows.ToDictionary(r => r.Id);
        var reported = new HashSet<int>();
        foreach (var (index, id) in requested)
        {
            if (written.TryGetValue(id, out var row))
            {
                // A repeated id is one row; report it once.
                if (reported.Add(id))
                {
                    result.Written.Add(row);
                }
            }
            else
            {
                result.Rejected.Add((missing ?? NotFound)(index, id));
            }
        }
    }

    /// <summary>
    /// Where the engine's workflows table exists, refuses (into <paramref name="result"/>) the items that name a
    /// workflow it does not hold, in one query for the batch; returns the rest with their input positions.
    /// </summary>
    private static async Task<List<(int Index, T Item)>> AcceptKnownWorkflowsAsync<T>(
        NpgsqlConnection connection, NpgsqlTransaction transaction, EngineTables tables, IReadOnlyList<T> items, Func<T, string?> workflowOf, BatchResult result, CancellationToken cancellationToken)
    {
        var missing = await MissingWorkflowsAsync(connection, transaction, tables, items.Select(workflowOf).OfType<string>(), cancellationToken).ConfigureAwait(false);
        var accepted = new List<(int Index, T Item)>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            if (workflowOf(items[i]) is { } workflowId && missing.Contains(workflowId))
            {
                result.Rejected.Add(WorkflowNotFound(i, workflowId));
            }
            else
            {
                accepted.Add((i, items[i]));
            }
        }

        return accepted;
    }

    /// <summary>Of the given workflow ids, those the engine's workflows table does not hold (none when it does not exist).</summary>
    internal static async Task<HashSet<string>> MissingWorkflowsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, EngineTables tables, IEnumerable<string> workflowIds, CancellationToken cancellationToken)
    {
        var wanted = workflowIds.Distinct(StringComparer.Ordinal).ToArray();
        var missing = new HashSet<string>(StringComparer.Ordinal);
        if (tables.Workflows && wanted.Length > 0)
        {
            var found = await connection.QueryAsync<string>(new CommandDefinition(
                "SELECT id FROM workflows WHERE id = ANY(@Ids)", new { Ids = wanted }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            missing.UnionWith(wanted.Except(found, StringComparer.Ordinal));
        }

        return missing;
    }

    private static RejectedTrigger NotFound(int index, int id) =>
        new(index, TriggerRejection.NotFound, $"No workflow trigger has id {id}.", id);

    private static RejectedTrigger WorkflowNotFound(int index, string workflowId) =>
        new(index, TriggerRejection.WorkflowNotFound, $"Workflow '{workflowId}' does not exist (table workflows).", workflowId);
}

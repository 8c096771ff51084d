using Dapper;
using Npgsql;
using NpgsqlTypes;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers.Engine.Triggers;

/// <summary>
/// Creates, changes, switches and deletes triggers. Every write takes a whole batch in one statement (binary COPY or
/// unnest of arrays), so a pipeline of 100,000 objects costs a hundred round trips, not 100,000, and runs in one
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
        var copy = $"COPY workflow_triggers (id, {TriggerColumns.WritableList}) FROM STDIN (FORMAT BINARY)";

        var result = new BatchResult();
        if (triggers.Count == 0)
        {
            return result;
        }

        var tables = await TablesAsync(cancellationToken).ConfigureAwait(false);
        return await _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                var accepted = (await TriggerLookups.AcceptKnownWorkflowsAsync(connection, transaction, tables, triggers, t => t.WorkflowId, result, cancellationToken).ConfigureAwait(false))
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
                        // The values in the order of TriggerColumns.Writable.
                        var trigger = accepted[i];
                        await writer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(ids[i], NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(TriggerRules.NormalizeName(trigger.Name), NpgsqlDbType.Varchar, cancellationToken).ConfigureAwait(false);
                        await WriteNullableAsync(writer, trigger.Description, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(trigger.WorkflowId, NpgsqlDbType.Varchar, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(trigger.Source, NpgsqlDbType.Varchar, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(trigger.EventType, NpgsqlDbType.Varchar, cancellationToken).ConfigureAwait(false);
                        await WriteNullableAsync(writer, trigger.TargetNodeId, NpgsqlDbType.Varchar, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(trigger.ConfigJson ?? "{}", NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
                        await writer.WriteAsync(trigger.IsActive, NpgsqlDbType.Boolean, cancellationToken).ConfigureAwait(false);
                    }

                    await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
                }

                var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                    TriggerColumns.SelectFrom("workflow_triggers", tables) + "\nWHERE t.id = ANY(@Ids)\nORDER BY t.id", new { Ids = ids }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                result.Written.AddRange(rows);
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
            """;

        var result = new BatchResult();
        if (changes.Count == 0)
        {
            return result;
        }

        var tables = await TablesAsync(cancellationToken).ConfigureAwait(false);
        return await _connection.InTransactionAsync(
            async (connection, transaction) =>
            {
                var accepted = await TriggerLookups.AcceptKnownWorkflowsAsync(connection, transaction, tables, changes, c => c.WorkflowId, result, cancellationToken).ConfigureAwait(false);

                var parameters = new
                {
                    Ids = accepted.Select(a => a.Item.Id).ToArray(),
                    Names = accepted.Select(a => a.Item.Name is null ? null : TriggerRules.NormalizeName(a.Item.Name)).ToArray(),
                    WorkflowIds = accepted.Select(a => a.Item.WorkflowId).ToArray(),
                    Sources = accepted.Select(a => a.Item.Source).ToArray(),
                    EventTypes = accepted.Select(a => a.Item.EventType).ToArray(),
                    Configs = accepted.Select(a => a.Item.ConfigJson).ToArray(),
                    SetDescriptions = accepted.Select(a => a.Item.SetDescription).ToArray(),
                    Descriptions = accepted.Select(a => a.Item.Description).ToArray(),
                };
                var rows = await connection.QueryAsync<TriggerRecord>(new CommandDefinition(
                    sql + "\n" + TriggerColumns.SelectWritten(tables), parameters, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
                result.CollectInInputOrder(rows, accepted.Select(a => (a.Index, a.Item.Id)));
                return result;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Activates or deactivates the triggers in one statement.</summary>
    public Task<BatchResult> SetActiveAsync(IReadOnlyList<int> ids, bool active, CancellationToken cancellationToken) =>
        WriteByIdAsync(
            "UPDATE workflow_triggers t SET is_active = @Active, updated_at = CURRENT_TIMESTAMP WHERE t.id = ANY(@Ids) RETURNING t.*",
            ids,
            new { Ids = ids.ToArray(), Active = active },
            cancellationToken);

    /// <summary>Deletes the triggers in one statement and returns the rows as they were.</summary>
    public Task<BatchResult> DeleteAsync(IReadOnlyList<int> ids, CancellationToken cancellationToken) =>
        WriteByIdAsync("DELETE FROM workflow_triggers t WHERE t.id = ANY(@Ids) RETURNING t.*", ids, new { Ids = ids.ToArray() }, cancellationToken);

    private async Task<BatchResult> WriteByIdAsync(string write, IReadOnlyList<int> ids, object parameters, CancellationToken cancellationToken)
    {
        var result = new BatchResult();
        if (ids.Count == 0)
        {
            return result;
        }

        var tables = await TablesAsync(cancellationToken).ConfigureAwait(false);
        var rows = await _connection.RunAsync(
            c => c.QueryAsync<TriggerRecord>(new CommandDefinition($"WITH written AS ({write})\n{TriggerColumns.SelectWritten(tables)}", parameters, cancellationToken: cancellationToken)),
            cancellationToken).ConfigureAwait(false);
        result.CollectInInputOrder(rows, ids.Select((id, index) => (index, id)));
        return result;
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter writer, string? value, NpgsqlDbType type, CancellationToken cancellationToken) =>
        value is null ? writer.WriteNullAsync(cancellationToken) : writer.WriteAsync(value, type, cancellationToken);
}

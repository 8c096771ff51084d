using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;

namespace WorkflowTriggers.Engine.Connections;

/// <summary>Which table privileges a refused user lacks, asked of the server on a fresh connection.</summary>
internal static class MissingPrivileges
{
    /// <summary>
    /// The server says only "permission denied for table X": ask it which of the table privileges the module uses the
    /// user lacks, so the error names them. The refusal stands as it was when the question cannot be answered.
    /// </summary>
    internal static async Task<TriggerEngineException> ExplainAsync(
        TriggerEngineException denied, string table, Func<CancellationToken, ValueTask<NpgsqlConnection>> open, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT current_user AS UserName, array_remove(ARRAY[
                CASE WHEN NOT has_table_privilege(t.oid, 'SELECT') THEN 'SELECT' END,
                CASE WHEN NOT has_table_privilege(t.oid, 'INSERT') THEN 'INSERT' END,
                CASE WHEN NOT has_table_privilege(t.oid, 'UPDATE') THEN 'UPDATE' END,
                CASE WHEN NOT has_table_privilege(t.oid, 'DELETE') THEN 'DELETE' END], NULL) AS Missing
            FROM (SELECT to_regclass(@Table) AS oid) t WHERE t.oid IS NOT NULL
            """;
        try
        {
            await using var connection = await open(cancellationToken).ConfigureAwait(false);
            var row = await connection.QueryFirstOrDefaultAsync<(string UserName, string[] Missing)>(new CommandDefinition(sql, new { Table = table }, cancellationToken: cancellationToken)).ConfigureAwait(false);
            if (row.Missing is not { Length: > 0 } missing)
            {
                return denied;
            }

            return new TriggerEngineException(
                TriggerErrorKind.PermissionDenied,
                $"{denied.Message} User {row.UserName} lacks {string.Join(", ", missing)} on {table}; nothing was written.",
                denied.SqlState,
                denied.InnerException)
            {
                TableName = table,
                ErrorId = "PermissionDenied",
            };
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return denied;
        }
    }
}

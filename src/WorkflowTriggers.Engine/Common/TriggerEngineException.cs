using Npgsql;

namespace WorkflowTriggers.Engine.Common;

/// <summary>What went wrong, in terms a caller can map to its own error categories without Npgsql types.</summary>
public enum TriggerErrorKind
{
    ConnectionFailed,
    MissingTable,
    NotFound,
    InvalidArgument,
    ServerError,
    Timeout,
    Conflict,
    PermissionDenied,

    /// <summary>An object with one of the module's names is not provably the module's, so it is not used.</summary>
    Untrusted,
}

/// <summary>
/// Every database failure leaves the engine as this exception: the server's message, the SQLSTATE, a kind and the
/// facts a caller needs to word advice (<see cref="ErrorId"/>, <see cref="TableName"/>, <see cref="ColumnName"/>),
/// never a driver type, so the cmdlet assembly needs no reference to Npgsql. Messages state what is wrong with the
/// database or the data; they never name a cmdlet or a parameter: what to do about it is the cmdlet layer's to say.
/// </summary>
public sealed class TriggerEngineException : Exception
{
    public TriggerEngineException(TriggerErrorKind kind, string message, string? sqlState = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        SqlState = sqlState;
    }

    public TriggerErrorKind Kind { get; }

    public string? SqlState { get; }

    /// <summary>A stable error id more specific than <see cref="Kind"/>, where the engine knows one.</summary>
    public string? ErrorId { get; init; }

    /// <summary>
    /// The server refused the data itself (SQLSTATE classes 22 data exception, 23 integrity violation, 54 program
    /// limit such as an index row too large), not the connection or the statement: other rows of the same batch
    /// may be fine on their own.
    /// </summary>
    public bool IsRowRefusal => SqlState is { Length: 5 } state && (state.StartsWith("22", StringComparison.Ordinal) || state.StartsWith("23", StringComparison.Ordinal) || state.StartsWith("54", StringComparison.Ordinal));

    /// <summary>Name of the missing relation when <see cref="Kind"/> is <see cref="TriggerErrorKind.MissingTable"/>.</summary>
    public string? TableName { get; init; }

    /// <summary>For a lock wait that ran out: the sessions that held locks on the workflow tables, oldest transaction first.</summary>
    public IReadOnlyList<LockHolder> LockHolders { get; init; } = Array.Empty<LockHolder>();

    /// <summary>For BackfillAlreadyRunning: who holds the lease, as the server knows it.</summary>
    public LeaseHolder? LeaseHolder { get; init; }

    /// <summary>The owner of the object an <see cref="TriggerErrorKind.Untrusted"/> error is about.</summary>
    public string? ObjectOwner { get; init; }

    /// <summary>Name of the missing column, when the table exists but lacks one (a schema older than the module's).</summary>
    public string? ColumnName { get; init; }

    /// <summary>A table this operation needs is not in the database; <paramref name="why"/> says what it is needed for.</summary>
    internal static TriggerEngineException MissingTable(string table, string databaseDisplay, string? why = null) =>
        new(TriggerErrorKind.MissingTable, $"The table '{table}' does not exist in {databaseDisplay}.{(why is null ? string.Empty : " " + why)}") { TableName = table };

    internal static Exception Translate(Exception exception, string databaseDisplay)
    {
        switch (exception)
        {
            case TriggerEngineException or OperationCanceledException:
                return exception;
            case PostgresException pg when pg.SqlState == PostgresErrorCodes.UndefinedTable:
                var table = ExtractRelation(pg.MessageText);
                return new TriggerEngineException(
                    TriggerErrorKind.MissingTable,
                    $"The table '{table}' does not exist in {databaseDisplay}.",
                    pg.SqlState,
                    pg) { TableName = table };
            case PostgresException pg when pg.SqlState == PostgresErrorCodes.UndefinedColumn && pg.MessageText.Contains("target_node_id", StringComparison.Ordinal):
                return new TriggerEngineException(
                    TriggerErrorKind.MissingTable,
                    $"workflow_triggers in {databaseDisplay} has no target_node_id column: its schema is at version 1.0.0.",
                    pg.SqlState,
                    pg) { TableName = "workflow_triggers", ColumnName = "target_node_id" };
            case PostgresException pg when pg.SqlState == PostgresErrorCodes.QueryCanceled && pg.MessageText.Contains("timeout", StringComparison.OrdinalIgnoreCase):
                return new TriggerEngineException(TriggerErrorKind.Timeout, $"The server cancelled the statement: {pg.MessageText}", pg.SqlState, pg);
            case PostgresException pg when pg.SqlState == PostgresErrorCodes.QueryCanceled:
                // A cancel this process asked for arrives as an OperationCanceledException; this one came from elsewhere.
                return new TriggerEngineException(
                    TriggerErrorKind.ServerError,
                    $"The server cancelled the statement ({pg.MessageText}): another session ended it, for instance with pg_cancel_backend. Its transaction was rolled back.",
                    pg.SqlState,
                    pg) { ErrorId = "StatementCancelled" };
            case PostgresException pg when pg.SqlState == PostgresErrorCodes.InsufficientPrivilege:
                return new TriggerEngineException(TriggerErrorKind.PermissionDenied, $"The server refused: {pg.MessageText}.", pg.SqlState, pg)
                {
                    TableName = pg.MessageText.StartsWith("permission denied for table ", StringComparison.Ordinal) ? pg.MessageText["permission denied for table ".Length..] : null,
                };
            case PostgresException pg when pg.SqlState == PostgresErrorCodes.LockNotAvailable:
                return new TriggerEngineException(TriggerErrorKind.Timeout, $"The server stopped waiting for a lock: {pg.MessageText}. Another session holds it; nothing was changed.", pg.SqlState, pg);
            case PostgresException pg when pg.SqlState == PostgresErrorCodes.ProgramLimitExceeded && pg.MessageText.Contains("index row", StringComparison.Ordinal):
                return new TriggerEngineException(
                    TriggerErrorKind.InvalidArgument,
                    $"The row is too large for an index: {pg.MessageText}. The likely one is idx_trigger_lookup_covering, which INCLUDEs config, "
                    + "so an active trigger's config must fit in an index row (about 2.7 KB after compression).",
                    pg.SqlState,
                    pg);
            case PostgresException pg when pg.SqlState == PostgresErrorCodes.CheckViolation:
                return new TriggerEngineException(TriggerErrorKind.InvalidArgument, $"The server refused the row: {pg.MessageText} (constraint {pg.ConstraintName}).", pg.SqlState, pg);
            case PostgresException pg when pg.SqlState == PostgresErrorCodes.ForeignKeyViolation:
                return new TriggerEngineException(TriggerErrorKind.NotFound, $"The server refused the row: {pg.MessageText}.", pg.SqlState, pg);
            case PostgresException pg when pg.SqlState is "28P01" or "28000" or "3D000" or "57P01" or "57P03":
                return new TriggerEngineException(TriggerErrorKind.ConnectionFailed, $"The connection to {databaseDisplay} failed: {pg.MessageText}", pg.SqlState, pg);
            case PostgresException pg:
                return new TriggerEngineException(TriggerErrorKind.ServerError, $"The server reported an error: {pg.MessageText} (SQLSTATE {pg.SqlState}).", pg.SqlState, pg);
            case NpgsqlException { InnerException: TimeoutException } npgsql:
                return new TriggerEngineException(TriggerErrorKind.Timeout, $"Timed out talking to {databaseDisplay}: {npgsql.Message}", null, npgsql);
            case NpgsqlException npgsql:
                return new TriggerEngineException(TriggerErrorKind.ConnectionFailed, $"The connection to {databaseDisplay} failed: {Flatten(npgsql)}", null, npgsql);
            case TimeoutException timeout:
                return new TriggerEngineException(TriggerErrorKind.Timeout, $"Timed out talking to {databaseDisplay}: {timeout.Message}", null, timeout);
            case System.Net.Sockets.SocketException or IOException:
                return new TriggerEngineException(TriggerErrorKind.ConnectionFailed, $"The connection to {databaseDisplay} failed: {exception.Message}", null, exception);
            default:
                return exception;
        }
    }

    private static string Flatten(Exception exception)
    {
        var messages = new List<string>();
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (!messages.Contains(current.Message))
            {
                messages.Add(current.Message);
            }
        }

        return string.Join(" ", messages);
    }

    private static string ExtractRelation(string message)
    {
        // Server text: relation "workflow_triggers" does not exist
        var start = message.IndexOf('"');
        var end = start >= 0 ? message.IndexOf('"', start + 1) : -1;
        return start >= 0 && end > start ? message[(start + 1)..end] : message;
    }
}

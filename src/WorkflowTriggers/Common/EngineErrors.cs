using System.Management.Automation;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Turns the engine's facts (an exception's kind, error id and table; a violated rule; a refused item) into
/// ErrorRecords: a stable error id, a category, a target, and a message that ends with what to do. The engine's
/// messages say what is wrong and never name a cmdlet or parameter; the advice that does is worded here, once,
/// and also set as the record's RecommendedAction.
/// </summary>
internal static class EngineErrors
{
    private const string ForceAdvice = "Use -Force to set it anyway.";

    private const string ChangedSinceReadId = "TriggerChangedSinceRead";

    private const string ChangedAdvice = "Read it again and repeat the change, or use -Force to overwrite it.";

    /// <summary>An engine failure as an ErrorRecord; the engine exception stays as the inner exception.</summary>
    public static ErrorRecord From(TriggerEngineException exception, object? target)
    {
        var (id, category) = exception.Kind switch
        {
            TriggerErrorKind.ConnectionFailed => ("ConnectionFailed", ErrorCategory.ConnectionError),
            TriggerErrorKind.MissingTable => ("TableNotFound", ErrorCategory.ObjectNotFound),
            TriggerErrorKind.NotFound => ("NotFound", ErrorCategory.ObjectNotFound),
            TriggerErrorKind.InvalidArgument => ("InvalidArgument", ErrorCategory.InvalidArgument),
            TriggerErrorKind.Timeout => ("DatabaseTimeout", ErrorCategory.OperationTimeout),
            TriggerErrorKind.Conflict => ("Conflict", ErrorCategory.InvalidOperation),
            TriggerErrorKind.PermissionDenied => ("PermissionDenied", ErrorCategory.PermissionDenied),
            TriggerErrorKind.Untrusted => ("ForeignObject", ErrorCategory.SecurityError),
            _ => ("DatabaseError", ErrorCategory.InvalidOperation),
        };
        if (exception.ErrorId == "StatementCancelled")
        {
            category = ErrorCategory.OperationStopped;
        }

        return Record(exception, exception.ErrorId ?? id, category, exception.TableName ?? target, RemedyFor(exception));
    }

    /// <summary>An engine failure of one item, with an error id and category of the caller's choosing.</summary>
    public static ErrorRecord From(TriggerEngineException exception, string errorId, ErrorCategory category, object? target) =>
        Record(exception, errorId, category, target, RemedyFor(exception));

    /// <summary>A broken validation rule; <paramref name="context"/> (an import entry, say) goes before the rule's words.</summary>
    public static ErrorRecord Violation(RuleViolation violation, string? context = null, ErrorCategory category = ErrorCategory.InvalidArgument, object? target = null) =>
        new(new ArgumentException(context is null ? violation.Message : $"{context}: {violation.Message}", violation.Field), violation.ErrorId, category, target ?? violation.Value);

    /// <summary>An item a batched write refused, worded from the engine's facts; <paramref name="nodeAdvice"/> says how to get past the routing rule.</summary>
    public static ErrorRecord Rejection(RejectedTrigger rejected, string nodeAdvice = ForceAdvice) => rejected.Reason switch
    {
        TriggerRejection.WorkflowNotFound => new ErrorRecord(
            new ItemNotFoundException($"Workflow '{rejected.WorkflowId}' does not exist (table workflows)."),
            "WorkflowNotFound",
            ErrorCategory.ObjectNotFound,
            rejected.WorkflowId),
        TriggerRejection.NodeNotInWorkflow => Advised(
            new ErrorRecord(
                new ItemNotFoundException($"Node '{rejected.NodeId}' is not a node of workflow '{rejected.WorkflowId}' (table workflow_nodes), so {(rejected.Trigger?.ToString() ?? "the trigger")} was not written. {nodeAdvice}"),
                "NodeNotInWorkflow",
                ErrorCategory.ObjectNotFound,
                rejected.NodeId),
            nodeAdvice),
        TriggerRejection.NotAnOrphan => new ErrorRecord(
            new InvalidOperationException($"{rejected.Trigger} is not an orphan: workflow '{rejected.WorkflowId}' exists, so it was not changed."),
            "NotAnOrphan",
            ErrorCategory.InvalidOperation,
            rejected.TriggerId),
        TriggerRejection.ChangedSinceRead => Advised(
            new ErrorRecord(
                new InvalidOperationException($"{rejected.Trigger} changed while this command ran (last updated {rejected.ChangedAt:u}), so it was not overwritten. {ChangedAdvice}"),
                ChangedSinceReadId,
                ErrorCategory.InvalidOperation,
                rejected.TriggerId),
            ChangedAdvice),
        _ => NotFound(rejected.TriggerId ?? 0),
    };

    /// <summary>A piped trigger whose row changed after it was read: what differs now, and when it was last updated.</summary>
    public static ErrorRecord ChangedSinceRead(TriggerRecord current, IReadOnlyList<TriggerField> differing)
    {
        var what = differing.Count == 0 ? string.Empty : $"; its {string.Join(", ", differing)} {(differing.Count == 1 ? "is" : "are")} no longer what was read";
        return Advised(
            new ErrorRecord(
                new InvalidOperationException($"{current.Key} changed after it was read (last updated {current.UpdatedAt:u}{what}), so nothing was written to it. {ChangedAdvice}"),
                ChangedSinceReadId,
                ErrorCategory.InvalidOperation,
                current.Id),
            ChangedAdvice);
    }

    /// <summary>No trigger has the id (and, when <paramref name="filtered"/>, matches the other filters).</summary>
    public static ErrorRecord NotFound(int id, bool filtered = false) => new(
        new ItemNotFoundException($"No workflow trigger has id {id}{(filtered ? " and matches the other filters" : string.Empty)}."),
        "TriggerNotFound",
        ErrorCategory.ObjectNotFound,
        id);

    // What to do about an engine failure, from its facts; null when there is nothing more to say than the message.
    private static string? RemedyFor(TriggerEngineException exception) => exception switch
    {
        { Kind: TriggerErrorKind.MissingTable, TableName: "workflow_triggers", ColumnName: "target_node_id" } => "Run Install-TriggerSchema to upgrade it to the latest version.",
        { Kind: TriggerErrorKind.MissingTable, TableName: "workflow_triggers" } => "Run Install-TriggerSchema first.",
        { ErrorId: "BackfillAlreadyRunning", LeaseHolder: { Busy: false } and ({ Implausible: true } or { Connected: false }) } =>
            "If no backfill of yours is running, break the lease with Unlock-TriggerBackfill -Force (it shows the holder and asks first), then run again.",
        { ErrorId: "BackfillAlreadyRunning" } => "Wait for it with -Wait (bounded by -WaitTimeoutSeconds), or run again when it has finished; Unlock-TriggerBackfill -Force breaks a lease whose run is gone.",
        { ErrorId: "ForeignObject" } =>
            $"Find out who made {exception.TableName} and why (its owner is {exception.ObjectOwner}); if it is not the module's, rename or drop it as its owner or a superuser, then run the command again. See Get-Help about_WorkflowTriggers_Security.",
        { ErrorId: "BackfillLeaseLost" } => "Let the other run finish, or run again: a run continues with the triggers still without a node.",
        { ErrorId: "SearchPathIgnored" } => "Set the schema where the pooler cannot drop it: ALTER ROLE <user> IN DATABASE <database> SET search_path = <schema>, then leave Search Path out of the connection string; or connect to the server directly.",
        { ErrorId: "SessionRequired" } => "Connect to the PostgreSQL server itself (its own host and port, not the pooler's) for this; -Analyze and the other cmdlets work through the pooler.",
        { Kind: TriggerErrorKind.PermissionDenied } => "Ask the table's owner to GRANT the privileges the message names to this user, or connect as a user who has them.",
        { ErrorId: "StatementCancelled" } => "Find out who cancelled it (the server log names the session), then run the command again.",
        { ErrorId: "ReadOnlyServer" } => "Connect to the primary, or add 'Target Session Attributes=primary' to the connection string.",
        { ErrorId: "LockTimeout", LockHolders: [var holder, ..] } =>
            $"Wait for server process {holder.Pid} to end its transaction, or end it (SELECT pg_terminate_backend({holder.Pid})), then run the command again; where the cmdlet has -LockTimeoutSeconds, a longer one waits longer.",
        { ErrorId: "LockTimeout" } => "Run the command again; where the cmdlet has -LockTimeoutSeconds, a longer one waits longer.",
        _ => null,
    };

    private static ErrorRecord Record(TriggerEngineException exception, string errorId, ErrorCategory category, object? target, string? remedy)
    {
        var message = remedy is null ? exception.Message : $"{exception.Message} {remedy}";
        Exception error = category switch
        {
            ErrorCategory.ObjectNotFound => new ItemNotFoundException(message, exception),
            ErrorCategory.InvalidArgument => new ArgumentException(message, exception),
            ErrorCategory.OperationTimeout => new TimeoutException(message, exception),
            _ => new InvalidOperationException(message, exception),
        };
        var record = new ErrorRecord(error, errorId, category, target);
        return remedy is null ? record : Advised(record, remedy);
    }

    /// <summary>The record with a note after its message (what was done before the failure), its advice kept.</summary>
    public static ErrorRecord WithNote(ErrorRecord record, string note)
    {
        var remedy = record.ErrorDetails?.RecommendedAction;
        var message = record.ErrorDetails?.Message ?? record.Exception.Message;
        record.ErrorDetails = new ErrorDetails($"{message} {note}") { RecommendedAction = remedy };
        return record;
    }

    private static ErrorRecord Advised(ErrorRecord record, string remedy)
    {
        record.ErrorDetails = new ErrorDetails(record.Exception.Message) { RecommendedAction = remedy };
        return record;
    }
}

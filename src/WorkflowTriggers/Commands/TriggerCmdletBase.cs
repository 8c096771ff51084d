using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using WorkflowTriggers.Engine;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Validation;

namespace WorkflowTriggers.Commands;

/// <summary>
/// Ctrl+C cancels the engine work in flight (StopProcessing), and engine failures become ErrorRecords with the
/// server's message and no stack trace.
/// </summary>
public abstract class CancellableCmdletBase : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();

    protected CancellationToken Cancellation => _cancellation.Token;

    /// <summary>What a terminating database error names as its target.</summary>
    protected abstract object? ErrorTarget { get; }

    protected override void StopProcessing() => _cancellation.Cancel();

    public void Dispose()
    {
        // Work still in flight when the pipeline ends early (Select-Object -First downstream) is abandoned and
        // rolled back, not committed behind the user's back.
        _cancellation.Cancel();
        _cancellation.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Waits for engine work on the pipeline thread; a failure that stops the call becomes a terminating error.</summary>
    protected T Await<T>(Func<CancellationToken, Task<T>> work)
    {
        try
        {
            return AwaitEngine(work);
        }
        catch (TriggerEngineException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex, ErrorTarget));
            throw; // not reached: ThrowTerminatingError always throws
        }
    }

    /// <summary>As <see cref="Await{T}"/>, but engine failures reach the caller, which can report them per item.</summary>
    protected T AwaitEngine<T>(Func<CancellationToken, Task<T>> work)
    {
        try
        {
            return work(Cancellation).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested || Stopping)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>Reads a stream of engine rows on the pipeline thread, cancelling the query when the consumer stops early.</summary>
    protected IEnumerable<T> Stream<T>(IAsyncEnumerable<T> source)
    {
        var rows = source.GetAsyncEnumerator(Cancellation);
        var finished = false;
        try
        {
            while (true)
            {
                var more = Await(_ => rows.MoveNextAsync().AsTask());
                if (!more)
                {
                    finished = true;
                    yield break;
                }

                yield return rows.Current;
            }
        }
        finally
        {
            if (!finished)
            {
                // Stops the server sending the rest of the rows (Select-Object -First, Ctrl+C) instead of draining them.
                _cancellation.Cancel();
            }

            try
            {
                rows.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (Exception) when (!finished)
            {
                // The query was cancelled on purpose; its cancellation error is not news.
            }
        }
    }

    protected static ErrorRecord ToErrorRecord(TriggerEngineException exception, object? target)
    {
        var (id, category) = exception.Kind switch
        {
            TriggerErrorKind.ConnectionFailed => ("ConnectionFailed", ErrorCategory.ConnectionError),
            TriggerErrorKind.MissingTable => ("TableNotFound", ErrorCategory.ObjectNotFound),
            TriggerErrorKind.NotFound => ("NotFound", ErrorCategory.ObjectNotFound),
            TriggerErrorKind.InvalidArgument => ("InvalidArgument", ErrorCategory.InvalidArgument),
            TriggerErrorKind.Timeout => ("DatabaseTimeout", ErrorCategory.OperationTimeout),
            TriggerErrorKind.Conflict => ("Conflict", ErrorCategory.InvalidOperation),
            _ => ("DatabaseError", ErrorCategory.InvalidOperation),
        };
        return new ErrorRecord(exception, exception.ErrorId ?? id, category, exception.TableName ?? target);
    }

    protected void WriteViolation(RuleViolation violation) =>
        WriteError(new ErrorRecord(new ArgumentException(violation.Message, violation.Field), violation.ErrorId, ErrorCategory.InvalidArgument, violation.Value));

    protected void WriteNotFound(string errorId, string message, object? target) =>
        WriteError(new ErrorRecord(new ItemNotFoundException(message), errorId, ErrorCategory.ObjectNotFound, target));

    protected void WriteRejection(RejectedTrigger rejected)
    {
        if (rejected.Reason == TriggerRejection.NotAnOrphan)
        {
            WriteError(new ErrorRecord(new InvalidOperationException(rejected.Message), "NotAnOrphan", ErrorCategory.InvalidOperation, rejected.Target));
            return;
        }

        var errorId = rejected.Reason switch
        {
            TriggerRejection.WorkflowNotFound => "WorkflowNotFound",
            TriggerRejection.NodeNotInWorkflow => "NodeNotInWorkflow",
            _ => "TriggerNotFound",
        };
        WriteNotFound(errorId, rejected.Message, rejected.Target);
    }

}

/// <summary>
/// What every data cmdlet shares: -Connection/-ConnectionString and the fallbacks behind them, cancellation from
/// Ctrl+C, and turning engine failures into ErrorRecords that carry the server's message and never a password.
/// </summary>
public abstract class TriggerCmdletBase : CancellableCmdletBase
{
    public const string ConnectionVariable = "WORKFLOW_TRIGGERS_CONNECTION";

    private TriggerConnection? _database;

    /// <summary>A connection returned by Connect-TriggerDatabase -PassThru.</summary>
    [Parameter]
    [ValidateNotNull]
    public TriggerConnection? Connection { get; set; }

    /// <summary>An Npgsql connection string, used instead of the session's default connection.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConnectionString { get; set; }

    /// <summary>The database this call works on, resolved on first use.</summary>
    protected TriggerConnection Database => _database ??= ResolveConnection();

    protected override object? ErrorTarget => Database.ToString();

    /// <summary>True when -WhatIf is in force, by parameter or preference.</summary>
    protected bool WhatIfRequested =>
        MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf)
            ? LanguagePrimitives.IsTrue(whatIf)
            : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

    private TriggerConnection ResolveConnection()
    {
        if (Connection is not null && ConnectionString is not null)
        {
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException("Give either -Connection or -ConnectionString, not both."),
                "ConnectionAmbiguous",
                ErrorCategory.InvalidArgument,
                null));
        }

        var from = Connection is not null ? "-Connection" : ConnectionString is not null ? "-ConnectionString" : "$env:" + ConnectionVariable;
        try
        {
            var (connection, source) = ConnectionResolver.Resolve(Connection, ConnectionString);
            if (connection is null)
            {
                ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException(
                        "No database connection. Run Connect-TriggerDatabase, pass -Connection or -ConnectionString, " +
                        $"or set $env:{ConnectionVariable} to a PostgreSQL connection string."),
                    "NoConnection",
                    ErrorCategory.ConnectionError,
                    null));
            }

            WriteVerbose($"Using {connection} (from {source}).");
            return connection!;
        }
        catch (TriggerEngineException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex, from));
            throw;
        }
        catch (ArgumentException)
        {
            // Npgsql's message can echo the connection string; name the source instead.
            ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"The connection string in {from} is not valid for PostgreSQL."),
                "InvalidConnectionString",
                ErrorCategory.InvalidArgument,
                from));
            throw;
        }
    }
}

/// <summary>
/// Where a command's database comes from, in order: -Connection, -ConnectionString, the session's
/// Connect-TriggerDatabase, $env:WORKFLOW_TRIGGERS_CONNECTION. Shared by the cmdlets and tab completion.
/// </summary>
internal static class ConnectionResolver
{
    // One default per runspace, so thread jobs do not share it by accident.
    private static readonly ConditionalWeakTable<Runspace, TriggerConnection> SessionDefaults = new();

    internal static TriggerConnection? SessionDefault
    {
        get => Runspace.DefaultRunspace is { } runspace && SessionDefaults.TryGetValue(runspace, out var connection) ? connection : null;
        set
        {
            if (Runspace.DefaultRunspace is not { } runspace)
            {
                return;
            }

            SessionDefaults.Remove(runspace);
            if (value is not null)
            {
                SessionDefaults.Add(runspace, value);
            }
        }
    }

    /// <summary>The connection and where it came from; null when none of the sources gives one.</summary>
    internal static (TriggerConnection? Connection, string Source) Resolve(TriggerConnection? connection, string? connectionString)
    {
        if (connection is not null)
        {
            return (connection, "-Connection");
        }

        if (connectionString is not null)
        {
            return (TriggerConnection.For(connectionString), "-ConnectionString");
        }

        if (SessionDefault is { } connected)
        {
            return (connected, "Connect-TriggerDatabase");
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(TriggerCmdletBase.ConnectionVariable);
        return string.IsNullOrWhiteSpace(fromEnvironment)
            ? (null, string.Empty)
            : (TriggerConnection.For(fromEnvironment), "$env:" + TriggerCmdletBase.ConnectionVariable);
    }
}

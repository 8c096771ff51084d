using System.Management.Automation;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Commands;

/// <summary>
/// What every data cmdlet shares: -Connection/-ConnectionString and the fallbacks behind them, cancellation from
/// Ctrl+C, and turning engine failures into ErrorRecords that carry the server's message and never a password.
/// </summary>
public abstract class TriggerCmdletBase : CancellableCmdletBase
{
    private TriggerConnection? _database;

    /// <summary>A connection returned by Connect-TriggerDatabase -PassThru.</summary>
    [Parameter]
    [ValidateNotNull]
    public TriggerDatabase? Connection { get; set; }

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

    /// <summary>
    /// Sends all of this command's work, its reads included, to the primary when the connection reads from standbys,
    /// so it plans from the rows it will change. Then stops the command with ReadOnlyServer before anything is sent
    /// when the server takes no writes (a standby). Under -WhatIf nothing is written, so a standby can show the plan.
    /// A <paramref name="reason"/> goes with every write transaction of the command, for change history.
    /// </summary>
    protected void RequireWritable(string? reason = null)
    {
        if (TriggerRules.CheckReason(reason) is { } badReason)
        {
            ThrowTerminatingError(EngineErrors.Violation(badReason, target: reason));
        }

        _database = Database.ForWrites.WithChangeReason(reason);
        if (!WhatIfRequested)
        {
            Await(Database.RequireWritableAsync);
        }
    }

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

        var from = Connection is not null ? "-Connection" : ConnectionString is not null ? "-ConnectionString" : "$env:" + ConnectionResolver.EnvironmentVariable;
        try
        {
            var (connection, source) = ConnectionResolver.Resolve(Connection, ConnectionString);
            if (connection is null)
            {
                var elsewhere = ConnectionResolver.ConnectedElsewhere;
                var message = elsewhere is { } other
                    ? $"No database connection in this runspace. Connect-TriggerDatabase connected runspace {other.RunspaceId} to {other.Database}, and that connection stays in " +
                      "its runspace: a ForEach-Object -Parallel block or a thread job runs in a runspace of its own, so it never acts on a database by accident. " +
                      "Pass the connection in (-Connection $using:db, with $db from Connect-TriggerDatabase -PassThru), give -ConnectionString, " +
                      $"or set $env:{ConnectionResolver.EnvironmentVariable}, which every runspace of the process sees."
                    : "No database connection. Run Connect-TriggerDatabase, pass -Connection or -ConnectionString, " +
                      $"or set $env:{ConnectionResolver.EnvironmentVariable} to a PostgreSQL connection string.";
                var record = new ErrorRecord(new InvalidOperationException(message), "NoConnection", ErrorCategory.ConnectionError, null);
                if (elsewhere is not null)
                {
                    record.ErrorDetails = new ErrorDetails(message) { RecommendedAction = "Pass -Connection $using:db (from Connect-TriggerDatabase -PassThru) into the parallel block or thread job." };
                }

                ThrowTerminatingError(record);
            }

            WriteVerbose($"Using {connection} (from {source}).");
            return connection!;
        }
        catch (TriggerEngineException ex)
        {
            ThrowTerminatingError(EngineErrors.From(ex, from));
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

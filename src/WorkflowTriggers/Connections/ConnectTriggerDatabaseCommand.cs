using System.Management.Automation;
using WorkflowTriggers.Completers;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers.Commands;

/// <summary>Sets the session's default database, after proving it answers.</summary>
[Cmdlet(VerbsCommunications.Connect, "TriggerDatabase", DefaultParameterSetName = ConnectionStringSet)]
[OutputType(typeof(TriggerDatabase))]
public sealed class ConnectTriggerDatabaseCommand : CancellableCmdletBase
{
    private const string ConnectionStringSet = "ConnectionString";
    private const string ServerSet = "Server";

    private string _target = string.Empty;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ConnectionStringSet)]
    [ValidateNotNullOrEmpty]
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>host or host:port.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ServerSet)]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = string.Empty;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ServerSet)]
    [ValidateNotNullOrEmpty]
    public string Database { get; set; } = string.Empty;

    [Parameter(ParameterSetName = ServerSet)]
    [Credential]
    public PSCredential? Credential { get; set; }

    [Parameter(ParameterSetName = ServerSet)]
    [ArgumentCompleter(typeof(SslModeCompleter))]
    public string? SslMode { get; set; }

    /// <summary>
    /// Send reads to a standby when one is up (a primary when none is), and every command that writes to the primary.
    /// Needs the primary and its standbys in one multi-host connection string (Host=primary,standby1,...).
    /// </summary>
    [Parameter]
    public SwitchParameter ReadFromStandby { get; set; }

    /// <summary>Return the connection object as well as making it the session default.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override object? ErrorTarget => _target;

    protected override void EndProcessing()
    {
        TriggerConnection connection;
        try
        {
            var connectionString = ParameterSetName == ServerSet
                ? ConnectionSettings.FromParts(Server, Database, Credential?.UserName, Credential?.GetNetworkCredential().Password, SslMode)
                : ConnectionString;
            connection = TriggerConnection.For(connectionString, ReadFromStandby);
        }
        catch (TriggerEngineException ex)
        {
            ThrowTerminatingError(EngineErrors.From(ex, ParameterSetName == ServerSet ? Server : null));
            return;
        }
        catch (ArgumentException ex)
        {
            // Npgsql names a bad keyword or value; its message never holds the password, but the string might.
            var reason = ParameterSetName == ServerSet ? ex.Message : "it is not a valid PostgreSQL connection string";
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"Cannot connect: {reason}."), "InvalidConnectionString", ErrorCategory.InvalidArgument, null));
            return;
        }

        _target = connection.ToString();
        WriteVerbose($"Opening {connection}.");
        Await(connection.VerifyAsync);
        var database = new TriggerDatabase(connection);
        ConnectionResolver.SessionDefault = database;
        WriteVerbose($"Connected to {connection} (PostgreSQL {connection.ServerVersion}, schema {connection.Schema}{(connection.ReadsFromStandby ? "; reads go to a standby when one is up, writes to the primary" : string.Empty)}).");
        if (PassThru)
        {
            WriteObject(database);
        }
    }
}

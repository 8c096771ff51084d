using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers;

/// <summary>
/// A database the cmdlets talk to, as Connect-TriggerDatabase -PassThru returns it and -Connection takes it. It names
/// the server, database and user, and never carries the password.
/// </summary>
public sealed class TriggerDatabase
{
    internal TriggerDatabase(TriggerConnection engine) => Engine = engine;

    public string Host => Engine.Host;

    public int Port => Engine.Port;

    /// <summary>Every server the connection may use, each with the port it will be reached on.</summary>
    public IReadOnlyList<string> Hosts => Engine.Hosts;

    public string Database => Engine.Database;

    public string Username => Engine.Username;

    public string SslMode => Engine.SslMode;

    public int MaximumPoolSize => Engine.MaximumPoolSize;

    public int CommandTimeout => Engine.CommandTimeout;

    /// <summary>The server's version, as it answered when connected.</summary>
    public string? ServerVersion => Engine.ServerVersion;

    /// <summary>The schema unqualified names resolve to (the first of search_path that exists).</summary>
    public string? Schema => Engine.Schema;

    /// <summary>True when reads go to a standby when one is up, and writes to the primary (Connect-TriggerDatabase -ReadFromStandby).</summary>
    public bool ReadFromStandby => Engine.ReadsFromStandby;

    internal TriggerConnection Engine { get; }

    public override string ToString() => Engine.ToString();
}

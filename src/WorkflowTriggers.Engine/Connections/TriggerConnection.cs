using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;

namespace WorkflowTriggers.Engine.Connections;

/// <summary>
/// A database the module talks to: one pooled data source per effective connection string per process.
/// Its public surface names the database but never carries the password.
/// </summary>
public sealed class TriggerConnection
{
    private static readonly ConcurrentDictionary<string, TriggerConnection> Pool = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, TriggerConnection> StandbyReadPool = new(StringComparer.Ordinal);

    private readonly NpgsqlDataSource _dataSource;

    private readonly TriggerConnection? _forWrites;

    private readonly ServerSessions _sessions;

    private TriggerConnection(string effectiveConnectionString, bool readFromStandby)
    {
        var builder = new NpgsqlConnectionStringBuilder(effectiveConnectionString);
        Host = builder.Host ?? "localhost";
        Port = builder.Port;
        Hosts = ConnectionSettings.Hosts(Host, Port);
        Database = builder.Database ?? builder.Username ?? string.Empty;
        Username = builder.Username ?? Environment.UserName;
        SslMode = builder.SslMode.ToString();
        MaximumPoolSize = builder.MaxPoolSize;
        CommandTimeout = builder.CommandTimeout;

        var sourceBuilder = new NpgsqlDataSourceBuilder(effectiveConnectionString);
        _sessions = new ServerSessions(builder.SearchPath);
        sourceBuilder.UsePhysicalConnectionInitializer(
            _ => throw new NotSupportedException("The module opens connections asynchronously."),
            _sessions.InitializeAsync);

        if (!readFromStandby)
        {
            _dataSource = sourceBuilder.Build();
            return;
        }

        if (Hosts.Count < 2)
        {
            throw new TriggerEngineException(
                TriggerErrorKind.InvalidArgument,
                $"Reading from a standby needs the primary and its standbys in one multi-host connection string (Host=primary,standby1,...); {this} names one server.");
        }

        // One set of hosts, two routes: reads prefer a standby (a primary when none is up), writes only a primary.
        var hosts = sourceBuilder.BuildMultiHost();
        _dataSource = hosts.WithTargetSession(TargetSessionAttributes.PreferStandby);
        ReadsFromStandby = true;
        _forWrites = new TriggerConnection(this, hosts.WithTargetSession(TargetSessionAttributes.Primary));
    }

    // The primary-only route of a connection that reads from standbys: the same database, settings and display.
    private TriggerConnection(TriggerConnection reads, NpgsqlDataSource primary)
    {
        (Host, Port, Hosts, Database, Username, SslMode, MaximumPoolSize, CommandTimeout) =
            (reads.Host, reads.Port, reads.Hosts, reads.Database, reads.Username, reads.SslMode, reads.MaximumPoolSize, reads.CommandTimeout);
        _dataSource = primary;
        _sessions = reads._sessions;
    }

    /// <summary>
    /// Why the writes of this connection are made: set in each of its write transactions (transaction-local, so it
    /// never stays on a pooled session or reaches another client's writes), where change history records it.
    /// </summary>
    public string? ChangeReason { get; private init; }

    /// <summary>This connection, its writes recorded in change history with <paramref name="reason"/>.</summary>
    public TriggerConnection WithChangeReason(string? reason) =>
        string.IsNullOrEmpty(reason) ? this : new TriggerConnection(this, _dataSource) { ChangeReason = reason, ServerVersion = ServerVersion, Schema = Schema };

    /// <summary>
    /// Sets <see cref="ChangeReason"/> for the rest of <paramref name="transaction"/>, empty when there is none: a
    /// session-level reason another client of a pooled server session left behind is never recorded as this write's.
    /// </summary>
    internal Task ApplyChangeReasonAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            "SELECT set_config(@Setting, @Reason, true)", new { Setting = History.ChangeHistory.ReasonSetting, Reason = ChangeReason ?? string.Empty }, transaction, cancellationToken: cancellationToken));

    /// <summary>True when reads go to a standby when one is up (and writes to the primary, through <see cref="ForWrites"/>).</summary>
    public bool ReadsFromStandby { get; }

    /// <summary>
    /// The connection a command that writes uses for all of its work, reads included, so it plans from the data it
    /// will change: the primary route when reads go to standbys, else this connection itself.
    /// </summary>
    public TriggerConnection ForWrites => _forWrites ?? this;

    public string Host { get; }

    public int Port { get; }

    /// <summary>
    /// Every server the connection may use, each with the port Npgsql will use for it: a multi-host string's port
    /// applies only to hosts that do not name their own.
    /// </summary>
    public IReadOnlyList<string> Hosts { get; }

    public string Database { get; }

    public string Username { get; }

    public string SslMode { get; }

    public int MaximumPoolSize { get; }

    public int CommandTimeout { get; }

    /// <summary>The server's version, known after <see cref="VerifyAsync"/>.</summary>
    public string? ServerVersion { get; private set; }

    /// <summary>The schema unqualified names resolve to (the first of search_path that exists).</summary>
    public string? Schema { get; private set; }

    public override string ToString() => Hosts.Count == 1
        ? $"Host={Host};Port={Port};Database={Database};Username={Username}"
        : $"Host={string.Join(",", Hosts)};Database={Database};Username={Username}";

    /// <summary>The shared connection for this connection string, creating its pool the first time.</summary>
    public static TriggerConnection For(string connectionString, bool readFromStandby = false)
    {
        var effective = ConnectionSettings.Effective(connectionString);
        return readFromStandby
            ? StandbyReadPool.GetOrAdd(effective, static cs => new TriggerConnection(cs, readFromStandby: true))
            : Pool.GetOrAdd(effective, static cs => new TriggerConnection(cs, readFromStandby: false));
    }

    /// <summary>Opens a connection to prove the database answers, and learns its version and schema.</summary>
    public async Task VerifyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var row = await connection.QuerySingleAsync<(string Version, string? Schema)>(
            new CommandDefinition("SELECT current_setting('server_version'), current_schema()", cancellationToken: cancellationToken)).ConfigureAwait(false);
        ServerVersion = row.Version;
        Schema = row.Schema;
    }

    internal async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw Translate(ex);
        }
    }

    /// <summary>Runs work on a pooled connection and turns driver failures into <see cref="TriggerEngineException"/>.</summary>
    internal async Task<T> RunAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        Exception failure;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await work(connection).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = Translate(ex);
        }

        throw await ExplainAsync(failure, clock.Elapsed, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A translated failure with what the server can add: the privileges a refused user lacks, or who held the locks
    /// a statement gave up waiting for (<paramref name="waited"/> is how long it ran).
    /// </summary>
    internal async Task<Exception> ExplainAsync(Exception failure, TimeSpan waited, CancellationToken cancellationToken) => failure switch
    {
        TriggerEngineException { Kind: TriggerErrorKind.PermissionDenied, TableName: { } table } denied =>
            await MissingPrivileges.ExplainAsync(denied, table, _dataSource.OpenConnectionAsync, cancellationToken).ConfigureAwait(false),
        TriggerEngineException { Kind: TriggerErrorKind.Timeout, ErrorId: null } timedOut =>
            await LockWait.ExplainAsync(timedOut, waited, CommandTimeout, ToString(), _dataSource.OpenConnectionAsync, cancellationToken).ConfigureAwait(false),
        _ => failure,
    };

    /// <summary>
    /// Runs work that only reads. A pooled connection the server has closed since it was last used (a restart, a
    /// failover, pg_terminate_backend, idle_session_timeout) fails on its first use; a read has changed nothing, so
    /// it runs once more on a fresh connection instead of failing the command.
    /// </summary>
    internal async Task<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken, TimeSpan? lockTimeout = null)
    {
        if (lockTimeout is { } bounded)
        {
            // A lock timeout is set per transaction: the read runs in one.
            var inner = work;
            work = async c =>
            {
                await using var transaction = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await LockWait.SetAsync(c, transaction, bounded, cancellationToken).ConfigureAwait(false);
                return await inner(c).ConfigureAwait(false);
            };
        }

        try
        {
            return await RunAsync(work, cancellationToken).ConfigureAwait(false);
        }
        catch (TriggerEngineException ex) when (ex.Kind == TriggerErrorKind.ConnectionFailed)
        {
            // Translate has cleared the pool: the other connections the server closed go with this one.
            return await RunAsync(work, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs work in one transaction: all of it is written, or none of it (also on cancellation). A write is never run
    /// twice: when the connection fails, the error says whether anything may have been committed.
    /// </summary>
    internal Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken, TimeSpan? lockTimeout = null) =>
        RunAsync(
            async connection =>
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                if (lockTimeout is { } bounded)
                {
                    await LockWait.SetAsync(connection, transaction, bounded, cancellationToken).ConfigureAwait(false);
                }

                T result;
                try
                {
                    await ApplyChangeReasonAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
                    result = await work(connection, transaction).ConfigureAwait(false);
                }
                catch (Exception ex) when (Translate(ex) is TriggerEngineException { Kind: TriggerErrorKind.ConnectionFailed } failed)
                {
                    throw new TriggerEngineException(failed.Kind, $"{failed.Message} Its transaction was not committed: nothing of it was written.", failed.SqlState, ex)
                    {
                        ErrorId = failed.ErrorId,
                        TableName = failed.TableName,
                        ColumnName = failed.ColumnName,
                    };
                }

                try
                {
                    await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (Translate(ex) is TriggerEngineException { Kind: TriggerErrorKind.ConnectionFailed } failed)
                {
                    // The COMMIT may have reached the server before the connection broke: only the database can tell.
                    throw new TriggerEngineException(failed.Kind, $"{failed.Message} It broke while committing, so the batch may or may not have been written.", failed.SqlState, ex)
                    {
                        ErrorId = "CommitOutcomeUnknown",
                    };
                }

                return result;
            },
            cancellationToken);

    /// <summary>Whether the server takes writes: a standby in recovery, or read-only transactions, do not.</summary>
    public Task<ServerRole> GetRoleAsync(CancellationToken cancellationToken) =>
        ReadAsync(
            c => c.QuerySingleAsync<ServerRole>(new CommandDefinition(ServerRole.Sql, cancellationToken: cancellationToken)),
            cancellationToken);

    /// <summary>Fails with ReadOnlyServer, before anything is sent, when the server takes no writes.</summary>
    public async Task RequireWritableAsync(CancellationToken cancellationToken)
    {
        var role = await ForWrites.GetRoleAsync(cancellationToken).ConfigureAwait(false);
        if (role.IsStandby || role.ReadOnly)
        {
            throw new TriggerEngineException(
                TriggerErrorKind.Conflict,
                role.IsStandby
                    ? $"{this} is a standby (in recovery): it takes no writes."
                    : $"{this} accepts only read-only transactions (default_transaction_read_only): it takes no writes.")
            {
                ErrorId = "ReadOnlyServer",
            };
        }
    }

    /// <summary>
    /// The tables a query last found here. A reader writes its query for them and checks them in the same round trip,
    /// writing the query again when they changed: a hint that saves a round trip, never trusted unchecked.
    /// </summary>
    internal EngineTables? LastSeenTables { get; set; }

    /// <summary>True when statements prepared on this connection's sessions stay prepared (no pooler between).</summary>
    internal bool StatementsStayPrepared => _sessions.StatementsStayPrepared;

    /// <summary>Which of the module's and the engine's tables this database has, asked now (callers cache it per command).</summary>
    internal Task<EngineTables> ProbeTablesAsync(CancellationToken cancellationToken) =>
        ReadAsync(c => EngineTables.ProbeAsync(c, cancellationToken), cancellationToken);

    internal Exception Translate(Exception exception)
    {
        var translated = TriggerEngineException.Translate(exception, ToString());
        if (translated is TriggerEngineException { Kind: TriggerErrorKind.ConnectionFailed })
        {
            // The server may have dropped every connection of this pool (restart, terminate): start afresh rather
            // than hand out the other dead ones one failure at a time.
            _dataSource.Clear();
        }

        return translated;
    }
}

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

    private readonly NpgsqlDataSource _dataSource;

    private TriggerConnection(string effectiveConnectionString)
    {
        _dataSource = NpgsqlDataSource.Create(effectiveConnectionString);
        var builder = new NpgsqlConnectionStringBuilder(effectiveConnectionString);
        Host = builder.Host ?? "localhost";
        Port = builder.Port;
        Hosts = ConnectionSettings.Hosts(Host, Port);
        Database = builder.Database ?? builder.Username ?? string.Empty;
        Username = builder.Username ?? Environment.UserName;
        SslMode = builder.SslMode.ToString();
        MaximumPoolSize = builder.MaxPoolSize;
        CommandTimeout = builder.CommandTimeout;
    }

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
    public static TriggerConnection For(string connectionString)
    {
        var effective = ConnectionSettings.Effective(connectionString);
        return Pool.GetOrAdd(effective, static cs => new TriggerConnection(cs));
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
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            return await work(connection).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw Translate(ex);
        }
    }

    /// <summary>
    /// Runs work that only reads. A pooled connection the server has closed since it was last used (a restart, a
    /// failover, pg_terminate_backend, idle_session_timeout) fails on its first use; a read has changed nothing, so
    /// it runs once more on a fresh connection instead of failing the command.
    /// </summary>
    internal async Task<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken cancellationToken)
    {
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
    internal Task<T> InTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(
            async connection =>
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                T result;
                try
                {
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
        var role = await GetRoleAsync(cancellationToken).ConfigureAwait(false);
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

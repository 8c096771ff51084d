using System.Runtime.CompilerServices;
using Dapper;
using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Routing;

/// <summary>Which untargeted triggers a backfill considers: all, or only these workflows and/or these ids.</summary>
public sealed record BackfillScope(IReadOnlyList<string>? WorkflowIds = null, IReadOnlyList<int>? Ids = null)
{
    internal string Predicate =>
        (WorkflowIds is null ? string.Empty : " AND t.workflow_id = ANY(@WorkflowIds)") + (Ids is null ? string.Empty : " AND t.id = ANY(@Ids)");
}

/// <summary>One line of a backfill's plan: a workflow's untargeted triggers and the node they would get.</summary>
public sealed class BackfillPlanEntry
{
    public string WorkflowId { get; init; } = string.Empty;
    public int TriggerCount { get; init; }

    /// <summary>The workflow's first input node; null when it has none, and its triggers are skipped.</summary>
    public string? NodeId { get; init; }

    public int MinId { get; init; }
    public int MaxId { get; init; }

    public string Action => NodeId is null ? "SkipNoInputNode" : "SetTargetNode";
}

/// <summary>What one committed batch of a backfill did.</summary>
public sealed class BackfillBatch
{
    public int Number { get; init; }

    /// <summary>The lowest and highest id the batch updated; 0 when it updated none.</summary>
    public int FromId { get; init; }
    public int ToId { get; init; }
    public int Updated { get; init; }

    /// <summary>The updated triggers, when the run was asked to return them.</summary>
    public IReadOnlyList<TriggerRecord> Rows { get; init; } = Array.Empty<TriggerRecord>();

    /// <summary>How far through the table's pages (or the given ids) the run is, 0 to 100.</summary>
    public double PercentComplete { get; init; }
}

/// <summary>
/// The document's "Populate Target Nodes" data migration, done right: set-based, one transaction per batch, one run
/// at a time per schema. A stop loses at most the batch in flight, and a re-run picks up the triggers still without a
/// node, so it continues where the last one stopped.
/// </summary>
public sealed partial class TriggerBackfill
{
    public const int DefaultBatchSize = 10_000;

    /// <summary>How long a statement of a run waits for a lock before the run stops, unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The lease that lets one backfill run at a time in a schema (each schema has its own lease table).</summary>
    internal const string LeaseName = "backfill";

    // Each workflow's first input node, taken once at the start of a run. A table of the module's, not a temp table:
    // behind a transaction pooler each batch may run on another server session. Unlogged, as it is rebuilt by each run.
    internal const string NodesTable = "workflow_triggers_backfill_nodes";

    internal static readonly ModuleTable NodesTableDefinition = new(NodesTable, new ModuleColumn[]
    {
        new("workflow_id", "text", "PRIMARY KEY"),
        new("node_id", "text", "NOT NULL"),
    }, Unlogged: true);

    private readonly TriggerConnection _connection;

    public TriggerBackfill(TriggerConnection connection) => _connection = connection;

    /// <summary>
    /// Per workflow, the untargeted triggers in scope and the node each would get. Writes nothing, and waits at most
    /// <paramref name="lockTimeout"/> for a lock (a table locked by another session's ALTER or LOCK TABLE).
    /// </summary>
    public async Task<IReadOnlyList<BackfillPlanEntry>> PlanAsync(BackfillScope scope, CancellationToken cancellationToken, TimeSpan? lockTimeout = null)
    {
        var sql = $"""
            WITH first_input AS (
                {WorkflowGraph.FirstInputNodesSql}
            )
            SELECT t.workflow_id AS WorkflowId, count(*)::int AS TriggerCount, f.node_id AS NodeId, min(t.id) AS MinId, max(t.id) AS MaxId
            FROM workflow_triggers t LEFT JOIN first_input f ON f.workflow_id = t.workflow_id
            WHERE t.target_node_id IS NULL{scope.Predicate}
            GROUP BY t.workflow_id, f.node_id
            ORDER BY t.workflow_id
            """;
        return await _connection.ReadAsync(
            async c =>
            {
                WorkflowGraph.RequireGraph(await EngineTables.ProbeAsync(c, cancellationToken).ConfigureAwait(false), _connection.ToString());
                var rows = await c.QueryAsync<BackfillPlanEntry>(new CommandDefinition(sql, Parameters(scope), commandTimeout: 0, cancellationToken: cancellationToken)).ConfigureAwait(false);
                return (IReadOnlyList<BackfillPlanEntry>)rows.ToList();
            },
            cancellationToken,
            lockTimeout ?? DefaultLockTimeout).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs the backfill, yielding each batch after it commits. Takes the schema's backfill lease first: if another
    /// backfill holds it, fails with a Conflict naming that run, or waits for it as long as <paramref name="wait"/> says.
    /// Only triggers still without a node are written, so a node set concurrently is never overwritten. No session
    /// state is kept between transactions, so a transaction-pooling PgBouncer may hand each batch to another session.
    /// Each transaction waits at most <paramref name="lockTimeout"/> for a lock: a row another session holds stops
    /// the run with the batches before it committed, instead of waiting without end.
    /// </summary>
    public async IAsyncEnumerable<BackfillBatch> RunAsync(
        BackfillScope scope, int batchSize, TimeSpan? wait, bool returnRows, [EnumeratorCancellation] CancellationToken cancellationToken, TimeSpan? lockTimeout = null)
    {
        var lockWait = lockTimeout ?? DefaultLockTimeout;
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        }

        await using var connection = await _connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var tables = await Guard(() => EngineTables.ProbeAsync(connection, cancellationToken)).ConfigureAwait(false);
        WorkflowGraph.RequireGraph(tables, _connection.ToString());
        var lease = await Guard(() => TakeLeaseAsync(connection, wait, cancellationToken)).ConfigureAwait(false);
        try
        {
            var walk = await Guard(() => PrepareAsync(connection, lease, scope, batchSize, lockWait, cancellationToken)).ConfigureAwait(false);
            if (walk is null)
            {
                yield break;
            }

            var number = 0;
            foreach (var range in walk.Ranges())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var written = await Guard(() => WriteBatchAsync(connection, lease, scope, range, returnRows, tables, lockWait, cancellationToken)).ConfigureAwait(false);
                yield return written.Report(++number, walk.PercentComplete(range));
            }

            // Rows another session updated while the run walked the table may have moved to pages it had passed: the
            // untargeted triggers that were there when it began and are still without a node get theirs now.
            while (scope.Ids is null)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var written = await Guard(() => WriteBatchAsync(connection, lease, scope, walk.Leftovers(), returnRows, tables, lockWait, cancellationToken)).ConfigureAwait(false);
                if (written.Updated == 0)
                {
                    break;
                }

                yield return written.Report(++number, 100);
            }
        }
        finally
        {
            // A cancelled statement can leave the connection unusable; the lease then expires on its own.
            if (connection.State == System.Data.ConnectionState.Open)
            {
                try
                {
                    await lease.ReleaseAsync(connection).ConfigureAwait(false);
                }
                catch (NpgsqlException)
                {
                }
            }
        }
    }

    /// <summary>Takes the schema's backfill lease, waiting for it or failing with a Conflict that names its holder.</summary>
    private async Task<Lease> TakeLeaseAsync(NpgsqlConnection connection, TimeSpan? wait, CancellationToken cancellationToken)
    {
        var (lease, holder) = await Lease.AcquireAsync(connection, LeaseName, wait, _connection.ToString(), cancellationToken).ConfigureAwait(false);
        return lease ?? throw Running(holder!, wait);
    }

    /// <summary>The holder of the schema's backfill lease, or null when no backfill holds it. Writes nothing.</summary>
    public Task<LeaseHolder?> GetLeaseAsync(CancellationToken cancellationToken) =>
        _connection.ReadAsync(c => Lease.ReadAsync(c, LeaseName, _connection.ToString(), cancellationToken), cancellationToken);

    /// <summary>
    /// Breaks the schema's backfill lease held by <paramref name="holder"/> (as <see cref="GetLeaseAsync"/> read it),
    /// so the next backfill may start. False when it changed hands or was released meanwhile; a lease whose row a
    /// batch is writing under is not broken (a lock timeout says so).
    /// </summary>
    public Task<bool> BreakLeaseAsync(LeaseHolder holder, CancellationToken cancellationToken) =>
        _connection.ForWrites.RunAsync(c => Lease.BreakAsync(c, LeaseName, holder, _connection.ToString(), cancellationToken), cancellationToken);

    private TriggerEngineException Running(LeaseHolder h, TimeSpan? waited)
    {
        var session = h.ServerProcessId is { } pid
            ? $"server process {pid}{(h.BackendStart is { } start ? $" started {start.ToUniversalTime():u}" : string.Empty)}, client address {h.ClientAddress ?? "local socket"}"
            : "a server session the lease does not name";
        var state = h switch
        {
            { Busy: true } => "A batch of it is being written right now.",
            { Implausible: true } => $"Its lease runs until {h.ExpiresAt.ToUniversalTime():u}, longer than any backfill takes one for: it was not written by a backfill.",
            { Connected: false } => "That server session is no longer connected; the lease expires on its own unless another session renews it.",
            _ => string.Empty,
        };
        return new TriggerEngineException(
            TriggerErrorKind.Conflict,
            $"Another backfill holds the lease on {_connection}{(waited is { } w ? $" (waited {w.TotalSeconds:N0} s)" : string.Empty)}: taken {h.AcquiredAt.ToUniversalTime():u} by database user {h.User} " +
            $"({session}; the client says host {h.Host}, process {h.ProcessId}, application '{h.Application}'). Its lease expires at {h.ExpiresAt.ToUniversalTime():u} unless that run writes another batch. {state}".TrimEnd())
        {
            ErrorId = "BackfillAlreadyRunning",
            LeaseHolder = h,
        };
    }

    private TriggerEngineException LeaseLost() => new(
        TriggerErrorKind.Conflict,
        $"This backfill's lease on {_connection} expired (no batch for {Lease.Duration.TotalSeconds:N0} s) and another backfill took it over; " +
        "this run stopped before writing its next batch, and the batches already reported are committed.")
    {
        ErrorId = "BackfillLeaseLost",
    };

    private static object Parameters(BackfillScope scope) => new { WorkflowIds = scope.WorkflowIds?.ToArray(), Ids = scope.Ids?.ToArray() };

    private async Task<T> Guard<T>(Func<Task<T>> work)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Exception failure;
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = _connection.Translate(ex);
        }

        // The run's own token may be the one that stopped it: the question about lock holders gets a fresh one.
        throw await _connection.ExplainAsync(failure, clock.Elapsed, CancellationToken.None).ConfigureAwait(false);
    }
}

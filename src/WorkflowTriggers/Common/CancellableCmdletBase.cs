using System.Management.Automation;
using WorkflowTriggers.Engine.Common;

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
            ThrowTerminatingError(EngineErrors.From(ex, ErrorTarget));
            throw; // not reached: ThrowTerminatingError always throws
        }
    }

    /// <summary>As <see cref="Await{T}"/> for work that returns nothing.</summary>
    protected void Await(Func<CancellationToken, Task> work) =>
        Await(async ct =>
        {
            await work(ct).ConfigureAwait(false);
            return true;
        });

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

    /// <summary>
    /// Reads a stream of engine rows on the pipeline thread, cancelling the query when the consumer stops early. An
    /// engine failure is a terminating error, or with <paramref name="engineErrorsReachCaller"/> reaches the caller,
    /// which can say what was done before it.
    /// </summary>
    protected IEnumerable<T> Stream<T>(IAsyncEnumerable<T> source, bool engineErrorsReachCaller = false)
    {
        var rows = source.GetAsyncEnumerator(Cancellation);
        var finished = false;
        try
        {
            while (true)
            {
                var more = engineErrorsReachCaller ? AwaitEngine(_ => rows.MoveNextAsync().AsTask()) : Await(_ => rows.MoveNextAsync().AsTask());
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
}

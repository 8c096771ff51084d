namespace WorkflowTriggers.Commands;

/// <summary>
/// Collects piped items into batches and hands each full batch to one callback, so a pipeline of 100,000 objects is
/// a hundred statements, not 100,000. The one batching mechanism of the cmdlets.
/// </summary>
internal sealed class PipelineBatch<T>
{
    private readonly List<T> _items = new();
    private readonly HashSet<int> _keys = new();
    private readonly int _size;
    private readonly Action<IReadOnlyList<T>> _process;

    public PipelineBatch(int size, Action<IReadOnlyList<T>> process)
    {
        _size = size;
        _process = process;
    }

    public int Count => _items.Count;

    /// <summary>Queues an item. A <paramref name="key"/> already in the batch starts a new one, so each statement changes a row once.</summary>
    public void Add(T item, int? key = null)
    {
        if (key is { } k && !_keys.Add(k))
        {
            Flush();
            _keys.Add(k);
        }

        _items.Add(item);
        if (_items.Count >= _size)
        {
            Flush();
        }
    }

    /// <summary>Hands the queued items, if any, to the callback.</summary>
    public void Flush()
    {
        if (_items.Count == 0)
        {
            return;
        }

        var batch = _items.ToArray();
        _items.Clear();
        _keys.Clear();
        _process(batch);
    }
}

using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>
/// A test class with a fresh database of its own per test (xunit makes one instance per test), dropped afterwards.
/// Derived classes set it up in <see cref="SetUpAsync"/>.
/// </summary>
public abstract class DatabaseTest : IAsyncLifetime
{
    protected TestDatabase Db { get; } = new();

    protected TriggerConnection Connection => Db.Connection;

    public async Task InitializeAsync()
    {
        await Db.InitializeAsync();
        await SetUpAsync();
    }

    public async Task DisposeAsync()
    {
        await TearDownAsync();
        await Db.DisposeAsync();
    }

    protected virtual Task SetUpAsync() => Task.CompletedTask;

    /// <summary>Runs before the database is dropped, also when the test failed.</summary>
    protected virtual Task TearDownAsync() => Task.CompletedTask;

    /// <summary>The module's schema at the latest version, with or without the workflows foreign key.</summary>
    protected Task InstallSchemaAsync(bool addForeignKey = true) => new SchemaInstaller(Connection).ApplyAsync(null, false, addForeignKey, default);

    /// <summary>The engine's tables (workflows, graph, execution logs), then <paramref name="rowsSql"/> to fill them.</summary>
    protected Task AddEngineTablesAsync(string rowsSql = "") => Db.ExecuteAsync(TestDatabase.EngineTablesSql + rowsSql);

    protected static async Task<List<T>> ListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}

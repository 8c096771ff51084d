using Npgsql;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>
/// Roles of one test, named with a prefix of its own (roles belong to the whole server, and tests run side by side),
/// each able to log in with a password (so the tests hold on a server that asks for one). Disposing drops what
/// they own and hold in the test's database, then the roles.
/// </summary>
public sealed class TestRoles : IAsyncDisposable
{
    private const string Password = "wt-test-password";

    private readonly TestDatabase _db;
    private readonly List<string> _names = new();

    public TestRoles(TestDatabase db) => _db = db;

    public string Prefix { get; } = "wt" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>A role that logs in, named prefix_suffix, with <paramref name="grantsSql"/> ({0} stands for its name) run after.</summary>
    public async Task<string> LoginAsync(string suffix, string grantsSql = "")
    {
        var name = $"{Prefix}_{suffix}";
        _names.Add(name);
        await _db.ExecuteAsync($"CREATE ROLE {name} LOGIN PASSWORD '{Password}';\n" + grantsSql.Replace("{0}", name));
        return name;
    }

    /// <summary>Roles the code under test made with this prefix, dropped with the others.</summary>
    public void Track(params string[] names) => _names.AddRange(names);

    /// <summary>The test database, logged in as <paramref name="role"/>, optionally with a search path.</summary>
    public string ConnectionStringFor(string role, string? searchPath = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(_db.ConnectionString) { Username = role, Password = Password };
        if (searchPath is not null)
        {
            builder.SearchPath = searchPath;
        }

        return builder.ConnectionString;
    }

    /// <summary>Runs <paramref name="sql"/> logged in as <paramref name="role"/>.</summary>
    public async Task ExecuteAsAsync(string role, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionStringFor(role));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        foreach (var name in _names.Distinct())
        {
            await _db.ExecuteAsync($"""
                DO $$ BEGIN
                    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
                        EXECUTE 'DROP OWNED BY {name} CASCADE';
                        EXECUTE 'DROP ROLE {name}';
                    END IF;
                END $$;
                """);
        }
    }
}

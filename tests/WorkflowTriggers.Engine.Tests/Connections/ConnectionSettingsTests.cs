using Npgsql;
using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;

namespace WorkflowTriggers.Engine.Tests;

public class ConnectionSettingsTests
{
    [Fact]
    public void Document_pool_defaults_apply_where_the_string_is_silent()
    {
        var effective = new NpgsqlConnectionStringBuilder(ConnectionSettings.Effective("Host=db;Database=engine"));
        Assert.Equal(50, effective.MaxPoolSize);
        Assert.Equal(30, effective.Timeout);
        Assert.Equal(30, effective.CommandTimeout);
        Assert.Equal(3600, effective.ConnectionLifetime);
    }

    [Fact]
    public void The_connection_string_overrides_every_default()
    {
        var effective = new NpgsqlConnectionStringBuilder(ConnectionSettings.Effective(
            "Host=db;Database=engine;Maximum Pool Size=7;Timeout=5;Command Timeout=9;Connection Lifetime=60;Application Name=ops"));
        Assert.Equal(7, effective.MaxPoolSize);
        Assert.Equal(5, effective.Timeout);
        Assert.Equal(9, effective.CommandTimeout);
        Assert.Equal(60, effective.ConnectionLifetime);
        Assert.Equal("ops", effective.ApplicationName);
    }

    [Fact]
    public void Describing_a_connection_never_shows_the_password()
    {
        const string secret = "s3cr3t-Pa55";
        var connection = TriggerConnection.For($"Host=db;Port=5433;Database=engine;Username=ops;Password={secret}");
        Assert.DoesNotContain(secret, connection.ToString());
        foreach (var property in typeof(TriggerConnection).GetProperties())
        {
            Assert.DoesNotContain(secret, property.GetValue(connection)?.ToString() ?? string.Empty);
        }
    }

    [Theory]
    [InlineData("db01", "db01", null)]
    [InlineData("db01:5433", "db01", 5433)]
    [InlineData("[::1]:5432", "::1", 5432)]
    [InlineData("::1", "::1", null)]
    public void Server_splits_into_host_and_port(string server, string host, int? port) =>
        Assert.Equal((host, port), ConnectionSettings.SplitServer(server));

    [Fact]
    public void An_unknown_ssl_mode_names_the_valid_ones()
    {
        var error = Assert.Throws<TriggerEngineException>(() => ConnectionSettings.FromParts("db01", "engine", null, null, "Sometimes"));
        Assert.Equal(TriggerErrorKind.InvalidArgument, error.Kind);
        Assert.Contains("Require", error.Message);
        Assert.Contains("Sometimes", error.Message);
    }

    [Theory]
    [InlineData("Host=db;Databse=engine;Password=pw-Never-Shown-42", "'Databse' is not a keyword of PostgreSQL connection strings; did you mean 'Database'?")]
    [InlineData("Host=db;Pasword=pw-Never-Shown-42", "'Pasword' is not a keyword of PostgreSQL connection strings; did you mean 'Password'?")]
    [InlineData("Host=db;Port=fifty;Password=pw-Never-Shown-42", "'fifty' is not a valid value for 'Port'.")]
    [InlineData("Host=db;SSL Mode=Sometimes;Password=pw-Never-Shown-42", "'Sometimes' is not a valid value for 'SSL Mode'; it is one of Disable, Allow, Prefer, Require, VerifyCA, VerifyFull.")]
    [InlineData("Host=db;Password='pw-Never-Shown-42", "it is not a list of key=value pairs separated by semicolons (look for an unbalanced quote")]
    public void A_bad_connection_string_names_the_keyword_or_value_at_fault_and_never_the_password(string connectionString, string expected)
    {
        var error = Assert.Throws<TriggerEngineException>(() => ConnectionSettings.Effective(connectionString));
        Assert.Equal("InvalidConnectionString", error.ErrorId);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("pw-Never-Shown-42", error.Message);
    }

    [Fact]
    public void A_multi_host_string_shows_each_host_with_the_port_it_will_use()
    {
        var connection = TriggerConnection.For("Host=a:1,b,[::1]:6432;Port=5433;Database=engine;Username=ops");
        Assert.Equal(new[] { "a:1", "b:5433", "[::1]:6432" }, connection.Hosts);
        Assert.Equal("Host=a:1,b:5433,[::1]:6432;Database=engine;Username=ops", connection.ToString());
        Assert.Equal("Host=db;Port=5433;Database=engine;Username=ops", TriggerConnection.For("Host=db;Port=5433;Database=engine;Username=ops").ToString());
    }
}

using Npgsql;
using WorkflowTriggers.Engine.Schema;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>The schema's CHECK constraints and the module's validation are one rule: the installed text and the verdicts agree.</summary>
public class CheckConstraintTests : DatabaseTest
{
    protected override Task SetUpAsync() => InstallSchemaAsync();

    [Theory]
    [InlineData("chk_source_format", TriggerRules.SourcePattern)]
    [InlineData("chk_event_type_format", TriggerRules.EventTypePattern)]
    public async Task The_installed_constraint_holds_the_rules_pattern(string constraint, string pattern)
    {
        var definition = await Db.ScalarAsync<string>($"SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = '{constraint}'");
        Assert.Contains($"'{pattern}'", definition);
    }

    [Fact]
    public async Task The_installed_name_length_is_the_rules()
    {
        var definition = await Db.ScalarAsync<string>("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'chk_trigger_name_valid'");
        Assert.Contains($">= {TriggerRules.MinNameLength}", definition);
        Assert.Contains($"<= {TriggerRules.MaxLength}", definition);
    }

    [Theory]
    [InlineData("pdf-monitor-event-source", "pdf_file_added")]
    [InlineData("a1", "e")]
    [InlineData("Pdf-source", "pdf_file_added")]
    [InlineData("pdf-source-", "pdf_file_added")]
    [InlineData("pdf_source", "Pdf_file")]
    [InlineData("pdf-source\n", "pdf_file_added\n")]
    [InlineData("x", "1st")]
    [InlineData("pdf-source", "file-added")]
    public async Task The_server_refuses_exactly_what_the_rules_refuse(string source, string eventType)
    {
        var moduleAccepts = TriggerRules.CheckSource(source) is null && TriggerRules.CheckEventType(eventType) is null;
        await using var connection = new NpgsqlConnection(Db.ConnectionString);
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand("INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('Rule check', 'wf_1', @source, @eventType)", connection);
        insert.Parameters.AddWithValue("source", source);
        insert.Parameters.AddWithValue("eventType", eventType);
        var serverAccepts = true;
        try
        {
            await insert.ExecuteNonQueryAsync();
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.CheckViolation)
        {
            serverAccepts = false;
        }

        Assert.Equal(moduleAccepts, serverAccepts);
    }
}

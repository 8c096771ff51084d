using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Triggers;
using static WorkflowTriggers.Engine.Tests.TriggerTestData;

namespace WorkflowTriggers.Engine.Tests;

public class TriggerReaderTests : DatabaseTest
{
    private TriggerReader _reader = null!;

    protected override async Task SetUpAsync()
    {
        await InstallSchemaAsync();
        _reader = new TriggerReader(Connection);
    }

    private Task<List<TriggerRecord>> QueryAsync(TriggerFilter filter) => ListAsync(_reader.QueryAsync(filter, default));

    [Fact]
    public async Task Filters_combine_and_wildcards_match_case_insensitively()
    {
        await new TriggerWriter(Connection).InsertAsync(new[]
        {
            Sample("Invoice PDFs", node: "pdf_input_validator"),
            Sample("invoice archive"),
            Sample("Reports", workflow: "wf_000000000002"),
            new NewTrigger("Nightly", "wf_bd11290f923b", "scheduler-event-source", "cron_trigger", IsActive: false),
        }, false, false, default);

        Assert.Equal(2, (await QueryAsync(new TriggerFilter { NamePattern = "INVOICE*" })).Count);
        Assert.Single(await QueryAsync(new TriggerFilter { NamePattern = "invoice*", Untargeted = true }));
        Assert.Single(await QueryAsync(new TriggerFilter { TargetNodeIds = new[] { "pdf_input_validator" } }));
        Assert.Equal(2, (await QueryAsync(new TriggerFilter { Sources = new[] { "pdf-monitor-event-source" }, EventTypes = new[] { "pdf_file_added" }, WorkflowIds = new[] { "wf_bd11290f923b" } })).Count);

        // Several values, wildcards (as -like: whole and without regard to case), and both at once.
        var all = await QueryAsync(new TriggerFilter());
        var sources = all.Select(t => t.Source).Distinct().ToArray();
        Assert.True(sources.Length >= 2);
        Assert.Equal(all.Count, (await QueryAsync(new TriggerFilter { Sources = sources })).Count);
        Assert.Equal(all.Count(t => t.Source.StartsWith("pdf-", StringComparison.Ordinal)), (await QueryAsync(new TriggerFilter { Sources = new[] { "PDF-*" } })).Count);
        Assert.Empty(await QueryAsync(new TriggerFilter { Sources = new[] { "pdf-" } }));
        Assert.Equal(all.Count, (await QueryAsync(new TriggerFilter { Sources = new[] { "pdf-*", sources.First(s => !s.StartsWith("pdf-", StringComparison.Ordinal)) } })).Count);
        Assert.Equal("InvalidNamePattern", (await Assert.ThrowsAsync<TriggerEngineException>(() => QueryAsync(new TriggerFilter { EventTypes = new[] { "[z-a]*" } }))).ErrorId);
        Assert.Equal("Nightly", (await QueryAsync(new TriggerFilter { IsActive = false })).Single().Name);
        Assert.Equal(3, (await QueryAsync(new TriggerFilter { IsActive = true })).Count);
    }

    [Fact]
    public async Task Query_streams_and_cancels()
    {
        await new TriggerWriter(Connection).InsertAsync(Enumerable.Range(1, 3000).Select(i => Sample($"Bulk {i}")).ToArray(), false, false, default);
        using var cancellation = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in _reader.QueryAsync(new TriggerFilter(), cancellation.Token))
            {
                if (++seen == 10)
                {
                    cancellation.Cancel();
                }
            }
        });
        Assert.InRange(seen, 10, 2999);
    }

    [Fact]
    public async Task Stopping_early_ends_the_statement_on_the_server_instead_of_reading_every_remaining_row()
    {
        const int rows = 150_000;
        // Only the primary key: the rows go in fast, and the id-ordered read is an index scan whose fetches the
        // server counts, so the rows it produced can be told from the rows the caller took.
        await Db.ExecuteAsync($"""
            DROP VIEW node_targeting_stats; DROP VIEW trigger_metrics;
            DO $$ DECLARE i record; BEGIN
                FOR i IN SELECT indexrelid::regclass AS name FROM pg_index WHERE indrelid = 'workflow_triggers'::regclass AND NOT indisprimary LOOP
                    EXECUTE 'DROP INDEX ' || i.name;
                END LOOP;
            END $$;
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
            SELECT 'Bulk ' || g, 'wf_bd11290f923b', 'pdf-monitor-event-source', 'pdf_file_added' FROM generate_series(1, {rows}) g;
            ANALYZE workflow_triggers;
            """);
        var before = (await Db.WaitForStatisticsAsync(_ => true, "the table's counters")).IndexRowsFetched;

        // A pool of its own, whose one session this test can end afterwards.
        var application = "wt-early-stop-" + Guid.NewGuid().ToString("N")[..8];
        var reader = new TriggerReader(TriggerConnection.For($"{Db.ConnectionString};Application Name={application};Maximum Pool Size=1"));
        var taken = 0;
        await foreach (var _ in reader.QueryAsync(new TriggerFilter(), default))
        {
            if (++taken == 5)
            {
                break;
            }
        }

        // A session publishes its counts when it ends (PostgreSQL 14 keeps them until its next transaction or its
        // end; 15 also when idle): end it, wait for them, then see how far the scan went.
        await Db.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{application}'");
        var after = await Db.WaitForStatisticsAsync(s => s.IndexRowsFetched > before, "the early-stopped scan");
        Assert.InRange(after.IndexRowsFetched - before, 5, rows / 2);
        Assert.Single(await QueryAsync(new TriggerFilter { Ids = new[] { 42 } }));
    }

    [Fact]
    public async Task Missing_table_is_named_in_the_error()
    {
        await Db.ExecuteAsync("DROP TABLE workflow_triggers CASCADE");
        var error = await Assert.ThrowsAsync<TriggerEngineException>(async () => await QueryAsync(new TriggerFilter()));
        Assert.Equal(TriggerErrorKind.MissingTable, error.Kind);
        Assert.Equal("workflow_triggers", error.TableName);
        Assert.Contains("workflow_triggers", error.Message);
    }

    [Fact]
    public async Task A_schema_at_1_0_0_is_reported_as_the_missing_target_node_id_column()
    {
        await new Schema.SchemaInstaller(Connection).ApplyAsync("1.0.0", allowDataLoss: true, addForeignKey: false, default);
        var error = await Assert.ThrowsAsync<TriggerEngineException>(async () => await QueryAsync(new TriggerFilter()));
        Assert.Equal(("workflow_triggers", "target_node_id"), (error.TableName, error.ColumnName));
    }

    [Fact]
    public async Task Each_read_writes_its_query_for_the_engine_tables_there_now_though_they_come_and_go_between_reads()
    {
        // One reader per read, as one command is, on one TriggerConnection that remembers the tables it saw last.
        await new TriggerWriter(Connection).InsertAsync(new[] { Sample("Invoice PDFs") }, false, false, default);
        async Task<TriggerRecord> ReadAsync(bool orphans = false) =>
            Assert.Single(await ListAsync(new TriggerReader(Connection).QueryAsync(new TriggerFilter { Sources = new[] { "pdf-monitor-event-source" }, Orphans = orphans }, default)));

        Assert.Null((await ReadAsync()).WorkflowName);
        await AddEngineTablesAsync("INSERT INTO workflows VALUES ('wf_bd11290f923b', 'Invoices');");
        Assert.Equal("Invoices", (await ReadAsync()).WorkflowName);

        await Db.ExecuteAsync("DELETE FROM workflows; INSERT INTO workflows VALUES ('wf_other', 'Other')");
        Assert.Equal("Invoice PDFs", (await ReadAsync(orphans: true)).Name);

        // Gone again: the query written for it would fail on the missing table; it is written again instead.
        await Db.ExecuteAsync("DROP TABLE workflows");
        Assert.Null((await ReadAsync()).WorkflowName);
        var noWorkflows = await Assert.ThrowsAsync<TriggerEngineException>(() => ReadAsync(orphans: true));
        Assert.Equal(TriggerErrorKind.MissingTable, noWorkflows.Kind);
    }
}

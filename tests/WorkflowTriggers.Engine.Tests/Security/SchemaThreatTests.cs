using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Schema;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>The schema's own objects planted before a superuser installs: the version record and the document's views.</summary>
public class SchemaThreatTests : DatabaseTest
{
    private TestRoles _roles = null!;

    protected override async Task SetUpAsync()
    {
        _roles = new TestRoles(Db);
        await AddEngineTablesAsync();
    }

    protected override async Task TearDownAsync() => await _roles.DisposeAsync();

    private Task<string> AppRoleAsync() => _roles.LoginAsync("app", "GRANT USAGE, CREATE ON SCHEMA public TO {0};");

    [Fact]
    public async Task A_version_record_planted_with_a_trigger_is_refused_before_the_install_writes_into_it()
    {
        var app = await AppRoleAsync();
        await _roles.ExecuteAsAsync(app, $"""
            CREATE TABLE public.{SchemaSteps.HistoryTable} (version varchar(32) PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
                applied_by text NOT NULL DEFAULT current_user, adopted boolean NOT NULL DEFAULT false);
            GRANT ALL ON public.{SchemaSteps.HistoryTable} TO PUBLIC;
            CREATE FUNCTION public.escalate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'ALTER ROLE {app} SUPERUSER'; RETURN NULL; END $$;
            CREATE TRIGGER escalate AFTER INSERT ON public.{SchemaSteps.HistoryTable} FOR EACH STATEMENT EXECUTE FUNCTION public.escalate();
            """);

        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => InstallSchemaAsync());
        Assert.Equal(("ForeignObject", $"public.{SchemaSteps.HistoryTable}", app), (refused.ErrorId, refused.TableName, refused.ObjectOwner));
        Assert.False(await Db.ScalarAsync<bool>($"SELECT rolsuper FROM pg_roles WHERE rolname = '{app}'"));
        Assert.False(await Db.ScalarAsync<bool>("SELECT to_regclass('public.workflow_triggers') IS NOT NULL"));
    }

    [Fact]
    public async Task An_index_name_taken_on_another_table_first_is_reported_missing_not_taken_for_the_modules()
    {
        var app = await AppRoleAsync();
        await _roles.ExecuteAsAsync(app, "CREATE TABLE public.decoy (source text); CREATE INDEX idx_workflow_triggers_source ON public.decoy (source)");

        await InstallSchemaAsync();
        var drift = (await new SchemaInstaller(Connection).GetStatusAsync(default)).Drift;
        Assert.Contains(drift, d => d.Object == "idx_workflow_triggers_source" && d.Kind == DriftKind.Missing);
        Assert.Equal(app, await Db.ScalarAsync<string>("SELECT pg_get_userbyid(c.relowner)::text FROM pg_class c WHERE c.relname = 'idx_workflow_triggers_source'"));
    }

    [Fact]
    public async Task A_view_planted_under_a_documents_view_name_is_refused_and_stays_its_owners()
    {
        await new SchemaInstaller(Connection).ApplyAsync(SchemaSteps.BaseVersion, false, true, default);
        var app = await AppRoleAsync();
        await Db.ExecuteAsync($"GRANT SELECT ON workflow_triggers TO {app}");
        await _roles.ExecuteAsAsync(app, "CREATE VIEW public.trigger_metrics AS SELECT count(*) AS trigger_count FROM public.workflow_triggers");

        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => InstallSchemaAsync());
        Assert.Equal(("ForeignObject", "public.trigger_metrics", app), (refused.ErrorId, refused.TableName, refused.ObjectOwner));
        Assert.Contains("its code would run as each user who reads it", refused.Message);
        Assert.Equal(SchemaSteps.BaseVersion, (await new SchemaInstaller(Connection).GetStatusAsync(default)).CurrentVersion);
    }
}

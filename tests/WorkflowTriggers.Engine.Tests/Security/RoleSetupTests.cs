using WorkflowTriggers.Engine.Common;
using WorkflowTriggers.Engine.Connections;
using WorkflowTriggers.Engine.Health;
using WorkflowTriggers.Engine.History;
using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Security;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers.Engine.Tests;

/// <summary>
/// The least-privilege roles, used as each one would be: a login that is granted the role, on a schema where nobody
/// but the owner may create objects. Each role can do its work and nothing more.
/// </summary>
public class RoleSetupTests : DatabaseTest
{
    private TestRoles _roles = null!;

    protected override async Task SetUpAsync()
    {
        _roles = new TestRoles(Db);
        await AddEngineTablesAsync("INSERT INTO workflows VALUES ('wf_one', 'One'); INSERT INTO workflow_nodes (workflow_id, node_id) VALUES ('wf_one', 'n1');");
        // PostgreSQL 14 lets every role create in public; 15 and later do not. Make both the stricter one.
        await Db.ExecuteAsync("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
        await InstallSchemaAsync();
        await new ChangeHistory(Connection).EnableAsync(null, default);
        await Db.ExecuteAsync("""
            INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
            SELECT 'Trigger ' || g, 'wf_one', 'pdf-monitor-event-source', 'pdf_file_added' FROM generate_series(1, 20) g
            """);
    }

    protected override async Task TearDownAsync() => await _roles.DisposeAsync();

    private async Task<TriggerConnection> LoginWithAsync(TriggerRoleKind kind)
    {
        var user = await _roles.LoginAsync("login_" + kind.ToString().ToLowerInvariant(), $"GRANT {TriggerRoles.NameOf(_roles.Prefix, kind)} TO {{0}};");
        return TriggerConnection.For(_roles.ConnectionStringFor(user));
    }

    private async Task<IReadOnlyList<TriggerRoleGrant>> InstallRolesAsync()
    {
        _roles.Track(Enum.GetValues<TriggerRoleKind>().Select(k => TriggerRoles.NameOf(_roles.Prefix, k)).ToArray());
        return await new TriggerRoles(Connection).InstallAsync(_roles.Prefix, apply: true, default);
    }

    private static Task<BatchResult> InsertAsync(TriggerConnection connection, string name) =>
        new TriggerWriter(connection).InsertAsync(new[] { new NewTrigger(name, "wf_one", "pdf-monitor-event-source", "pdf_file_added") }, false, false, default);

    [Fact]
    public async Task The_plan_writes_nothing_and_the_setup_creates_three_group_roles_and_is_idempotent()
    {
        var plan = await new TriggerRoles(Connection).InstallAsync(_roles.Prefix, apply: false, default);
        Assert.Equal(new[] { true, true, true }, plan.Select(r => r.Created));
        Assert.Contains("INSERT, UPDATE, DELETE ON TABLE public.workflow_triggers", plan.Single(r => r.Kind == TriggerRoleKind.Operator).Grants);
        Assert.Equal(0L, await Db.ScalarAsync<long>($"SELECT count(*) FROM pg_roles WHERE rolname LIKE '{_roles.Prefix}%'"));

        var first = await InstallRolesAsync();
        var second = await InstallRolesAsync();
        Assert.Equal(new[] { TriggerRoleKind.Reader, TriggerRoleKind.Operator, TriggerRoleKind.HistoryAdmin }, first.Select(r => r.Kind));
        Assert.All(second, r => Assert.False(r.Created));
        Assert.Equal(first.Select(r => r.Grants.Count), second.Select(r => r.Grants.Count));
        Assert.Equal(3L, await Db.ScalarAsync<long>($"SELECT count(*) FROM pg_roles WHERE rolname LIKE '{_roles.Prefix}%' AND NOT rolcanlogin AND NOT rolsuper"));
        Assert.Contains("DELETE ON TABLE public.workflow_triggers_history", first.Single(r => r.Kind == TriggerRoleKind.HistoryAdmin).Grants);
    }

    [Fact]
    public async Task A_reader_reads_triggers_history_and_health_and_may_write_nothing()
    {
        await InstallRolesAsync();
        var reader = await LoginWithAsync(TriggerRoleKind.Reader);
        Assert.Equal(20, (await ListAsync(new TriggerReader(reader).QueryAsync(new TriggerFilter(), default))).Count);
        Assert.Equal(20, (await ListAsync(new HistoryReader(reader).QueryAsync(new HistoryFilter(), default))).Count);
        var health = await new TriggerHealth(reader).GetAsync(default);
        Assert.Equal(HealthStatus.Pass, health.Checks.Single(c => c.Name == TriggerHealth.HistoryCheck).Status);

        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => InsertAsync(reader, "Not allowed"));
        Assert.Equal(TriggerErrorKind.PermissionDenied, refused.Kind);
        await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(new ChangeHistory(reader).ClearAsync(DateTime.UtcNow, 100, default)));
    }

    [Fact]
    public async Task An_operator_writes_and_backfills_without_create_on_the_schema_is_recorded_and_may_not_touch_history()
    {
        await InstallRolesAsync();
        var operatorConnection = await LoginWithAsync(TriggerRoleKind.Operator);
        Assert.False(await Db.ScalarAsync<bool>($"SELECT has_schema_privilege('{_roles.Prefix}_operator', 'public', 'CREATE')"));

        Assert.Single((await InsertAsync(operatorConnection, "Made by the operator")).Written);
        var batches = await ListAsync(new TriggerBackfill(operatorConnection).RunAsync(new BackfillScope(), 10, null, false, default));
        Assert.Equal(21, batches.Sum(b => b.Updated));
        Assert.Equal(
            $"{_roles.Prefix}_login_operator",
            await Db.ScalarAsync<string>("SELECT database_user FROM workflow_triggers_history WHERE trigger_name = 'Made by the operator'"));

        Assert.Equal(TriggerErrorKind.PermissionDenied, (await Assert.ThrowsAsync<TriggerEngineException>(() => ListAsync(new ChangeHistory(operatorConnection).ClearAsync(DateTime.UtcNow, 100, default)))).Kind);
        await Assert.ThrowsAsync<TriggerEngineException>(() => new ChangeHistory(operatorConnection).DisableAsync(default));
        Assert.True((await new ChangeHistory(Connection).GetStatusAsync(default)).Enabled);
    }

    [Fact]
    public async Task A_history_admin_clears_history_and_may_write_no_trigger()
    {
        await InstallRolesAsync();
        var admin = await LoginWithAsync(TriggerRoleKind.HistoryAdmin);
        Assert.Equal(20, (await ListAsync(new ChangeHistory(admin).ClearAsync(DateTime.UtcNow.AddMinutes(1), 100, default))).Sum());
        Assert.Equal(TriggerErrorKind.PermissionDenied, (await Assert.ThrowsAsync<TriggerEngineException>(() => InsertAsync(admin, "Not allowed"))).Kind);
    }

    [Fact]
    public async Task A_role_of_the_modules_name_that_can_log_in_is_not_given_the_modules_privileges()
    {
        var planted = $"{_roles.Prefix}_reader";
        _roles.Track(planted);
        await Db.ExecuteAsync($"CREATE ROLE {planted} LOGIN");
        var refused = await Assert.ThrowsAsync<TriggerEngineException>(() => new TriggerRoles(Connection).InstallAsync(_roles.Prefix, apply: true, default));
        Assert.Equal(("ForeignObject", planted), (refused.ErrorId, refused.TableName));
        Assert.Contains("LOGIN", refused.Message);
        Assert.False(await Db.ScalarAsync<bool>($"SELECT has_table_privilege('{planted}', 'workflow_triggers', 'SELECT')"));
    }
}

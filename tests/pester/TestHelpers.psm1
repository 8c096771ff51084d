# Shared by the Pester suites: a database of its own per suite on the throwaway server, and raw SQL for setting up
# the engine's tables (which the module reads but does not own).

$script:TestServer = Join-Path $PSScriptRoot '../WorkflowTriggers.TestServer/bin/Release/net10.0/WorkflowTriggers.TestServer.dll'

function New-TestDatabase {
    if (-not $env:WORKFLOW_TRIGGERS_TEST_CONNECTION) { throw 'Run the suites with Invoke-PesterSuites.ps1 or build.ps1 Test: no test server.' }
    $connectionString = & dotnet $script:TestServer create-database --connection $env:WORKFLOW_TRIGGERS_TEST_CONNECTION
    if ($LASTEXITCODE -ne 0) { throw 'Could not create a test database.' }
    $connectionString
}

function Remove-TestDatabase([string] $ConnectionString) {
    if ($ConnectionString) { & dotnet $script:TestServer drop-database --connection $ConnectionString }
}

# The same database through a real PgBouncer in transaction mode (two server connections), which lives until this
# process ends; $null with a warning where PgBouncer is not installed.
function Get-PooledConnectionString([string] $ConnectionString) {
    $answer = & dotnet $script:TestServer pgbouncer --connection $ConnectionString --owner-pid $PID
    if ($LASTEXITCODE -ne 0) { throw "Could not start PgBouncer: $answer" }
    if ($answer -like 'SKIP=*') { return $null }
    $answer
}

function Invoke-TestSql([string] $ConnectionString, [string] $Sql) {
    $Sql | & dotnet $script:TestServer sql --connection $ConnectionString
    if ($LASTEXITCODE -ne 0) { throw "SQL failed: $Sql" }
}

function Get-TestScalar([string] $ConnectionString, [string] $Sql) {
    $value = $Sql | & dotnet $script:TestServer scalar --connection $ConnectionString
    if ($LASTEXITCODE -ne 0) { throw "SQL failed: $Sql" }
    $value
}

# Another session holding locks: runs $Sql in a transaction it leaves open, as application $Application, until
# Stop-LockHolder ends the process (and with it the transaction). Returns the process; .HolderPid is its server process.
function Start-LockHolder([string] $ConnectionString, [string] $Sql, [string] $Application = 'wt-lock-holder') {
    $start = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($arg in @($script:TestServer, 'hold', '--connection', $ConnectionString, '--application', $Application)) { $start.ArgumentList.Add($arg) }
    $start.RedirectStandardInput = $true
    $start.RedirectStandardOutput = $true
    $process = [System.Diagnostics.Process]::Start($start)
    $process.StandardInput.Write($Sql)
    $process.StandardInput.Close()
    $line = $process.StandardOutput.ReadLine()
    if ($line -notlike 'HOLDING=*') { $process.Kill($true); throw "The lock holder did not start: $line" }
    $process | Add-Member -NotePropertyName HolderPid -NotePropertyValue ([int]($line -replace '^HOLDING=')) -PassThru
}

function Stop-LockHolder($Process) {
    if ($Process -and -not $Process.HasExited) { $Process.Kill($true); $Process.WaitForExit() }
}

$script:EngineTablesSql = Get-Content -Raw (Join-Path $PSScriptRoot '../sql/engine-tables.sql')

function Add-EngineTables([string] $ConnectionString) {
    Invoke-TestSql $ConnectionString ($script:EngineTablesSql + @'
INSERT INTO workflows VALUES ('wf_bd11290f923b', 'Invoice intake'), ('wf_000000000002', 'Reports');
INSERT INTO workflow_nodes (workflow_id, node_id, node_type, name) VALUES
  ('wf_bd11290f923b', 'pdf_input_validator', 'input', 'PDF validator'),
  ('wf_000000000002', 'query_input_processor', 'input', 'Query processor');
'@)
}

# A workflow graph for routing: wf_multi: m2 -> m3 and m1 alone (input nodes m2, then m1); wf_cycle: a <-> b (none);
# wf_empty: no nodes. On top of Add-EngineTables.
function Add-RoutingGraph([string] $ConnectionString) {
    Add-EngineTables $ConnectionString
    Invoke-TestSql $ConnectionString @'
INSERT INTO workflows VALUES ('wf_multi', 'Multi'), ('wf_cycle', 'Cycle'), ('wf_empty', 'Empty');
INSERT INTO workflow_nodes (workflow_id, node_id, node_type, name) VALUES
  ('wf_multi', 'm2', 'input', 'Second id'), ('wf_multi', 'm3', 'task', 'Downstream'), ('wf_multi', 'm1', 'input', 'Third id'),
  ('wf_cycle', 'a', 'task', 'A'), ('wf_cycle', 'b', 'task', 'B');
INSERT INTO workflow_connections (workflow_id, from_node_id, to_node_id) VALUES
  ('wf_multi', 'm2', 'm3'), ('wf_cycle', 'a', 'b'), ('wf_cycle', 'b', 'a');
'@
}

# Empties the table and adds $Count untargeted triggers round-robin over the four workflows of Add-RoutingGraph.
function Reset-RoutingTriggers([string] $ConnectionString, [int] $Count = 40) {
    Invoke-TestSql $ConnectionString @"
TRUNCATE workflow_triggers RESTART IDENTITY;
INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
SELECT 'Trigger ' || g, (ARRAY['wf_bd11290f923b', 'wf_multi', 'wf_cycle', 'wf_empty'])[1 + g % 4], 'pdf-monitor-event-source', 'pdf_file_added'
FROM generate_series(1, $Count) g;
"@
}

# 30 triggers over two workflows and three sources, created through the module.
function Add-SampleTriggers {
    1..30 | ForEach-Object {
        [pscustomobject]@{ Name = "Trigger $_"; WorkflowId = @('wf_bd11290f923b', 'wf_000000000002')[$_ % 2]; Source = @('pdf-monitor-event-source', 'webhook-event-source', 'scheduler-event-source')[$_ % 3]; EventType = 'pdf_file_added' }
    } | New-WorkflowTrigger | Out-Null
}

# A database of its own for a suite, with the module's schema installed and the session connected to it.
# -EngineTables adds the engine's tables (two workflows); -RoutingGraph adds the routing graph too.
function Initialize-SuiteDatabase([switch] $EngineTables, [switch] $RoutingGraph, [switch] $NoConnect) {
    $database = New-TestDatabase
    if ($RoutingGraph) { Add-RoutingGraph $database } elseif ($EngineTables) { Add-EngineTables $database }
    Install-TriggerSchema -ConnectionString $database | Out-Null
    if (-not $NoConnect) { Connect-TriggerDatabase -ConnectionString $database }
    $database
}

function Remove-SuiteDatabase([string] $ConnectionString) {
    Disconnect-TriggerDatabase
    Remove-TestDatabase $ConnectionString
}

# A trigger of workflow wf_bd11290f923b with the document's values; -Extra adds or overrides parameters.
function New-SampleTrigger([string] $Name = 'Invoice PDFs', [hashtable] $Extra = @{}) {
    $parameters = @{ Name = $Name; WorkflowId = 'wf_bd11290f923b'; Source = 'pdf-monitor-event-source'; EventType = 'pdf_file_added' }
    foreach ($key in $Extra.Keys) { $parameters[$key] = $Extra[$key] }
    New-WorkflowTrigger @parameters
}

# Waits until workflow_triggers' cumulative statistics (pg_stat_all_tables) meet $Condition, an SQL expression over its
# columns. The server publishes them after the fact (PostgreSQL 14 even ANALYZE's time), so a test that depends on
# them waits for what it needs.
function Wait-TestStatistics([string] $ConnectionString, [string] $Condition, [string] $What) {
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while ((Get-TestScalar $ConnectionString "SELECT ($Condition) FROM pg_stat_all_tables WHERE relid = to_regclass('workflow_triggers')") -ne 'True') {
        if ([DateTime]::UtcNow -gt $deadline) { throw "The server's statistics did not show $What within 30 s." }
        Start-Sleep -Milliseconds 100
    }
}

Export-ModuleMember -Function Get-PooledConnectionString, Start-LockHolder, Stop-LockHolder, Initialize-SuiteDatabase, Wait-TestStatistics, Remove-SuiteDatabase, New-SampleTrigger, New-TestDatabase, Remove-TestDatabase, Invoke-TestSql, Get-TestScalar, Add-EngineTables, Add-RoutingGraph, Reset-RoutingTriggers, Add-SampleTriggers

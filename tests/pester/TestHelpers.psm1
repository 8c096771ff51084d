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

function Invoke-TestSql([string] $ConnectionString, [string] $Sql) {
    $Sql | & dotnet $script:TestServer sql --connection $ConnectionString
    if ($LASTEXITCODE -ne 0) { throw "SQL failed: $Sql" }
}

function Get-TestScalar([string] $ConnectionString, [string] $Sql) {
    $value = $Sql | & dotnet $script:TestServer scalar --connection $ConnectionString
    if ($LASTEXITCODE -ne 0) { throw "SQL failed: $Sql" }
    $value
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

Export-ModuleMember -Function New-TestDatabase, Remove-TestDatabase, Invoke-TestSql, Get-TestScalar, Add-EngineTables

# Shared by bench/Invoke-Benchmark.ps1 and bench/Invoke-GrowthBenchmark.ps1: the throwaway server, psql, timing,
# the engine's workflow tables, the large table's rows, and results.md (one table per run, newest first).

function Seconds([scriptblock] $Block) { $watch = [Diagnostics.Stopwatch]::StartNew(); & $Block | Out-Null; $watch.Elapsed.TotalSeconds }

function Get-Median([double[]] $Values) { ($Values | Sort-Object)[[int][Math]::Floor($Values.Count / 2)] }

# The value at a share of the sorted values (0.5 the median, 0.99 the 99th percentile).
function Get-Percentile([double[]] $Values, [double] $Share) {
    $sorted = $Values | Sort-Object
    $sorted[[Math]::Min($sorted.Count - 1, [int][Math]::Ceiling($sorted.Count * $Share) - 1)]
}

# Get-WorkflowTrigger -Source -EventType -IsActive $true over $Calls (source, event type) pairs of the large table
# (of its first $Sources sources), twice: the first pass reads each pair's rows for the first time (the server's
# buffers, .NET's tiered JIT), the second is a lookup of a process that has looked triggers up before. Milliseconds
# per call, one list per pass, and the rows a call found.
function Measure-BenchLookups([int] $Calls, [int] $Sources = 1000) {
    $keys = foreach ($i in 1..$Calls) { , @("source-$(($i * 7) % $Sources)-events", "event_$($i % 20)") }
    $found = 0
    $passes = foreach ($pass in 'first', 'second') {
        , @(foreach ($key in $keys) {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $found = @(Get-WorkflowTrigger -Source $key[0] -EventType $key[1] -IsActive $true).Count
            $watch.Elapsed.TotalMilliseconds
        })
    }
    [pscustomobject]@{ First = $passes[0]; Second = $passes[1]; RowsPerCall = $found }
}

# Starts the throwaway server and makes a database; returns what the benchmark needs to reach both.
function Start-BenchServer([string] $TestServerDll) {
    $lines = & dotnet $TestServerDll start --owner-pid $PID
    $admin = ($lines | Where-Object { $_ -like 'CONNECTION=*' }) -replace '^CONNECTION=', ''
    $stop = ($lines | Where-Object { $_ -like 'STOP=*' }) -replace '^STOP=', ''
    $db = & dotnet $TestServerDll create-database --connection $admin
    $parts = @{}; foreach ($pair in $db -split ';') { $k, $v = $pair -split '=', 2; $parts[$k] = $v }
    [pscustomobject]@{
        Admin = $admin
        Stop = $stop
        ConnectionString = $db
        PsqlTarget = "host=$($parts.Host) port=$($parts.Port) user=$($parts.Username) dbname=$($parts.Database)"
        Psql = (Get-Command psql -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
    }
}

function Invoke-BenchPsql($Server, [string] $Sql) {
    $Sql | & $Server.Psql -X -q -v ON_ERROR_STOP=1 $Server.PsqlTarget
    if ($LASTEXITCODE) { throw "psql failed: $Sql" }
}

function Get-BenchPsqlValue($Server, [string] $Sql) { ($Sql | & $Server.Psql -X -A -t $Server.PsqlTarget | Select-Object -First 1).Trim() }

# The large table's rows from $From to $To, ten workflows. By default 1,000 sources x 20 event types, so a pair has
# 50 rows per million, spread over the whole table. -Blocked gives each block of 100,000 rows sources of its own
# (100 x 20 event types, 50 rows a pair, spread over the block), so a pair keeps its 50 rows however large the table
# grows. Routed rows point at each workflow's input node.
function Add-BenchTriggers($Server, [long] $From, [long] $To, [switch] $Routed, [switch] $Blocked) {
    $target = if ($Routed) { "'pdf_input_validator'" } else { 'NULL' }
    $source = if ($Blocked) { "(g % 100) + 100 * (g / 100000)" } else { "g % 1000" }
    $event = if ($Blocked) { "(g / 100) % 20" } else { "(g / 1000) % 20" }
    Invoke-BenchPsql $Server @"
INSERT INTO workflow_triggers (name, workflow_id, source, event_type, target_node_id, config, is_active)
SELECT 'Trigger ' || g, 'wf_' || lpad((g % 10)::text, 12, '0'), 'source-' || ($source) || '-events', 'event_' || ($event),
       $target, '{"monitor_path": "/data/inbox"}'::jsonb, true
FROM generate_series($From, $To) g;
"@
}

# The engine's tables with ten workflows of three nodes each; pdf_input_validator is every workflow's input node.
function Install-BenchWorkflows($Server, [string] $EngineTablesSql) {
    Invoke-BenchPsql $Server ((Get-Content -Raw $EngineTablesSql) + @"
INSERT INTO workflows SELECT 'wf_' || lpad(w::text, 12, '0'), 'Workflow ' || w FROM generate_series(0, 9) w;
INSERT INTO workflow_nodes (workflow_id, node_id, node_type)
SELECT 'wf_' || lpad(w::text, 12, '0'), n, 'task' FROM generate_series(0, 9) w, unnest(ARRAY['pdf_input_validator', 'update_input_validator', 'query_input_processor']) n;
INSERT INTO workflow_connections (workflow_id, from_node_id, to_node_id)
SELECT 'wf_' || lpad(w::text, 12, '0'), 'pdf_input_validator', 'update_input_validator' FROM generate_series(0, 9) w;
"@)
}

# What a reader needs to compare runs: when, on what, against which server.
function Get-BenchMachine($Server) {
    $cpu = (Get-Content /proc/cpuinfo -ErrorAction Ignore | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '^model name\s*:\s*', ''
    $memoryKb = [double]((Get-Content /proc/meminfo -ErrorAction Ignore | Select-Object -First 1) -replace '[^0-9]', '')
    $server = Get-BenchPsqlValue $Server "SELECT split_part(version(), ' on ', 1) || ', shared_buffers ' || current_setting('shared_buffers')"
    '{0} cores ({1}), {2:N0} GiB; {3} (the throwaway server: fsync off); pwsh {4}' -f [Environment]::ProcessorCount, $cpu, ($memoryKb / 1MB), $server, $PSVersionTable.PSVersion
}

# Puts this run's table at the top of bench/results.md and keeps every earlier run below it.
function Add-BenchRun([string] $Title, [string] $Machine, [object[]] $Results) {
    $path = Join-Path $PSScriptRoot 'results.md'
    $header = '# Benchmark results', '', 'One table per run, newest first. `build.ps1 Bench` and `build.ps1 Bench -Growth` add them.', ''
    $earlier = if (Test-Path $path) { (Get-Content $path | Select-Object -Skip $header.Count) } else { @() }
    $run = @(
        "## $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC: $Title"
        ''
        $Machine
        ''
        '| Measure | WorkflowTriggers | Baseline | Ratio | Goal | Met |'
        '|---|---|---|---|---|---|'
        $Results | ForEach-Object {
            $met = if ($null -eq $_.Met) { '' } elseif ($_.Met) { 'yes' } else { '**no**' }
            $cells = $_.Measure, $_.WorkflowTriggers, $_.Baseline, $_.Ratio, $_.Goal, $met | ForEach-Object { "$_" -replace '\|', '\|' }
            '| ' + ($cells -join ' | ') + ' |'
        }
        ''
    )
    ($header + $run + $earlier) | Set-Content $path
    $run | Write-Host
}

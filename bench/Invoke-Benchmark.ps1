#requires -Version 7.4
<#
.SYNOPSIS
    Measures the module against psql on a throwaway PostgreSQL and writes bench/results.md.
.DESCRIPTION
    Every figure comes from one run on this machine, side by side: bulk create, indexed lookup, streaming a large
    table, bulk routing, backfill, health checks and tab completion on the large table, change history's cost,
    and Import-Module cost. Needs psql (Debian's postgresql-client) for the baselines.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $TestServerDll,
    [int] $Rows = 1000000,
    [int] $BulkRows = 100000,
    [int] $PerRowRows = 20000,
    [int] $LookupCalls = 500
)

$ErrorActionPreference = 'Stop'
$results = [System.Collections.Generic.List[object]]::new()
$pwshExe = [Environment]::ProcessPath
$pwshDll = Join-Path $PSHOME 'pwsh.dll'
function Add-Result($Measure, $WorkflowTriggers, $Baseline, $Ratio, $Goal) {
    $results.Add([pscustomobject]@{ Measure = $Measure; WorkflowTriggers = $WorkflowTriggers; Baseline = $Baseline; Ratio = $Ratio; Goal = $Goal })
    Write-Host "$Measure : $WorkflowTriggers | $Baseline | $Ratio"
}
function Seconds([scriptblock] $Block) { $watch = [Diagnostics.Stopwatch]::StartNew(); & $Block | Out-Null; $watch.Elapsed.TotalSeconds }

$lines = & dotnet $TestServerDll start --owner-pid $PID
$admin = ($lines | Where-Object { $_ -like 'CONNECTION=*' }) -replace '^CONNECTION=', ''
$stop = ($lines | Where-Object { $_ -like 'STOP=*' }) -replace '^STOP=', ''
try {
    $db = & dotnet $TestServerDll create-database --connection $admin
    $parts = @{}; foreach ($pair in $db -split ';') { $k, $v = $pair -split '=', 2; $parts[$k] = $v }
    $psqlTarget = "host=$($parts.Host) port=$($parts.Port) user=$($parts.Username) dbname=$($parts.Database)"
    $psql = (Get-Command psql -CommandType Application -ErrorAction Stop | Select-Object -First 1).Source
    function Invoke-Psql([string] $Sql) { $Sql | & $psql -X -q -v ON_ERROR_STOP=1 $psqlTarget; if ($LASTEXITCODE) { throw "psql failed: $Sql" } }

    Import-Module $ModulePath
    Connect-TriggerDatabase -ConnectionString $db
    Install-TriggerSchema | Out-Null

    # 1. Bulk create: New-WorkflowTrigger from piped objects vs psql \copy of the same rows vs one INSERT per row.
    $objects = foreach ($i in 1..$BulkRows) {
        [pscustomobject]@{ Name = "Bulk trigger $i"; WorkflowId = 'wf_bd11290f923b'; Source = 'pdf-monitor-event-source'; EventType = 'pdf_file_added'; Config = '{"monitor_path": "/data/inbox", "recursive": true}' }
    }
    # Three runs each into an emptied table; the medians are compared, the spread shown.
    $csv = Join-Path ([IO.Path]::GetTempPath()) "wt-bench-$PID.csv"
    $objects | Select-Object Name, WorkflowId, Source, EventType, Config | Export-Csv $csv -UseQuotes AsNeeded
    $moduleRuns = foreach ($run in 1..3) {
        Invoke-Psql 'TRUNCATE workflow_triggers'
        Seconds { $objects | New-WorkflowTrigger }
    }
    $copyRuns = foreach ($run in 1..3) {
        Invoke-Psql 'TRUNCATE workflow_triggers'
        Seconds { Invoke-Psql "\copy workflow_triggers (name, workflow_id, source, event_type, config) FROM '$csv' WITH (FORMAT csv, HEADER true)" }
    }
    $module = ($moduleRuns | Sort-Object)[1]
    $copy = ($copyRuns | Sort-Object)[1]
    Invoke-Psql 'TRUNCATE workflow_triggers'
    $insertFile = "$csv.sql"
    $objects | Select-Object -First $PerRowRows | ForEach-Object { "INSERT INTO workflow_triggers (name, workflow_id, source, event_type, config) VALUES ('$($_.Name)', '$($_.WorkflowId)', '$($_.Source)', '$($_.EventType)', '$($_.Config)');" } | Set-Content $insertFile
    $perRow = Seconds { & $psql -X -q -v ON_ERROR_STOP=1 -f $insertFile $psqlTarget | Out-Null }
    Remove-Item $csv, $insertFile
    $spread = { param($runs) ($runs | ForEach-Object { '{0:N2}' -f $_ }) -join ' / ' }
    Add-Result "Create $BulkRows triggers (piped New-WorkflowTrigger vs psql \copy; median of 3)" ('{0:N2} s ({1:N0} rows/s); runs {2} s' -f $module, ($BulkRows / $module), (& $spread $moduleRuns)) ('{0:N2} s ({1:N0} rows/s); runs {2} s' -f $copy, ($BulkRows / $copy), (& $spread $copyRuns)) ('{0:N2}x psql' -f ($module / $copy)) 'at most 2x'
    Add-Result "One INSERT per row, autocommit (psql, $PerRowRows rows)" ('module: {0:N0} rows/s' -f ($BulkRows / $module)) ('{0:N0} rows/s' -f ($PerRowRows / $perRow)) ('module {0:N1}x faster' -f (($BulkRows / $module) / ($PerRowRows / $perRow))) 'report'

    # 2. The large table: $Rows triggers, 20,000 (source, event type) pairs of 50 rows, ten workflows.
    Invoke-Psql 'TRUNCATE workflow_triggers'
    $load = Seconds { Invoke-Psql @"
INSERT INTO workflow_triggers (name, workflow_id, source, event_type, target_node_id, config, is_active)
SELECT 'Trigger ' || g, 'wf_' || lpad((g % 10)::text, 12, '0'), 'source-' || (g % 1000) || '-events', 'event_' || ((g / 1000) % 20),
       NULL, '{"monitor_path": "/data/inbox"}'::jsonb, true
FROM generate_series(1, $Rows) g;
ANALYZE workflow_triggers;
"@ }
    Write-Host ('Loaded {0:N0} rows in {1:N1} s' -f $Rows, $load)

    # 3. Lookup by source and event type, one session, prepared by Npgsql's auto-prepare or not: per call.
    Get-WorkflowTrigger -Source source-7-events -EventType event_3 -IsActive $true | Out-Null
    $times = foreach ($i in 1..$LookupCalls) {
        $source = "source-$($i % 1000)-events"; $event = "event_$($i % 20)"
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $found = @(Get-WorkflowTrigger -Source $source -EventType $event -IsActive $true)
        $watch.Elapsed.TotalMilliseconds
    }
    $sorted = $times | Sort-Object
    $p50 = $sorted[[int]($sorted.Count * 0.50)]; $p99 = $sorted[[int]($sorted.Count * 0.99) - 1]
    $plan = ("EXPLAIN SELECT * FROM workflow_triggers t WHERE t.source = 'source-7-events' AND t.event_type = 'event_3' AND t.is_active = true" | & $psql -X -A -t $psqlTarget | Select-Object -First 1).Trim()
    Add-Result "Get-WorkflowTrigger -Source -EventType -IsActive `$true on $Rows rows ($($found.Count) rows per call, $LookupCalls calls)" ('p50 {0:N2} ms, p99 {1:N2} ms' -f $p50, $p99) "plan: $plan" '' 'p50 under 2 ms'

    # 4. Stream the whole table into Measure-Object, in a fresh process to read its peak memory.
    $streamScript = "Import-Module '$ModulePath'; `$w = [Diagnostics.Stopwatch]::StartNew(); `$n = (Get-WorkflowTrigger -ConnectionString '$db' | Measure-Object).Count; `$s = `$w.Elapsed.TotalSeconds; [GC]::Collect(); '{0}|{1}|{2}' -f `$n, `$s, ([Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64 / 1MB)"
    $count, $streamSeconds, $peakMb = (& $pwshExe $pwshDll -NoProfile -NonInteractive -Command $streamScript | Select-Object -Last 1) -split '\|'
    $psqlStream = Seconds { Invoke-Psql '\copy (SELECT * FROM workflow_triggers ORDER BY id) TO /dev/null' }
    Add-Result "Get-WorkflowTrigger over $count rows | Measure-Object" ('{0:N1} s, peak working set {1:N0} MB' -f [double]$streamSeconds, [double]$peakMb) ('psql \copy to /dev/null: {0:N1} s' -f $psqlStream) ('{0:N1}x psql' -f ([double]$streamSeconds / $psqlStream)) 'peak under 250 MB'

    # 4b. Stop early: Select-Object -First 5 over the whole table vs over a table of 1,000 rows (median of 5 each).
    $small = & dotnet $TestServerDll create-database --connection $admin
    Install-TriggerSchema -ConnectionString $small | Out-Null
    1..1000 | ForEach-Object { [pscustomobject]@{ Name = "Small $_"; WorkflowId = 'wf_small'; Source = 'webhook-event-source'; EventType = 'webhook_received' } } |
        New-WorkflowTrigger -ConnectionString $small | Out-Null
    $firstBig = foreach ($run in 1..5) { Seconds { Get-WorkflowTrigger | Select-Object -First 5 } }
    $firstSmall = foreach ($run in 1..5) { Seconds { Get-WorkflowTrigger -ConnectionString $small | Select-Object -First 5 } }
    Add-Result "Get-WorkflowTrigger | Select-Object -First 5 over $Rows rows vs over 1,000 (median of 5)" ('{0:N0} ms' -f (($firstBig | Sort-Object)[2] * 1000)) ('over 1,000 rows: {0:N0} ms' -f (($firstSmall | Sort-Object)[2] * 1000)) ('{0:N1}x' -f (($firstBig | Sort-Object)[2] / ($firstSmall | Sort-Object)[2])) 'does not grow with the rows left'
    & dotnet $TestServerDll drop-database --connection $small

    # 5. Route 100,000 triggers: piped Set-TriggerTargetNode vs one UPDATE of the same rows.
    $route = Seconds { Get-WorkflowTrigger -WorkflowId wf_000000000001 | Set-TriggerTargetNode -NodeId pdf_input_validator }
    $update = Seconds { Invoke-Psql "UPDATE workflow_triggers SET target_node_id = 'query_input_processor', updated_at = CURRENT_TIMESTAMP WHERE workflow_id = 'wf_000000000002'" }
    $routed = @(Get-WorkflowTrigger -WorkflowId wf_000000000001 -TargetNodeId pdf_input_validator).Count
    Add-Result "Route $routed triggers (Get-WorkflowTrigger | Set-TriggerTargetNode vs one UPDATE)" ('{0:N1} s' -f $route) ('{0:N1} s' -f $update) ('{0:N2}x' -f ($route / $update)) 'at most 3x'

    # 7. Backfill all $Rows triggers: Invoke-TriggerBackfill vs one hand-written set-based UPDATE in the same run
    # (each from the same reset, vacuumed state; mean of 2), and vs the document's one UPDATE per trigger.
    Invoke-Psql ((Get-Content -Raw (Join-Path $PSScriptRoot '../tests/sql/engine-tables.sql')) + @"
INSERT INTO workflows SELECT 'wf_' || lpad(w::text, 12, '0'), 'Workflow ' || w FROM generate_series(0, 9) w;
INSERT INTO workflow_nodes (workflow_id, node_id, node_type)
SELECT 'wf_' || lpad(w::text, 12, '0'), n, 'task' FROM generate_series(0, 9) w, unnest(ARRAY['pdf_input_validator', 'update_input_validator', 'query_input_processor']) n;
INSERT INTO workflow_connections (workflow_id, from_node_id, to_node_id)
SELECT 'wf_' || lpad(w::text, 12, '0'), 'pdf_input_validator', 'update_input_validator' FROM generate_series(0, 9) w;
"@)
    $reset = "UPDATE workflow_triggers SET target_node_id = NULL WHERE target_node_id IS NOT NULL; VACUUM ANALYZE workflow_triggers;"
    $handWritten = @"
UPDATE workflow_triggers t SET target_node_id = f.node_id, updated_at = CURRENT_TIMESTAMP
FROM (SELECT DISTINCT ON (n.workflow_id) n.workflow_id, n.node_id FROM workflow_nodes n
      WHERE NOT EXISTS (SELECT 1 FROM workflow_connections c WHERE c.workflow_id = n.workflow_id AND c.to_node_id = n.node_id)
      ORDER BY n.workflow_id, n.id) f
WHERE f.workflow_id = t.workflow_id AND t.target_node_id IS NULL;
"@
    $backfillRuns = @(); $updateRuns = @()
    foreach ($run in 1..2) {
        Invoke-Psql $reset
        $backfillRuns += Seconds { $script:summary = Invoke-TriggerBackfill }
        Invoke-Psql $reset
        $updateRuns += Seconds { Invoke-Psql $handWritten }
    }
    $backfill = ($backfillRuns | Measure-Object -Average).Average
    $setBased = ($updateRuns | Measure-Object -Average).Average
    $updated = $script:summary.Updated
    Add-Result "Invoke-TriggerBackfill of $updated triggers, all indexes (batches of 10,000; mean of 2)" ('{0:N1} s ({1:N0} rows/s); runs {2} s' -f $backfill, ($updated / $backfill), (& $spread $backfillRuns)) ('one set-based UPDATE: {0:N1} s ({1:N0} rows/s); runs {2} s' -f $setBased, ($updated / $setBased), (& $spread $updateRuns)) ('{0:N2} of its throughput' -f ($setBased / $backfill)) 'at least 0.85'

    Invoke-Psql $reset
    $perTriggerFile = Join-Path ([IO.Path]::GetTempPath()) "wt-bench-$PID-backfill.sql"
    1..$PerRowRows | ForEach-Object { "UPDATE workflow_triggers SET target_node_id = 'pdf_input_validator' WHERE id = $_;" } | Set-Content $perTriggerFile
    $perTrigger = Seconds { & $psql -X -q -v ON_ERROR_STOP=1 -f $perTriggerFile $psqlTarget | Out-Null }
    Remove-Item $perTriggerFile
    Add-Result "One UPDATE per trigger, autocommit, node known in advance (the document's loop without its look-ups; psql, $PerRowRows triggers)" ('backfill: {0:N0} rows/s' -f ($updated / $backfill)) ('{0:N0} rows/s' -f ($PerRowRows / $perTrigger)) ('backfill {0:N1}x faster' -f (($updated / $backfill) / ($PerRowRows / $perTrigger))) 'report'

    # 8. Monitoring on the large table: Get-TriggerIndexHealth and Get-TriggerHealth, as a monitoring loop calls them
    # (one warm-up call, then the median of 5).
    Invoke-Psql 'VACUUM ANALYZE workflow_triggers'
    foreach ($command in 'Get-TriggerIndexHealth', 'Get-TriggerHealth') {
        & $command -WarningAction SilentlyContinue | Out-Null
        $runs = foreach ($run in 1..5) { Seconds { & $command -WarningAction SilentlyContinue } }
        $rowsNow = (Get-TriggerHealth).TotalRecords
        Add-Result "$command on $rowsNow triggers (median of 5)" ('{0:N0} ms; runs {1} ms' -f ((($runs | Sort-Object)[2]) * 1000), (($runs | ForEach-Object { '{0:N0}' -f ($_ * 1000) }) -join ' / ')) '' '' 'under 1 s'
    }

    # 9. Tab completion on the large table, as the console asks for it (TabExpansion2): one warm-up, then the median
    # and the slowest of 5 per command line.
    foreach ($line in 'Get-WorkflowTrigger -Source source-1', 'Get-WorkflowTrigger -Source source-7-events -EventType ev', 'Get-WorkflowTrigger -WorkflowId wf_', 'Get-WorkflowTrigger -WorkflowId wf_000000000001 | Set-TriggerTargetNode -NodeId ', "Get-WorkflowTrigger -Name 'Trigger 99'") {
        $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.Count
        $runs = foreach ($run in 1..5) { Seconds { TabExpansion2 -inputScript $line -cursorColumn $line.Length } }
        $sorted = $runs | Sort-Object
        Add-Result "Tab completion of ``$line`` on $Rows triggers ($offered offered; median of 5)" ('{0:N0} ms, slowest {1:N0} ms' -f ($sorted[2] * 1000), ($sorted[4] * 1000)) '' '' 'under 300 ms'
    }

    # 10. Change history: what it adds to the backfill of every trigger and to 100,000 piped creates, each measured with
    # history off and on in this run from the same state; then one trigger's history read from the $Rows entries the
    # backfill recorded.
    Invoke-Psql $reset
    $backfillOff = Seconds { Invoke-TriggerBackfill }
    Invoke-Psql $reset
    Enable-TriggerHistory | Out-Null
    $backfillOn = Seconds { $script:historySummary = Invoke-TriggerBackfill -Reason 'benchmark' }
    Add-Result "Invoke-TriggerBackfill of $($script:historySummary.Updated) triggers with change history on vs off" ('{0:N1} s' -f $backfillOn) ('off: {0:N1} s' -f $backfillOff) ('+{0:N0} %' -f (100 * ($backfillOn / $backfillOff - 1))) 'at most +30 %'

    $historyIds = 1..200 | ForEach-Object { Get-Random -Minimum 1 -Maximum $Rows }
    Get-TriggerHistory -Id 1 | Out-Null
    $reads = foreach ($id in $historyIds) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $entries = @(Get-TriggerHistory -Id $id)
        $watch.Elapsed.TotalMilliseconds
    }
    $sortedReads = $reads | Sort-Object
    $historyRows = (Get-TriggerHealth).Checks | Where-Object Name -eq ChangeHistory | ForEach-Object Detail
    Add-Result "Get-TriggerHistory -Id on a history of $Rows+ entries (200 calls)" ('p50 {0:N2} ms, p99 {1:N2} ms' -f $sortedReads[100], $sortedReads[197]) "$historyRows" '' 'p50 under 5 ms'

    $creates = @{}
    foreach ($mode in 'on', 'off') {
        if ($mode -eq 'off') { Disable-TriggerHistory -Confirm:$false | Out-Null }
        $creates[$mode] = Seconds { $objects | ForEach-Object { $_.WorkflowId = 'wf_000000000003'; $_ } | New-WorkflowTrigger }
        Invoke-Psql "DELETE FROM workflow_triggers WHERE name LIKE 'Bulk trigger %'"
    }
    Add-Result "Create $BulkRows triggers (piped New-WorkflowTrigger) with change history on vs off" ('{0:N2} s' -f $creates.on) ('off: {0:N2} s' -f $creates.off) ('+{0:N0} %' -f (100 * ($creates.on / $creates.off - 1))) 'at most +30 %'

    # 6. Import-Module cost: a pwsh start with the import against a bare pwsh start, interleaved so drift on a busy
    # machine hits both alike (medians of nine), and the import itself timed inside the process.
    $bareRuns = [System.Collections.Generic.List[double]]::new()
    $importRuns = [System.Collections.Generic.List[double]]::new()
    $inProcessRuns = [System.Collections.Generic.List[double]]::new()
    foreach ($run in 1..9) {
        $bareRuns.Add((Seconds { & $pwshExe $pwshDll -NoProfile -NonInteractive -Command 'exit' }))
        $importRuns.Add((Seconds { & $pwshExe $pwshDll -NoProfile -NonInteractive -Command "Import-Module '$ModulePath'; exit" }))
        $inProcessRuns.Add([double](& $pwshExe $pwshDll -NoProfile -NonInteractive -Command "(Measure-Command { Import-Module '$ModulePath' }).TotalMilliseconds"))
    }
    $median = { param($values) ($values | Sort-Object)[[int][Math]::Floor($values.Count / 2)] }
    $bare = & $median $bareRuns
    Add-Result 'Import-Module WorkflowTriggers (medians of 9)' ('{0:N0} ms over a bare pwsh start; {1:N0} ms inside the process' -f (((& $median $importRuns) - $bare) * 1000), (& $median $inProcessRuns)) ('bare pwsh start {0:N0} ms' -f ($bare * 1000)) '' 'under 150 ms'
}
finally {
    Disconnect-TriggerDatabase
    & dotnet $TestServerDll stop --state $stop
}

$table = @(
    '# Benchmark results'
    ''
    "Measured $(Get-Date -Format 'yyyy-MM-dd') on $([Environment]::ProcessorCount) cores, PostgreSQL from the throwaway server (fsync off), pwsh $($PSVersionTable.PSVersion), by ``build.ps1 Bench``."
    ''
    '| Measure | WorkflowTriggers | Baseline | Ratio | Goal |'
    '|---|---|---|---|---|'
    $results | ForEach-Object {
        $cells = $_.Measure, $_.WorkflowTriggers, $_.Baseline, $_.Ratio, $_.Goal | ForEach-Object { "$_" -replace '\|', '\|' }
        '| ' + ($cells -join ' | ') + ' |'
    }
)
$table | Set-Content (Join-Path $PSScriptRoot 'results.md')
$table | Write-Host

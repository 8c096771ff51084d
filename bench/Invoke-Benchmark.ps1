#requires -Version 7.4
<#
.SYNOPSIS
    Measures the module against psql on a throwaway PostgreSQL and adds the run to bench/results.md.
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
trap { Write-Host $_.ScriptStackTrace; break }
. (Join-Path $PSScriptRoot 'Bench.Common.ps1')
$results = [System.Collections.Generic.List[object]]::new()
$pwshExe = [Environment]::ProcessPath
$pwshDll = Join-Path $PSHOME 'pwsh.dll'
# $Met: whether the goal was met, or $null for a figure reported without one.
function Add-Result($Measure, $WorkflowTriggers, $Baseline, $Ratio, $Goal, $Met = $null) {
    $results.Add([pscustomobject]@{ Measure = $Measure; WorkflowTriggers = $WorkflowTriggers; Baseline = $Baseline; Ratio = $Ratio; Goal = $Goal; Met = $Met })
    Write-Host "$Measure : $WorkflowTriggers | $Baseline | $Ratio | $Goal | $Met"
}

$server = Start-BenchServer $TestServerDll
$admin = $server.Admin; $stop = $server.Stop; $db = $server.ConnectionString
$psqlTarget = $server.PsqlTarget; $psql = $server.Psql
function Invoke-Psql([string] $Sql) { Invoke-BenchPsql $server $Sql }
try {
    $machine = Get-BenchMachine $server

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
    $arrayRuns = foreach ($run in 1..3) {
        Invoke-Psql 'TRUNCATE workflow_triggers'
        Seconds { New-WorkflowTrigger -InputObject $objects }
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
    Add-Result "Create $BulkRows triggers (piped New-WorkflowTrigger vs psql \copy; median of 3)" ('{0:N2} s ({1:N0} rows/s); runs {2} s' -f $module, ($BulkRows / $module), (& $spread $moduleRuns)) ('{0:N2} s ({1:N0} rows/s); runs {2} s' -f $copy, ($BulkRows / $copy), (& $spread $copyRuns)) ('{0:N2}x psql' -f ($module / $copy)) 'at most 1.3x' (($module / $copy) -le 1.3)
    $array = ($arrayRuns | Sort-Object)[1]
    Add-Result "Create $BulkRows triggers (New-WorkflowTrigger -InputObject with all of them vs psql \copy; median of 3)" ('{0:N2} s ({1:N0} rows/s); runs {2} s' -f $array, ($BulkRows / $array), (& $spread $arrayRuns)) ('{0:N2} s' -f $copy) ('{0:N2}x psql' -f ($array / $copy)) 'at most 1.3x' (($array / $copy) -le 1.3)
    Add-Result "One INSERT per row, autocommit (psql, $PerRowRows rows)" ('module: {0:N0} rows/s' -f ($BulkRows / $module)) ('{0:N0} rows/s' -f ($PerRowRows / $perRow)) ('module {0:N1}x faster' -f (($BulkRows / $module) / ($PerRowRows / $perRow))) 'report'

    # 2. The large table: $Rows triggers, 20,000 (source, event type) pairs of 50 rows, ten workflows.
    Invoke-Psql 'TRUNCATE workflow_triggers'
    $load = Seconds { Add-BenchTriggers $server 1 $Rows; Invoke-Psql 'ANALYZE workflow_triggers' }
    Write-Host ('Loaded {0:N0} rows in {1:N1} s' -f $Rows, $load)

    # 3. Lookup by source and event type, per call: $LookupCalls (source, event type) pairs read once to warm up (the
    # server's buffers and .NET's tiered JIT, as in any process that looks triggers up more than once), then the
    # same pairs measured. The warm-up pass is shown beside it.
    $lookups = Measure-BenchLookups $LookupCalls
    $p50 = Get-Percentile $lookups.Second 0.5; $p99 = Get-Percentile $lookups.Second 0.99
    $plan = (Get-BenchPsqlValue $server "EXPLAIN SELECT * FROM workflow_triggers t WHERE t.source = 'source-7-events' AND t.event_type = 'event_3' AND t.is_active = true")
    Add-Result "Get-WorkflowTrigger -Source -EventType -IsActive `$true on $Rows rows ($($lookups.RowsPerCall) rows per call, $LookupCalls calls after a warm-up pass of the same calls)" ('p50 {0:N2} ms, p99 {1:N2} ms' -f $p50, $p99) ('warm-up pass: p50 {0:N2} ms, p99 {1:N2} ms; plan: {2}' -f (Get-Percentile $lookups.First 0.5), (Get-Percentile $lookups.First 0.99), $plan) '' 'p50 under 1 ms, p99 under 3 ms' ($p50 -lt 1 -and $p99 -lt 3)

    # 4. Stream the whole table into Measure-Object, in a fresh process to read its peak memory.
    $streamScript = "Import-Module '$ModulePath'; `$w = [Diagnostics.Stopwatch]::StartNew(); `$n = (Get-WorkflowTrigger -ConnectionString '$db' | Measure-Object).Count; `$s = `$w.Elapsed.TotalSeconds; [GC]::Collect(); '{0}|{1}|{2}' -f `$n, `$s, ([Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64 / 1MB)"
    $count, $streamSeconds, $peakMb = (& $pwshExe $pwshDll -NoProfile -NonInteractive -Command $streamScript | Select-Object -Last 1) -split '\|'
    $psqlStream = Seconds { Invoke-Psql '\copy (SELECT * FROM workflow_triggers ORDER BY id) TO /dev/null' }
    $streamRatio = [double]$streamSeconds / $psqlStream
    Add-Result "Get-WorkflowTrigger over $count rows | Measure-Object" ('{0:N1} s, peak working set {1:N0} MB' -f [double]$streamSeconds, [double]$peakMb) ('psql \copy to /dev/null: {0:N1} s' -f $psqlStream) ('{0:N2}x psql' -f $streamRatio) 'at most 1.5x, peak under 150 MB' ($streamRatio -le 1.5 -and [double]$peakMb -lt 150)

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
    Add-Result "Route $routed triggers (Get-WorkflowTrigger | Set-TriggerTargetNode vs one UPDATE)" ('{0:N1} s' -f $route) ('{0:N1} s' -f $update) ('{0:N2}x' -f ($route / $update)) 'at most 3x' (($route / $update) -le 3)

    # 7. Backfill all $Rows triggers: Invoke-TriggerBackfill vs one hand-written set-based UPDATE in the same run
    # (each from the same reset, vacuumed state; mean of 2), and vs the document's one UPDATE per trigger.
    Install-BenchWorkflows $server (Join-Path $PSScriptRoot '../tests/sql/engine-tables.sql')
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
    Add-Result "Invoke-TriggerBackfill of $updated triggers, all indexes (batches of 10,000; mean of 2)" ('{0:N1} s ({1:N0} rows/s); runs {2} s' -f $backfill, ($updated / $backfill), (& $spread $backfillRuns)) ('one set-based UPDATE: {0:N1} s ({1:N0} rows/s); runs {2} s' -f $setBased, ($updated / $setBased), (& $spread $updateRuns)) ('{0:N2} of its throughput' -f ($setBased / $backfill)) 'at least 0.95' (($setBased / $backfill) -ge 0.95)

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
        Add-Result "$command on $rowsNow triggers (median of 5)" ('{0:N0} ms; runs {1} ms' -f ((($runs | Sort-Object)[2]) * 1000), (($runs | ForEach-Object { '{0:N0}' -f ($_ * 1000) }) -join ' / ')) '' '' 'under 1 s' ((($runs | Sort-Object)[2]) -lt 1)
    }

    # 9. Tab completion on the large table, as the console asks for it (TabExpansion2): one warm-up, then the median
    # and the slowest of 5 per command line.
    foreach ($line in 'Get-WorkflowTrigger -Source source-1', 'Get-WorkflowTrigger -Source source-7-events -EventType ev', 'Get-WorkflowTrigger -WorkflowId wf_', 'Get-WorkflowTrigger -WorkflowId wf_000000000001 | Set-TriggerTargetNode -NodeId ', "Get-WorkflowTrigger -Name 'Trigger 99'") {
        $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.Count
        $runs = foreach ($run in 1..5) { Seconds { TabExpansion2 -inputScript $line -cursorColumn $line.Length } }
        $sorted = $runs | Sort-Object
        Add-Result "Tab completion of ``$line`` on $Rows triggers ($offered offered; median of 5)" ('{0:N0} ms, slowest {1:N0} ms' -f ($sorted[2] * 1000), ($sorted[4] * 1000)) '' '' 'under 300 ms' ($sorted[2] -lt 0.3)
    }

    # 10. Change history: what it adds to the backfill of every trigger and to 100,000 piped creates, each measured with
    # history off and on in this run from the same state; then one trigger's history read from the $Rows entries the
    # backfill recorded.
    Invoke-Psql $reset
    $backfillOff = Seconds { Invoke-TriggerBackfill }
    Invoke-Psql $reset
    Enable-TriggerHistory | Out-Null
    $backfillOn = Seconds { $script:historySummary = Invoke-TriggerBackfill -Reason 'benchmark' }
    Add-Result "Invoke-TriggerBackfill of $($script:historySummary.Updated) triggers with change history on vs off" ('{0:N1} s' -f $backfillOn) ('off: {0:N1} s' -f $backfillOff) ('{0:+0;-0;0} %' -f (100 * ($backfillOn / $backfillOff - 1))) 'at most +30 %' (($backfillOn / $backfillOff) -le 1.3)

    $historyIds = 1..200 | ForEach-Object { Get-Random -Minimum 1 -Maximum $Rows }
    Get-TriggerHistory -Id 1 | Out-Null
    $reads = foreach ($id in $historyIds) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $entries = @(Get-TriggerHistory -Id $id)
        $watch.Elapsed.TotalMilliseconds
    }
    $sortedReads = $reads | Sort-Object
    $historyRows = (Get-TriggerHealth).Checks | Where-Object Name -eq ChangeHistory | ForEach-Object Detail
    Add-Result "Get-TriggerHistory -Id on a history of $Rows+ entries (200 calls)" ('p50 {0:N2} ms, p99 {1:N2} ms' -f $sortedReads[100], $sortedReads[197]) "$historyRows" '' 'p50 under 5 ms' ($sortedReads[100] -lt 5)

    # The first entries of the whole history, as `Get-TriggerHistory | Select-Object -First 1` reads them at the console.
    $firstReads = foreach ($run in 1..20) { (Seconds { Get-TriggerHistory | Select-Object -First 1 | Out-Null }) * 1000 }
    $sortedFirst = $firstReads | Sort-Object
    Add-Result "Get-TriggerHistory | Select-Object -First 1 on a history of $Rows+ entries (20 calls)" ('p50 {0:N1} ms, slowest {1:N1} ms' -f $sortedFirst[10], $sortedFirst[19]) '' '' 'p50 under 50 ms' ($sortedFirst[10] -lt 50)

    $creates = @{}
    foreach ($mode in 'on', 'off') {
        if ($mode -eq 'off') { Disable-TriggerHistory -Confirm:$false | Out-Null }
        $creates[$mode] = Seconds { $objects | ForEach-Object { $_.WorkflowId = 'wf_000000000003'; $_ } | New-WorkflowTrigger }
        Invoke-Psql "DELETE FROM workflow_triggers WHERE name LIKE 'Bulk trigger %'"
    }
    Add-Result "Create $BulkRows triggers (piped New-WorkflowTrigger) with change history on vs off" ('{0:N2} s' -f $creates.on) ('off: {0:N2} s' -f $creates.off) ('{0:+0;-0;0} %' -f (100 * ($creates.on / $creates.off - 1))) 'at most +30 %' (($creates.on / $creates.off) -le 1.3)

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
    $bare = Get-Median $bareRuns
    $importCost = ((Get-Median $importRuns) - $bare) * 1000
    Add-Result 'Import-Module WorkflowTriggers (medians of 9)' ('{0:N0} ms over a bare pwsh start; {1:N0} ms inside the process' -f $importCost, (Get-Median $inProcessRuns)) ('bare pwsh start {0:N0} ms' -f ($bare * 1000)) '' 'under 150 ms' ((Get-Median $inProcessRuns) -lt 150)
}
finally {
    Disconnect-TriggerDatabase
    & dotnet $TestServerDll stop --state $stop
}

Add-BenchRun ('build.ps1 Bench, {0:N0} triggers' -f $Rows) $machine $results

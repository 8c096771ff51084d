#requires -Version 7.4
<#
.SYNOPSIS
    Measures how the module's costs grow with the table: 100,000, 1,000,000 and 10,000,000 triggers by default.
.DESCRIPTION
    One table grows through the sizes (rows added, then VACUUM ANALYZE), and at each size the same measures run:
    indexed lookup, Get-TriggerHealth, Get-TriggerIndexHealth, tab completion of -Source and -WorkflowId, backfill of
    one workflow (a tenth of the table), streaming every row (time and peak memory, against psql \copy), and Export
    of every trigger. Writes bench/growth.csv, bench/growth.md and bench/growth.png (drawn by bench/GrowthPlot with
    ScottPlot), and adds the run to bench/results.md. A cost that grows faster than the table, or an interactive
    command over a second at the largest size, is marked.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $TestServerDll,
    # Table sizes, comma-separated (a child pwsh's -File passes text).
    [string] $Sizes = '100000,1000000,10000000',
    [int] $LookupCalls = 500
)

$ErrorActionPreference = 'Stop'
trap { Write-Host $_.ScriptStackTrace; break }
. (Join-Path $PSScriptRoot 'Bench.Common.ps1')
$pwshExe = [Environment]::ProcessPath
$pwshDll = Join-Path $PSHOME 'pwsh.dll'
$points = [System.Collections.Generic.List[object]]::new()
function Add-Point([string] $Measure, [long] $Rows, [double] $Value, [string] $Unit, [bool] $Interactive = $false) {
    $points.Add([pscustomobject]@{ Measure = $Measure; Rows = $Rows; Value = $Value; Unit = $Unit; Interactive = $Interactive })
    Write-Host ('{0:N0} rows: {1} = {2:N2} {3}' -f $Rows, $Measure, $Value, $Unit)
}
function Get-Runs([scriptblock] $Block, [int] $Count = 5) { & $Block | Out-Null; foreach ($run in 1..$Count) { Seconds $Block } }

$server = Start-BenchServer $TestServerDll
$exportPath = Join-Path ([IO.Path]::GetTempPath()) "wt-growth-$PID.json"
try {
    Import-Module $ModulePath
    Connect-TriggerDatabase -ConnectionString $server.ConnectionString
    Install-TriggerSchema | Out-Null
    Install-BenchWorkflows $server (Join-Path $PSScriptRoot '../tests/sql/engine-tables.sql')
    $machine = Get-BenchMachine $server
    $have = 0L
    foreach ($size in $Sizes -split ',' | ForEach-Object { [long]$_ } | Sort-Object) {
        $load = Seconds { Add-BenchTriggers $server ($have + 1) $size -Routed -Blocked; Invoke-BenchPsql $server 'VACUUM ANALYZE workflow_triggers' }
        Write-Host ('Grew the table to {0:N0} rows in {1:N0} s' -f $size, $load)
        $have = $size

        # Lookup: the first read of 500 (source, event type) pairs of the first block, 50 rows each at every size, and
        # the second read, as a running engine reads them.
        $lookups = Measure-BenchLookups $LookupCalls -Sources 100
        Add-Point 'Lookup -Source -EventType p50, first read' $size (Get-Percentile $lookups.First 0.5) 'ms' $true
        Add-Point 'Lookup -Source -EventType p50' $size (Get-Percentile $lookups.Second 0.5) 'ms' $true
        Add-Point 'Lookup -Source -EventType p99' $size (Get-Percentile $lookups.Second 0.99) 'ms' $true

        foreach ($command in 'Get-TriggerHealth', 'Get-TriggerIndexHealth') {
            Add-Point $command $size (1000 * (Get-Median (Get-Runs { & $command -WarningAction SilentlyContinue }))) 'ms' $true
        }

        foreach ($line in 'Get-WorkflowTrigger -Source source-1', 'Get-WorkflowTrigger -WorkflowId wf_') {
            $parameter = ($line -split ' ')[1]
            Add-Point "Tab completion of $parameter" $size (1000 * (Get-Median (Get-Runs { TabExpansion2 -inputScript $line -cursorColumn $line.Length }))) 'ms' $true
        }

        # Backfill of one workflow's triggers (a tenth of the table), from untargeted, vacuumed rows.
        Invoke-BenchPsql $server "UPDATE workflow_triggers SET target_node_id = NULL WHERE workflow_id = 'wf_000000000001'; VACUUM ANALYZE workflow_triggers;"
        $backfill = Seconds { $script:summary = Invoke-TriggerBackfill -WorkflowId wf_000000000001 }
        Add-Point 'Backfill, seconds per million triggers' $size ($backfill / $script:summary.Updated * 1e6) 's'

        # Streaming every row in a fresh process, to read its peak memory; psql \copy of the same rows beside it.
        $streamScript = "Import-Module '$ModulePath'; `$w = [Diagnostics.Stopwatch]::StartNew(); `$n = (Get-WorkflowTrigger -ConnectionString '$($server.ConnectionString)' | Measure-Object).Count; `$s = `$w.Elapsed.TotalSeconds; '{0}|{1}|{2}' -f `$n, `$s, ([Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64 / 1MB)"
        $count, $streamSeconds, $peakMb = (& $pwshExe $pwshDll -NoProfile -NonInteractive -Command $streamScript | Select-Object -Last 1) -split '\|'
        if ([long]$count -ne $size) { throw "Streaming returned $count rows of $size." }
        $psqlSeconds = Seconds { Invoke-BenchPsql $server '\copy (SELECT * FROM workflow_triggers ORDER BY id) TO /dev/null' }
        Add-Point 'Streaming every row' $size ([double]$streamSeconds) 's'
        Add-Point 'psql \copy of every row' $size $psqlSeconds 's'
        Add-Point 'Streaming, peak working set' $size ([double]$peakMb) 'MB'

        Add-Point 'Export-WorkflowTrigger of every trigger' $size (Seconds { Export-WorkflowTrigger -Path $exportPath -Force }) 's'
        Remove-Item $exportPath
    }
}
finally {
    Disconnect-TriggerDatabase
    & dotnet $TestServerDll stop --state $server.Stop
    Remove-Item $exportPath -ErrorAction Ignore
}

# The table, the CSV the plot reads, the plot, and the run in results.md.
$measuredSizes = $points.Rows | Sort-Object -Unique
$largest = $measuredSizes[-1]; $before = $measuredSizes[-2]
$rowsOut = foreach ($name in $points.Measure | Select-Object -Unique) {
    $group = @($points | Where-Object Measure -eq $name)
    $byRows = @{}; foreach ($p in $group) { $byRows["$($p.Rows)"] = $p }
    $first = $group[0]
    $growth = $byRows["$largest"].Value / $byRows["$before"].Value
    $tableGrowth = $largest / $before
    $faster = $first.Unit -ne 'MB' -and $growth -gt 1.2 * $tableGrowth
    $slow = $first.Interactive -and $first.Unit -eq 'ms' -and $byRows["$largest"].Value -gt 1000
    [pscustomobject]@{
        Measure = $name
        Unit = $first.Unit
        Values = foreach ($size in $measuredSizes) { '{0:N2}' -f $byRows["$size"].Value }
        Growth = '{0:N1}x for {1:N0}x the rows' -f $growth, $tableGrowth
        Verdict = if ($faster) { 'grows faster than the table' } elseif ($slow) { 'over a second' } else { 'ok' }
    }
}
$csv = Join-Path $PSScriptRoot 'growth.csv'
$points | Select-Object Measure, Rows, Value, Unit | Export-Csv $csv -UseQuotes AsNeeded
$md = @(
    '# Growth with the table'
    ''
    "Measured $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC by ``build.ps1 Bench -Growth``: $machine."
    ''
    "![Cost against table size](growth.png)"
    ''
    '| Measure | Unit | ' + (($measuredSizes | ForEach-Object { '{0:N0}' -f $_ }) -join ' | ') + ' | Growth | Verdict |'
    '|---|---|' + ('---|' * $measuredSizes.Count) + '---|---|'
    $rowsOut | ForEach-Object { "| $($_.Measure) | $($_.Unit) | $($_.Values -join ' | ') | $($_.Growth) | $($_.Verdict) |" }
)
$md | Set-Content (Join-Path $PSScriptRoot 'growth.md')
& dotnet run -c Release --project (Join-Path $PSScriptRoot 'GrowthPlot/GrowthPlot.csproj') -- $csv (Join-Path $PSScriptRoot 'growth.png')
if ($LASTEXITCODE) { throw 'GrowthPlot failed.' }
Add-BenchRun ('build.ps1 Bench -Growth, {0} triggers' -f (($measuredSizes | ForEach-Object { '{0:N0}' -f $_ }) -join ', ')) $machine @(
    $rowsOut | ForEach-Object {
        [pscustomobject]@{ Measure = $_.Measure; WorkflowTriggers = "$($_.Values -join ' / ') $($_.Unit)"; Baseline = ''; Ratio = $_.Growth; Goal = 'no faster than the table; interactive under 1 s'; Met = $_.Verdict -eq 'ok' }
    }
)
$md | Write-Host

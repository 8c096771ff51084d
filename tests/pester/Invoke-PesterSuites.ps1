#requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester suites against the built module and writes a pass/fail summary for build.ps1.
.DESCRIPTION
    Uses the throwaway PostgreSQL in $env:WORKFLOW_TRIGGERS_TEST_CONNECTION (build.ps1 Test sets it); when it is
    not set, starts one for this run and removes it at the end. Pester comes from the NuGet package cache, where
    the test server project's restore puts it.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/WorkflowTriggers/WorkflowTriggers.psd1'),
    [string] $SummaryPath
)

$ErrorActionPreference = 'Stop'
$packages = (dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
Import-Module (Join-Path $packages.Trim() 'pester/5.7.1/tools/Pester.psd1') -Force

$env:WT_MODULE_PATH = (Resolve-Path $ModulePath).Path
$testServer = Join-Path $PSScriptRoot '../WorkflowTriggers.TestServer/bin/Release/net10.0/WorkflowTriggers.TestServer.dll'
$stop = $null
if (-not $env:WORKFLOW_TRIGGERS_TEST_CONNECTION) {
    $lines = & dotnet $testServer start --owner-pid $PID
    $env:WORKFLOW_TRIGGERS_TEST_CONNECTION = ($lines | Where-Object { $_ -like 'CONNECTION=*' }) -replace '^CONNECTION=', ''
    $stop = ($lines | Where-Object { $_ -like 'STOP=*' }) -replace '^STOP=', ''
}

try {
    $configuration = New-PesterConfiguration
    $configuration.Run.Path = $PSScriptRoot
    $configuration.Run.PassThru = $true
    $configuration.Output.Verbosity = 'Normal'
    $result = Invoke-Pester -Configuration $configuration
}
finally {
    if ($stop) { & dotnet $testServer stop --state $stop }
}

$summary = [ordered]@{
    Passed = $result.PassedCount
    # A test file that fails to run (parse error, error outside any block) counts once; a file that merely holds
    # failed tests is already counted by its tests.
    Failed = $result.FailedCount + $result.FailedBlocksCount + @($result.Containers | Where-Object { $_.Result -eq 'Failed' -and $_.ErrorRecord.Count -gt 0 }).Count
    Skipped = $result.SkippedCount
    Total  = $result.TotalCount
}
if ($SummaryPath) { $summary | ConvertTo-Json | Set-Content $SummaryPath }
exit ([int]($summary.Failed -gt 0))

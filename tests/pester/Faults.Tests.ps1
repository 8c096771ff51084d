BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:db = Initialize-SuiteDatabase -NoConnect
    function Get-CountOf([string] $WorkflowId) { (Get-WorkflowTrigger -ConnectionString $script:db -WorkflowId $WorkflowId | Measure-Object).Count }
}

AfterAll {
    Remove-SuiteDatabase $script:db
}

Describe 'Faults' {
    It 'Ctrl+C during a piped create keeps whole batches only and writes nothing after the stop' {
        $shell = [powershell]::Create()
        $null = $shell.AddScript({
                param($module, $connectionString)
                Import-Module $module
                1..400000 | ForEach-Object { [pscustomobject]@{ Name = "Stopped $_"; WorkflowId = 'wf_stop'; Source = 'webhook-event-source'; EventType = 'webhook_received' } } |
                    New-WorkflowTrigger -ConnectionString $connectionString
            }).AddArgument($env:WT_MODULE_PATH).AddArgument($script:db)
        $null = $shell.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(90)
        while ([DateTime]::UtcNow -lt $deadline -and (Get-CountOf wf_stop) -lt 5000) { Start-Sleep -Milliseconds 50 }
        $shell.Stop()
        $shell.Dispose()

        $afterStop = Get-CountOf wf_stop
        $afterStop | Should -BeGreaterThan 0
        $afterStop | Should -BeLessThan 400000
        ($afterStop % 5000) | Should -Be 0 -Because 'each batch of 5,000 is one transaction: all of it or none'
        Start-Sleep -Milliseconds 500
        Get-CountOf wf_stop | Should -Be $afterStop
    }

    It 'turns a connection the server drops mid-stream into an ErrorRecord with the server message, and the next call works' {
        # About 60 MB of rows: far more than the socket and driver buffers hold, so the server is still sending when
        # its session is ended, whatever the machine's buffer sizes (with 4 MB, a fast server sometimes finished first).
        Invoke-TestSql $script:db @'
INSERT INTO workflow_triggers (name, workflow_id, source, event_type, config)
SELECT 'Streamed ' || g, 'wf_lost', 'webhook-event-source', 'webhook_received', jsonb_build_object('padding', repeat('x', 2000))
FROM generate_series(1, 30000) g
'@
        $script:killed = $false
        $failure = $null
        try {
            Get-WorkflowTrigger -ConnectionString $script:db -WorkflowId wf_lost | ForEach-Object {
                if (-not $script:killed) {
                    $script:killed = $true
                    Invoke-TestSql $script:db 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()'
                }
            }
        }
        catch { $failure = $_ }

        $failure | Should -Not -BeNullOrEmpty
        $failure.CategoryInfo.Category | Should -Be 'ConnectionError'
        # The server's own words when it got them out before closing the socket, else the driver's.
        $failure.Exception.Message | Should -Match 'The connection to Host=127\.0\.0\.1;Port=\d+;Database=\w+;Username=\w+ failed: .*(terminating connection|end of the stream)'
        $failure.Exception.Message | Should -Not -Match '\bat [A-Z]\w+\.' -Because 'no stack trace in the message'
        (Get-WorkflowTrigger -ConnectionString $script:db -WorkflowId wf_lost | Select-Object -First 1).WorkflowId | Should -Be 'wf_lost'
    }

    It 'says how much a backfill stopped with Ctrl+C has committed' {
        Add-EngineTables $script:db
        Invoke-TestSql $script:db @'
INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
SELECT 'Backfilled ' || g, 'wf_bd11290f923b', 'webhook-event-source', 'webhook_received' FROM generate_series(1, 300000) g
'@
        function Get-Targeted { [int](Get-TestScalar $script:db "SELECT count(*) FROM workflow_triggers WHERE name LIKE 'Backfilled %' AND target_node_id IS NOT NULL") }
        # A console pwsh of its own on a terminal (script(1) gives it one), stopped by SIGINT as Ctrl+C stops it: the
        # warning goes to its host, the only place a stopped pipeline can still write to.
        if (-not (Get-Command script -ErrorAction SilentlyContinue)) { Set-ItResult -Skipped -Because 'script(1) is not installed'; return }
        $childScript = Join-Path $TestDrive 'backfill-child.ps1'
        $transcript = Join-Path $TestDrive 'backfill-child.out'
        @"
`$PSStyle.OutputRendering = 'PlainText'
`$ProgressPreference = 'SilentlyContinue'
Import-Module '$env:WT_MODULE_PATH'
Invoke-TriggerBackfill -ConnectionString '$script:db' -WorkflowId wf_bd11290f923b -BatchSize 500 -Confirm:`$false
"@ | Set-Content $childScript
        $start = [System.Diagnostics.ProcessStartInfo]::new('script')
        # SIGINT at its default in the child, as in a console: a runner started in the background (a CI job, `cmd &`)
        # passes SIGINT on ignored, and .NET then never sees it.
        foreach ($arg in @('-qfec', "env --default-signal=INT '$([Environment]::ProcessPath)' '$(Join-Path $PSHOME 'pwsh.dll')' -NoProfile -File '$childScript'", $transcript)) { $start.ArgumentList.Add($arg) }
        $start.RedirectStandardOutput = $true
        $terminal = [System.Diagnostics.Process]::Start($start)
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            while ([DateTime]::UtcNow -lt $deadline -and ($targetedAtSignal = Get-Targeted) -lt 2000) { Start-Sleep -Milliseconds 20 }
            $child = pgrep -f "pwsh.dll -NoProfile -File $childScript" | Select-Object -First 1
            $child | Should -Not -BeNullOrEmpty
            $signalled = "SIGINT sent to process $child at $([DateTime]::UtcNow.ToString('HH:mm:ss.fff'))Z with $targetedAtSignal trigger(s) targeted"
            kill -INT $child
            $terminal.WaitForExit(60000) | Should -BeTrue
        }
        finally { if (-not $terminal.HasExited) { $terminal.Kill($true) } }
        # The terminal wraps long lines: read the warning with line ends and terminal codes taken out.
        $text = (Get-Content -Raw $transcript) -replace "\e\[[0-9;?]*[A-Za-z]", '' -replace "[\r\n]", ''
        $text -match 'Invoke-TriggerBackfill stopped: ([\d,]+) trigger\(s\) in ([\d,]+) batch\(es\) were committed' | Should -BeTrue -Because "$signalled; the child wrote: $text"
        $reported = [int]($Matches[1] -replace ',')
        $reported | Should -BeGreaterThan 0
        $reported | Should -BeLessThan 300000
        # What was reported is committed; a batch whose commit raced the stop may be there too.
        (Get-Targeted) - $reported | Should -BeIn @(0, 500)
    }
}

Describe 'Lock waits' {
    BeforeAll {
        $script:lockDb = New-TestDatabase
        Add-RoutingGraph $script:lockDb
        Install-TriggerSchema -ConnectionString $script:lockDb | Out-Null
        $script:holder = $null
    }

    AfterEach { Stop-LockHolder $script:holder }

    AfterAll { Remove-TestDatabase $script:lockDb }

    It 'stops a write blocked by another session at the command timeout with LockTimeout, naming that session, and writes nothing' {
        $trigger = New-WorkflowTrigger -ConnectionString $script:lockDb -Name 'Contended' -WorkflowId wf_bd11290f923b -Source webhook-event-source -EventType webhook_received
        $script:holder = Start-LockHolder $script:lockDb "UPDATE workflow_triggers SET description = 'held' WHERE id = $($trigger.Id)"
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $blocked = try { Set-WorkflowTrigger -ConnectionString "$script:lockDb;Command Timeout=2" -Id $trigger.Id -Description 'mine' -ErrorAction Stop } catch { $_ }
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 20
        $blocked.FullyQualifiedErrorId | Should -BeLike 'LockTimeout,*'
        $blocked.CategoryInfo.Category | Should -Be 'OperationTimeout'
        "$blocked" | Should -Match 'within 2 s'
        "$blocked" | Should -Match "server process $($script:holder.HolderPid) \(user \w+, application 'wt-lock-holder', .*locking workflow_triggers"
        $blocked.ErrorDetails.RecommendedAction | Should -Match "pg_terminate_backend\($($script:holder.HolderPid)\)"
        Stop-LockHolder $script:holder
        (Get-WorkflowTrigger -ConnectionString $script:lockDb -Id $trigger.Id).Description | Should -BeNullOrEmpty -Because 'neither the timed-out write nor the killed holder committed'
    }

    It 'bounds Invoke-TriggerBackfill -WhatIf by -LockTimeoutSeconds on a table another session locked' {
        Reset-RoutingTriggers $script:lockDb
        $script:holder = Start-LockHolder $script:lockDb 'LOCK TABLE workflow_triggers IN ACCESS EXCLUSIVE MODE'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $blocked = try { Invoke-TriggerBackfill -ConnectionString $script:lockDb -WhatIf -LockTimeoutSeconds 1 -ErrorAction Stop 6>$null } catch { $_ }
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 15
        $blocked.FullyQualifiedErrorId | Should -BeLike 'LockTimeout,*'
        "$blocked" | Should -Match 'Waited \d+ s for a lock .* stopped at the lock timeout'
        "$blocked" | Should -Match "server process $($script:holder.HolderPid) "
    }

    It 'stops Invoke-TriggerBackfill at a locked row after -LockTimeoutSeconds and reports the batches it committed before' {
        Reset-RoutingTriggers $script:lockDb 400
        # Id 389 belongs to wf_multi, which has an input node, and lies on the last of the table's pages: the batches
        # before the one that holds it commit, and that one has to wait for it.
        $script:holder = Start-LockHolder $script:lockDb 'SELECT 1 FROM workflow_triggers WHERE id = 389 FOR UPDATE'
        $blocked = try { Invoke-TriggerBackfill -ConnectionString $script:lockDb -BatchSize 30 -LockTimeoutSeconds 1 -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue } catch { $_ }
        $blocked.FullyQualifiedErrorId | Should -BeLike 'LockTimeout,*'
        "$blocked" -match 'Before it stopped, (\d+) trigger\(s\) in (\d+) batch\(es\) were committed' | Should -BeTrue -Because "$blocked"
        $committed = [int]$Matches[1]
        [int]$Matches[2] | Should -BeGreaterThan 1
        $committed | Should -BeGreaterThan 0
        [int](Get-TestScalar $script:lockDb 'SELECT count(*) FROM workflow_triggers WHERE target_node_id IS NOT NULL') | Should -Be $committed
    }

    It 'honours Invoke-TriggerIndexMaintenance -LockTimeoutSeconds from its first query, the list of indexes and their sizes' {
        # A plain REINDEX in an open transaction locks the index itself: reading its size has to wait.
        $script:holder = Start-LockHolder $script:lockDb 'REINDEX INDEX idx_workflow_triggers_source'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $blocked = try { Invoke-TriggerIndexMaintenance -ConnectionString $script:lockDb -Reindex -LockTimeoutSeconds 1 -Confirm:$false -ErrorAction Stop } catch { $_ }
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 15 -Because 'the default command timeout is 30 s'
        $blocked.FullyQualifiedErrorId | Should -BeLike 'LockTimeout,*'
        $blocked.CategoryInfo.Category | Should -Be 'OperationTimeout'
        "$blocked" | Should -Match "server process $($script:holder.HolderPid) "
    }

    It 'reports -Analyze by a user who may not analyze the table as PermissionDenied, not as done' {
        $role = 'wt_pester_analyst'
        try {
            Invoke-TestSql $script:lockDb "CREATE ROLE $role LOGIN; GRANT USAGE ON SCHEMA public TO $role; GRANT SELECT ON ALL TABLES IN SCHEMA public TO $role;"
            $skipped = try { Invoke-TriggerIndexMaintenance -ConnectionString "$script:lockDb;Username=$role;Application Name=$role" -Analyze -ErrorAction Stop } catch { $_ }
            $skipped.FullyQualifiedErrorId | Should -BeLike 'PermissionDenied,*'
            $skipped.CategoryInfo.Category | Should -Be 'PermissionDenied'
            "$skipped" | Should -Match 'skipped ANALYZE of workflow_triggers'
        }
        finally {
            Invoke-TestSql $script:lockDb "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$role'; REVOKE ALL ON ALL TABLES IN SCHEMA public FROM $role; REVOKE ALL ON SCHEMA public FROM $role; DROP ROLE IF EXISTS $role;"
        }
    }
}

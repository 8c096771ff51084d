BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:db = Initialize-SuiteDatabase -NoConnect
}

AfterAll {
    Remove-SuiteDatabase $script:db
}

Describe 'Connections' {
    It 'uses a -Connection object, then $env:WORKFLOW_TRIGGERS_CONNECTION when nothing else is given' {
        $connection = Connect-TriggerDatabase -ConnectionString $script:db -PassThru
        Disconnect-TriggerDatabase
        (Get-TriggerSchema -Connection $connection).CurrentVersion | Should -Be '2.0.0'

        $saved = $env:WORKFLOW_TRIGGERS_CONNECTION
        try {
            $env:WORKFLOW_TRIGGERS_CONNECTION = $script:db
            (Get-TriggerSchema).CurrentVersion | Should -Be '2.0.0'
        }
        finally { $env:WORKFLOW_TRIGGERS_CONNECTION = $saved }
    }

    It 'refuses -Connection and -ConnectionString together' {
        $connection = Connect-TriggerDatabase -ConnectionString $script:db -PassThru
        { Get-TriggerSchema -Connection $connection -ConnectionString $script:db -ErrorAction Stop } | Should -Throw -ErrorId 'ConnectionAmbiguous,*'
    }
}

Describe 'Connect-TriggerDatabase' {
    BeforeAll { $script:db = New-TestDatabase }
    AfterAll { Disconnect-TriggerDatabase; Remove-TestDatabase $script:db }

    It 'sets the session default and returns a connection object without the password' {
        $parts = @{}
        foreach ($pair in $script:db -split ';') { $key, $value = $pair -split '=', 2; $parts[$key] = $value }
        $server = '{0}:{1}' -f $parts['Host'], $parts['Port']
        $credential = [pscredential]::new('postgres', (ConvertTo-SecureString 'pw-Never-Shown-42' -AsPlainText -Force))
        $connection = Connect-TriggerDatabase -Server $server -Database $parts['Database'] -Credential $credential -PassThru -Verbose 4>&1
        $verbose = $connection | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $object = $connection | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $object.Database | Should -Be $parts['Database']
        $object.ServerVersion | Should -Match '^\d+'
        ($object | Format-List * | Out-String) + $object.ToString() + ($verbose | Out-String) | Should -Not -Match 'pw-Never-Shown-42'
        (Get-TriggerSchema).Database | Should -Be $object.ToString()
    }

    It '-ReadFromStandby routes one connection: reads to a standby when up (else the primary), writes to the primary' {
        $parts = @{}
        foreach ($pair in $script:db -split ';') { $key, $value = $pair -split '=', 2; $parts[$key] = $value }
        # The same server twice: no standby is up, so reads fall back to the primary, and writes find it.
        $both = $script:db -replace 'Host=[^;]+', ('Host={0}:{1},{0}:{1}' -f $parts['Host'], $parts['Port'])
        Install-TriggerSchema -ConnectionString $script:db | Out-Null
        $routed = Connect-TriggerDatabase $both -ReadFromStandby -PassThru
        $routed.ReadFromStandby | Should -BeTrue
        $routed.Hosts.Count | Should -Be 2
        New-WorkflowTrigger -Name 'Routed write' -WorkflowId wf_1 -Source webhook-event-source -EventType webhook_received | Out-Null
        (Get-WorkflowTrigger -Name 'Routed write').Name | Should -Be 'Routed write'

        $one = try { Connect-TriggerDatabase $script:db -ReadFromStandby -ErrorAction Stop } catch { $_ }
        $one.FullyQualifiedErrorId | Should -BeLike 'InvalidArgument,*'
        $one.Exception.Message | Should -BeLike '*multi-host*'
    }

    It 'reports a server that does not answer as a connection error without the password' {
        $error.Clear()
        { Connect-TriggerDatabase -ConnectionString 'Host=127.0.0.1;Port=1;Database=x;Username=u;Password=pw-Never-Shown-42;Timeout=2' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConnectionFailed,WorkflowTriggers.Commands.ConnectTriggerDatabaseCommand'
        ($error[0] | Out-String) + $error[0].TargetObject | Should -Not -Match 'pw-Never-Shown-42'
        $error[0].CategoryInfo.Category | Should -Be 'ConnectionError'
    }
}

Describe 'A server that takes no writes' {
    It 'stops a write cmdlet before it sends anything, with ReadOnlyServer and what to do' {
        $readOnly = New-TestDatabase
        try {
            Install-TriggerSchema -ConnectionString $readOnly | Out-Null
            $name = Get-TestScalar $readOnly 'SELECT current_database()'
            Invoke-TestSql $readOnly "ALTER DATABASE $name SET default_transaction_read_only = on"
            # A pool of its own: the setting applies to sessions opened after it.
            $readOnly = "$readOnly;Application Name=wt-read-only"
            $refused = try { New-WorkflowTrigger -ConnectionString $readOnly -Name 'Nowhere' -WorkflowId wf_1 -Source webhook-event-source -EventType webhook_received -ErrorAction Stop } catch { $_ }
            $refused.FullyQualifiedErrorId | Should -BeLike 'ReadOnlyServer,*'
            $refused.ErrorDetails.RecommendedAction | Should -BeLike '*primary*'
            @(Get-WorkflowTrigger -ConnectionString $readOnly).Count | Should -Be 0
            New-WorkflowTrigger -ConnectionString $readOnly -Name 'Only imagined' -WorkflowId wf_1 -Source webhook-event-source -EventType webhook_received -WhatIf | Should -BeNullOrEmpty
        }
        finally { Remove-TestDatabase ($readOnly -replace ';Application Name=wt-read-only$') }
    }
}

Describe 'Behind PgBouncer in transaction pooling mode' {
    BeforeAll {
        $script:direct = New-TestDatabase
        $script:pooled = Get-PooledConnectionString $script:direct
    }
    AfterAll { Remove-TestDatabase $script:direct }

    It 'installs, writes and reads through the pooler, and stops a concurrent rebuild at once with SessionRequired and what to do' {
        if (-not $script:pooled) { Set-ItResult -Skipped -Because 'PgBouncer is not installed (apt-get install -y pgbouncer)'; return }
        Install-TriggerSchema -ConnectionString $script:pooled | Out-Null
        (Install-TriggerSchema -ConnectionString $script:pooled).Action | Should -Be 'Current'
        (Get-TriggerSchema -ConnectionString $script:pooled).PendingSteps | Should -BeNullOrEmpty
        1..3 | ForEach-Object { [pscustomobject]@{ Name = "Pooled $_"; WorkflowId = 'wf_1'; Source = 'webhook-event-source'; EventType = 'webhook_received' } } |
            New-WorkflowTrigger -ConnectionString $script:pooled | Out-Null
        @(Get-WorkflowTrigger -ConnectionString $script:pooled).Count | Should -Be 3

        $refused = try { Invoke-TriggerIndexMaintenance -ConnectionString $script:pooled -Reindex -Confirm:$false -ErrorAction Stop } catch { $_ }
        $refused.FullyQualifiedErrorId | Should -BeLike 'SessionRequired,*'
        $refused.Exception.Message | Should -BeLike '*connection pooler*Nothing was sent*'
        $refused.ErrorDetails.RecommendedAction | Should -BeLike '*server itself*'
        (Invoke-TriggerIndexMaintenance -ConnectionString $script:pooled -Analyze -Confirm:$false).Action | Should -Be 'Analyze'
        Get-TestScalar $script:pooled 'SHOW lock_timeout' | Should -Be '0'
    }
}

Describe 'A user without a privilege' {
    It 'gets PermissionDenied naming the table and the privileges it lacks, and nothing is written' {
        $db = New-TestDatabase
        $role = 'wt_pester_reader'
        try {
            Install-TriggerSchema -ConnectionString $db | Out-Null
            $trigger = New-WorkflowTrigger -ConnectionString $db -Name 'Guarded' -WorkflowId wf_1 -Source webhook-event-source -EventType webhook_received
            Invoke-TestSql $db "CREATE ROLE $role LOGIN; GRANT USAGE ON SCHEMA public TO $role; GRANT SELECT ON workflow_triggers TO $role;"
            $asReader = "$db;Username=$role;Application Name=$role"
            $denied = try { Disable-WorkflowTrigger -ConnectionString $asReader -Id $trigger.Id -ErrorAction Stop } catch { $_ }
            $denied.FullyQualifiedErrorId | Should -BeLike 'PermissionDenied,*'
            $denied.CategoryInfo.Category | Should -Be 'PermissionDenied'
            $denied.Exception.Message | Should -BeLike "*User $role lacks INSERT, UPDATE, DELETE on workflow_triggers*"
            $denied.ErrorDetails.RecommendedAction | Should -BeLike '*GRANT*'
            (Get-WorkflowTrigger -ConnectionString $db -Id $trigger.Id).IsActive | Should -BeTrue
        }
        finally {
            Invoke-TestSql $db "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$role'; REVOKE ALL ON workflow_triggers FROM $role; REVOKE ALL ON SCHEMA public FROM $role; DROP ROLE IF EXISTS $role;"
            Remove-TestDatabase $db
        }
    }
}

Describe 'Connections in ForEach-Object -Parallel and thread jobs' {
    BeforeAll {
        $script:parallelDb = New-TestDatabase
        Install-TriggerSchema -ConnectionString $script:parallelDb | Out-Null
        New-WorkflowTrigger -ConnectionString $script:parallelDb -Name 'Shared' -WorkflowId wf_1 -Source webhook-event-source -EventType webhook_received | Out-Null
        $script:connected = Connect-TriggerDatabase -ConnectionString $script:parallelDb -PassThru
    }

    AfterAll { Disconnect-TriggerDatabase; Remove-TestDatabase $script:parallelDb }

    It 'does not hand the session connection to a -Parallel block, and says how to pass it in' {
        $module = $env:WT_MODULE_PATH
        $failure = 1 | ForEach-Object -Parallel {
            Import-Module $using:module
            try { Get-WorkflowTrigger -ErrorAction Stop } catch { $_ }
        }
        $failure.FullyQualifiedErrorId | Should -BeLike 'NoConnection,*'
        "$failure" | Should -Match "connected runspace \d+ to $([regex]::Escape($script:connected.ToString()))"
        "$failure" | Should -Match '-Connection \$using:db'
        $failure.ErrorDetails.RecommendedAction | Should -Match 'Connect-TriggerDatabase -PassThru'
    }

    It 'works with the connection passed in, in -Parallel blocks and in thread jobs' {
        $module = $env:WT_MODULE_PATH
        $db = $script:connected
        $names = 1..4 | ForEach-Object -Parallel {
            Import-Module $using:module
            (Get-WorkflowTrigger -Connection $using:db -Name 'Shared').Name
        } -ThrottleLimit 4
        $names | Should -Be @('Shared', 'Shared', 'Shared', 'Shared')
        $job = Start-ThreadJob { param($module, $db) Import-Module $module; (Get-WorkflowTrigger -Connection $db -Name 'Shared').Name } -ArgumentList $module, $db
        $job | Wait-Job -Timeout 60 | Receive-Job | Should -Be 'Shared'
        $job | Remove-Job -Force
    }
}

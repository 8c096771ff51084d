BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:db = Initialize-SuiteDatabase -RoutingGraph
    # Roles belong to the whole server: names of this run's own, dropped at the end.
    $script:prefix = 'wtp' + [guid]::NewGuid().ToString('N').Substring(0, 10)
    $script:password = 'wt-test-password'
    function New-LoginRole([string] $Suffix, [string] $Grants = '') {
        $name = "$($script:prefix)_$Suffix"
        Invoke-TestSql $script:db ("CREATE ROLE $name LOGIN PASSWORD '$($script:password)'; " + $Grants.Replace('{0}', $name)) | Out-Null
        $name
    }
    function Get-ConnectionStringAs([string] $Role) {
        ("$script:db" -replace '(?i)(^|;)\s*(Username|User Id|User Name)=[^;]*', '') + ";Username=$Role;Password=$($script:password)"
    }
}

AfterAll {
    Invoke-TestSql $script:db @"
DO `$`$ DECLARE r text; BEGIN
    FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE '$($script:prefix)%' ORDER BY rolname DESC LOOP
        EXECUTE format('DROP OWNED BY %I CASCADE', r);
        EXECUTE format('DROP ROLE %I', r);
    END LOOP;
END `$`$;
"@
    Remove-SuiteDatabase $script:db
}

Describe 'Objects of the module that someone else made first' {
    It 'refuses a history table planted by the application role, names it and its owner, and turns nothing on' {
        $app = New-LoginRole 'app' 'GRANT USAGE, CREATE ON SCHEMA public TO {0}; GRANT SELECT, INSERT, UPDATE, DELETE ON workflow_triggers TO {0};'
        Invoke-TestSql (Get-ConnectionStringAs $app) 'CREATE TABLE public.workflow_triggers_history (id bigint)'
        try {
            $refused = try { Enable-TriggerHistory -ErrorAction Stop } catch { $_ }
            $refused.FullyQualifiedErrorId | Should -Be 'ForeignObject,WorkflowTriggers.Commands.EnableTriggerHistoryCommand'
            $refused.CategoryInfo.Category | Should -Be 'SecurityError'
            "$refused" | Should -Match "public\.workflow_triggers_history \(owner $app\)"
            $refused.ErrorDetails.RecommendedAction | Should -Match 'about_WorkflowTriggers_Security'
            Get-TestScalar $script:db "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'workflow_triggers'::regclass AND NOT tgisinternal" | Should -Be 0
        }
        finally { Invoke-TestSql $script:db 'DROP TABLE public.workflow_triggers_history' }
    }
}

Describe 'History that cannot be switched off unseen' {
    BeforeAll { Enable-TriggerHistory | Out-Null }

    It 'fails Get-TriggerHealth while the recording triggers are disabled, and passes once they are enabled again' {
        (Test-TriggerHealth -Detailed | Where-Object Name -eq ChangeHistory).Status | Should -Be 'Pass'
        Invoke-TestSql $script:db 'ALTER TABLE workflow_triggers DISABLE TRIGGER USER'
        $report = Get-TriggerHealth
        $report.IsHealthy | Should -BeFalse
        $check = $report.Checks | Where-Object Name -eq ChangeHistory
        $check.Status | Should -Be 'Fail'
        $check.Detail | Should -Match 'workflow_triggers_history_insert on workflow_triggers is disabled'
        $check.RecommendedAction | Should -Match 'Enable-TriggerHistory'
        Invoke-TestSql $script:db 'ALTER TABLE workflow_triggers ENABLE TRIGGER USER'
        (Test-TriggerHealth -Detailed | Where-Object Name -eq ChangeHistory).Status | Should -Be 'Pass'
    }

    It 'refuses a -Reason PostgreSQL cannot store, or one too long, and writes nothing' {
        $trigger = New-SampleTrigger 'Reason checked'
        $nul = try { Disable-WorkflowTrigger -Id $trigger.Id -Reason "CHG-1`0" -ErrorAction Stop } catch { $_ }
        $nul.FullyQualifiedErrorId | Should -BeLike 'InvalidReason,*'
        "$nul" | Should -Match 'Reason holds a NUL character'
        $long = try { Disable-WorkflowTrigger -Id $trigger.Id -Reason ('x' * 1001) -ErrorAction Stop } catch { $_ }
        "$long" | Should -Match 'at most 1,000'
        (Get-WorkflowTrigger -Id $trigger.Id).IsActive | Should -BeTrue
    }

    It 'refuses to put a deleted trigger over an unrelated one that got its id, unless -Force' {
        $gone = New-SampleTrigger 'Deleted, id reused'
        Remove-WorkflowTrigger -Id $gone.Id -Confirm:$false
        Invoke-TestSql $script:db "INSERT INTO workflow_triggers (id, name, workflow_id, source, event_type) VALUES ($($gone.Id), 'Unrelated', 'wf_multi', 'webhook-event-source', 'webhook_received')"
        $refused = try { Get-TriggerHistory -Id $gone.Id -Operation Delete | Restore-WorkflowTrigger -Confirm:$false -ErrorAction Stop } catch { $_ }
        $refused.FullyQualifiedErrorId | Should -BeLike 'TriggerIdentityConflict,*'
        "$refused" | Should -Match "'Deleted, id reused'.*'Unrelated'"
        (Get-WorkflowTrigger -Id $gone.Id).Name | Should -Be 'Unrelated'
        $forced = Get-TriggerHistory -Id $gone.Id -Operation Delete | Restore-WorkflowTrigger -Force -Confirm:$false
        $forced.Applied | Should -BeTrue
        (Get-WorkflowTrigger -Id $gone.Id).Name | Should -Be 'Deleted, id reused'
    }

    It 'refuses a moment before the latest clean-up''s cut' {
        $trigger = New-SampleTrigger 'Before the cut'
        Start-Sleep -Milliseconds 20
        $moment = Get-Date
        Start-Sleep -Milliseconds 20
        Set-WorkflowTrigger -Id $trigger.Id -Description 'after the moment'
        Start-Sleep -Milliseconds 20
        Clear-TriggerHistory -Before (Get-Date) -Confirm:$false | Out-Null
        $refused = try { Restore-WorkflowTrigger -Id $trigger.Id -AsOf $moment -Confirm:$false -ErrorAction Stop } catch { $_ }
        $refused.FullyQualifiedErrorId | Should -BeLike 'HistoryClearedThen,*'
        (Get-WorkflowTrigger -Id $trigger.Id).Description | Should -Be 'after the moment'
    }
}

Describe 'Backfill leases' {
    BeforeEach { Invoke-TestSql $script:db 'DELETE FROM workflow_triggers_leases' }

    It 'names a planted lease, breaks it only with -Force after showing it, then backfills' {
        Reset-RoutingTriggers $script:db -Count 20
        Invoke-TestSql $script:db "INSERT INTO workflow_triggers_leases (name, token, holder_host, holder_process, expires_at) VALUES ('backfill', gen_random_uuid(), 'db-admin-01', 1, now() + interval '100 years')"
        $blocked = try { Invoke-TriggerBackfill -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue } catch { $_ }
        $blocked.FullyQualifiedErrorId | Should -BeLike 'BackfillAlreadyRunning,*'
        "$blocked" | Should -Match 'not written by a backfill'
        $blocked.ErrorDetails.RecommendedAction | Should -Match 'Unlock-TriggerBackfill -Force'

        $held = try { Unlock-TriggerBackfill -Confirm:$false -ErrorAction Stop } catch { $_ }
        $held.FullyQualifiedErrorId | Should -BeLike 'BackfillLeaseHeld,*'
        (Unlock-TriggerBackfill -Force -WhatIf).Host | Should -Be 'db-admin-01'
        Get-TestScalar $script:db 'SELECT count(*) FROM workflow_triggers_leases' | Should -Be 1 -Because '-WhatIf breaks nothing'
        $broken = Unlock-TriggerBackfill -Force -Confirm:$false
        $broken.Implausible | Should -BeTrue
        (Invoke-TriggerBackfill -Confirm:$false -WarningAction SilentlyContinue).Updated | Should -BeGreaterThan 0
    }

    It 'waits for a running backfill no longer than -WaitTimeoutSeconds' {
        Reset-RoutingTriggers $script:db -Count 20
        Invoke-TestSql $script:db "INSERT INTO workflow_triggers_leases (name, token, holder_host, holder_process, expires_at) VALUES ('backfill', gen_random_uuid(), 'elsewhere', 1, now() + interval '1 minute')"
        $waited = try { Invoke-TriggerBackfill -Wait -WaitTimeoutSeconds 1 -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue } catch { $_ }
        $waited.FullyQualifiedErrorId | Should -BeLike 'BackfillAlreadyRunning,*'
        "$waited" | Should -Match 'waited 1 s'
    }
}

Describe 'Install-TriggerRole' {
    It 'plans under -WhatIf, then sets up roles that let an operator work and a reader only read' {
        $plan = Install-TriggerRole -Prefix $script:prefix -WhatIf
        $plan.Role | Should -Be @("$($script:prefix)_reader", "$($script:prefix)_operator", "$($script:prefix)_history_admin")
        $plan.Applied | Should -Be @($false, $false, $false)
        Get-TestScalar $script:db "SELECT count(*) FROM pg_roles WHERE rolname = ANY(ARRAY['$($script:prefix)_reader', '$($script:prefix)_operator', '$($script:prefix)_history_admin'])" | Should -Be 0

        $roles = Install-TriggerRole -Prefix $script:prefix -Confirm:$false
        $roles.Applied | Should -Be @($true, $true, $true)
        ($roles | Where-Object Kind -eq Operator).Grants | Should -Contain 'INSERT, UPDATE, DELETE ON TABLE public.workflow_triggers'

        $operator = New-LoginRole 'op' "GRANT $($script:prefix)_operator TO {0};"
        $reader = New-LoginRole 'ro' "GRANT $($script:prefix)_reader TO {0};"
        New-WorkflowTrigger -ConnectionString (Get-ConnectionStringAs $operator) -Name 'By the operator' -WorkflowId wf_multi -Source webhook-event-source -EventType webhook_received |
            ForEach-Object Name | Should -Be 'By the operator'
        (Get-WorkflowTrigger -ConnectionString (Get-ConnectionStringAs $reader) -Name 'By the operator').WorkflowId | Should -Be 'wf_multi'
        $denied = try {
            New-WorkflowTrigger -ConnectionString (Get-ConnectionStringAs $reader) -Name 'By the reader' -WorkflowId wf_multi -Source webhook-event-source -EventType webhook_received -ErrorAction Stop
        } catch { $_ }
        $denied.FullyQualifiedErrorId | Should -BeLike 'PermissionDenied,*'
    }

    It 'refuses a prefix that would need quoting' {
        { Install-TriggerRole -Prefix 'Bad-Prefix' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidRolePrefix,*'
    }
}

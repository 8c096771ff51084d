BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:db = Initialize-SuiteDatabase -RoutingGraph
    function Get-HistoryTableExists { (Get-TestScalar $script:db "SELECT to_regclass('workflow_triggers_history') IS NOT NULL") -eq 'True' }
}

AfterAll {
    Remove-SuiteDatabase $script:db
}

Describe 'Turning change history on and off' {
    It 'creates nothing under -WhatIf, turns on once, and a second run changes nothing' {
        Enable-TriggerHistory -WhatIf | Out-Null
        Get-HistoryTableExists | Should -BeFalse
        $on = Enable-TriggerHistory -RetentionDays 30
        $on.Enabled | Should -BeTrue
        $on.RetentionDays | Should -Be 30
        $again = Enable-TriggerHistory
        $again.Enabled | Should -BeTrue
        $again.RetentionDays | Should -Be 30 -Because 'a retention not given is kept'
        Get-TestScalar $script:db "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'workflow_triggers'::regclass AND tgname LIKE 'workflow_triggers_history_%'" | Should -Be 3
    }

    It 'stops Get-TriggerHistory with TableNotFound when history is off, and turning it off leaves the triggers untouched' {
        Enable-TriggerHistory | Out-Null
        New-SampleTrigger 'Survives history' | Out-Null
        $before = (Get-WorkflowTrigger | Measure-Object).Count
        $off = Disable-TriggerHistory -Confirm:$false
        $off.Enabled | Should -BeFalse
        Get-HistoryTableExists | Should -BeFalse
        Get-TestScalar $script:db "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'workflow_triggers'::regclass AND NOT tgisinternal" | Should -Be 0
        (Get-WorkflowTrigger | Measure-Object).Count | Should -Be $before
        $missing = try { Get-TriggerHistory -ErrorAction Stop } catch { $_ }
        $missing.FullyQualifiedErrorId | Should -BeLike 'TableNotFound,*'
        "$missing" | Should -Match 'workflow_triggers_history'
        New-SampleTrigger 'After history' | Out-Null
    }
}

Describe 'What change history records' {
    BeforeAll { Enable-TriggerHistory | Out-Null }

    It 'records a change made by psql, with its user and application, and no reason' {
        $trigger = New-SampleTrigger 'Changed by psql'
        Invoke-TestSql "$script:db;Application Name=wt-psql" "UPDATE workflow_triggers SET description = 'by hand' WHERE id = $($trigger.Id)"
        $entry = Get-TriggerHistory -Id $trigger.Id -Operation Update
        $entry.Application | Should -Be 'wt-psql'
        $entry.User | Should -Be (Get-TestScalar $script:db 'SELECT session_user')
        $entry.Reason | Should -BeNullOrEmpty
        $entry.ChangedFields | Should -Be 'Description'
        $entry.Changes[0].NewValue | Should -Be 'by hand'
    }

    It 'records each write cmdlet''s change with its -Reason' {
        $trigger = New-SampleTrigger 'Reasoned' -Extra @{ Reason = 'create: ticket-1' }
        Set-WorkflowTrigger -Id $trigger.Id -Config @{ interval_seconds = 60 } -Reason 'set: ticket-2'
        Disable-WorkflowTrigger -Id $trigger.Id -Reason 'disable: ticket-3'
        Enable-WorkflowTrigger -Id $trigger.Id -Reason 'enable: ticket-4'
        Set-TriggerTargetNode -Id $trigger.Id -NodeId pdf_input_validator -Reason 'route: ticket-5'
        Remove-WorkflowTrigger -Id $trigger.Id -Confirm:$false -Reason 'remove: ticket-6'
        $entries = @(Get-TriggerHistory -Id $trigger.Id)
        $entries.Reason | Should -Be @('create: ticket-1', 'set: ticket-2', 'disable: ticket-3', 'enable: ticket-4', 'route: ticket-5', 'remove: ticket-6')
        $entries.Operation | Should -Be @('Insert', 'Update', 'Update', 'Update', 'Update', 'Delete')
        $entries[1].Changes | Where-Object Field -eq Config | ForEach-Object NewValue | Should -Be '{"interval_seconds":60}'
        $entries[4].ChangedFields | Should -Be 'TargetNodeId'
        ($entries | Select-Object -Unique TransactionId).Count | Should -Be 6
    }

    It 'records imports and backfills with their -Reason, in bulk' {
        Reset-RoutingTriggers $script:db -Count 200
        $summary = Invoke-TriggerBackfill -Reason 'backfill: ticket-7' -Confirm:$false -WarningAction SilentlyContinue
        $entries = @(Get-TriggerHistory -Since (Get-Date).AddMinutes(-5) | Where-Object Reason -eq 'backfill: ticket-7')
        $entries.Count | Should -Be $summary.Updated
        $entries.ChangedFields | Select-Object -Unique | Should -Be 'TargetNodeId'
        $file = Join-Path $TestDrive 'import.json'
        Export-WorkflowTrigger -Path $file -WorkflowId wf_multi
        (Get-Content -Raw $file) -replace '"isActive": true', '"isActive": false' | Set-Content $file
        Import-WorkflowTrigger -Path $file -Reason 'import: ticket-8' | Out-Null
        @(Get-TriggerHistory -WorkflowId wf_multi -Operation Update | Where-Object Reason -eq 'import: ticket-8').Count | Should -Be 50
    }

    It 'records a 100,000-row create in bulk, one entry per row' {
        1..100000 | ForEach-Object { [pscustomobject]@{ Name = "Bulk $_"; WorkflowId = 'wf_000000000002'; Source = 'webhook-event-source'; EventType = 'webhook_received' } } |
            New-WorkflowTrigger -Reason 'bulk load' | Out-Null
        Get-TestScalar $script:db "SELECT count(*) FROM workflow_triggers_history WHERE reason = 'bulk load' AND operation = 'Insert'" | Should -Be 100000
    }

    It 'writes nothing to history under -WhatIf' {
        $count = Get-TestScalar $script:db 'SELECT count(*) FROM workflow_triggers_history'
        New-SampleTrigger 'Only imagined' -Extra @{ WhatIf = $true } | Out-Null
        Get-WorkflowTrigger -WorkflowId wf_000000000002 | Select-Object -First 10 | Disable-WorkflowTrigger -WhatIf -Reason 'never'
        Get-TestScalar $script:db 'SELECT count(*) FROM workflow_triggers_history' | Should -Be $count
    }

    It 'keeps each client''s reason to its own writes behind a transaction pooler' {
        $pooled = Get-PooledConnectionString $script:db
        if (-not $pooled) { Set-ItResult -Skipped -Because 'PgBouncer is not installed'; return }
        $module = $env:WT_MODULE_PATH
        $ids = 1..2 | ForEach-Object { (New-SampleTrigger "Pooled $_").Id }
        1..2 | ForEach-Object -Parallel {
            Import-Module $using:module
            $id = ($using:ids)[$_ - 1]
            foreach ($round in 1..15) {
                Set-WorkflowTrigger -ConnectionString $using:pooled -Id $id -Description "round $round" -Reason "client $_" -Confirm:$false
                Set-WorkflowTrigger -ConnectionString $using:pooled -Id $id -Description "quiet $round" -Confirm:$false
            }
        } -ThrottleLimit 2
        foreach ($client in 1, 2) {
            $entries = @(Get-TriggerHistory -Id $ids[$client - 1] -Operation Update)
            $entries.Count | Should -Be 30
            ($entries | Where-Object { $_.Changes.NewValue -like 'round *' }).Reason | Select-Object -Unique | Should -Be "client $client"
            ($entries | Where-Object { $_.Changes.NewValue -like 'quiet *' }).Reason | Where-Object { $_ } | Should -BeNullOrEmpty -Because 'a reason never outlives its transaction'
        }
    }

    It 'pipes history entries into the trigger cmdlets by their trigger id' {
        $trigger = New-SampleTrigger 'Piped from history'
        (Get-TriggerHistory -Id $trigger.Id | Get-WorkflowTrigger).Id | Should -Be $trigger.Id
    }
}

Describe 'Retention and health' {
    BeforeAll {
        Disable-TriggerHistory -Confirm:$false | Out-Null
        Enable-TriggerHistory | Out-Null
        $script:recent = New-SampleTrigger 'Recent change'
        # Entries from 40 and 20 days ago, as a long-running history would hold them.
        Invoke-TestSql $script:db @"
INSERT INTO workflow_triggers_history (changed_at, operation, trigger_id, trigger_name, workflow_id, new_row)
SELECT now() - make_interval(days => d), 'Insert', 900000 + d, 'Old ' || d, 'wf_multi', '{}'::jsonb FROM unnest(ARRAY[40, 20]) d;
"@
    }

    It 'refuses to clear without -Before when no retention is set, and clears nothing' {
        $refused = try { Clear-TriggerHistory -Confirm:$false -ErrorAction Stop } catch { $_ }
        $refused.FullyQualifiedErrorId | Should -BeLike 'RetentionNotSet,*'
        Get-TestScalar $script:db 'SELECT count(*) FROM workflow_triggers_history WHERE trigger_id > 900000' | Should -Be 2
    }

    It 'reports the history in Get-TriggerHealth, and warns when entries outlive the retention' {
        Enable-TriggerHistory -RetentionDays 30 | Out-Null
        $check = (Get-TriggerHealth).Checks | Where-Object Name -eq ChangeHistory
        $check.Status | Should -Be 'Warn'
        $check.Detail | Should -Match 'retention 30 day\(s\)'
        $check.RecommendedAction | Should -Match 'Clear-TriggerHistory'
    }

    It 'clears what the retention no longer keeps, and says what it deleted and what is left' {
        Clear-TriggerHistory -WhatIf | Out-Null
        Get-TestScalar $script:db 'SELECT count(*) FROM workflow_triggers_history WHERE trigger_id > 900000' | Should -Be 2 -Because '-WhatIf deletes nothing'
        $cleared = Clear-TriggerHistory -Confirm:$false
        $cleared.Deleted | Should -Be 1
        $cleared.Remaining | Should -BeGreaterThan 0
        Get-TestScalar $script:db 'SELECT string_agg(trigger_name, '','') FROM workflow_triggers_history WHERE trigger_id > 900000' | Should -Be 'Old 20'
        ((Get-TriggerHealth).Checks | Where-Object Name -eq ChangeHistory).Status | Should -Be 'Pass'
        (Clear-TriggerHistory -Before (Get-Date).AddDays(-10) -Confirm:$false).Deleted | Should -Be 1
        @(Get-TriggerHistory -Id $script:recent.Id).Count | Should -Be 1 -Because 'recent history stays'
    }

    It 'fails the health check when the history''s database triggers were dropped by hand' {
        Invoke-TestSql $script:db 'DROP TRIGGER workflow_triggers_history_update ON workflow_triggers'
        $check = (Get-TriggerHealth).Checks | Where-Object Name -eq ChangeHistory
        $check.Status | Should -Be 'Fail'
        $check.RecommendedAction | Should -Match 'Enable-TriggerHistory'
        Enable-TriggerHistory | Out-Null
        ((Get-TriggerHealth).Checks | Where-Object Name -eq ChangeHistory).Status | Should -Be 'Pass'
    }
}

Describe 'Restore-WorkflowTrigger' {
    BeforeAll { Enable-TriggerHistory | Out-Null }

    It 'puts a changed config and a rename back exactly, with -WhatIf showing old and new values first' {
        $trigger = New-SampleTrigger 'Restorable' -Extra @{ Config = '{"monitor_path": "/data/in", "nested": {"b": [1, 2], "a": null}}'; TargetNodeId = 'pdf_input_validator' }
        $original = Get-TestScalar $script:db "SELECT config::text FROM workflow_triggers WHERE id = $($trigger.Id)"
        Start-Sleep -Milliseconds 20
        $moment = Get-Date
        Start-Sleep -Milliseconds 20
        Set-WorkflowTrigger -Id $trigger.Id -Name 'Renamed by mistake' -Config @{ monitor_path = '/elsewhere' }
        Disable-WorkflowTrigger -Id $trigger.Id
        $plan = Restore-WorkflowTrigger -Id $trigger.Id -AsOf $moment -WhatIf
        $plan.Applied | Should -BeFalse
        $name = $plan.Changes | Where-Object Field -eq Name
        ($name.OldValue, $name.NewValue) | Should -Be @('Renamed by mistake', 'Restorable')
        $plan.ChangedFields | Should -Be @('Name', 'IsActive', 'Config')
        (Get-WorkflowTrigger -Id $trigger.Id).Name | Should -Be 'Renamed by mistake' -Because '-WhatIf writes nothing'
        $restored = Restore-WorkflowTrigger -Id $trigger.Id -AsOf $moment -Reason 'undo' -Confirm:$false
        $restored.Action | Should -Be 'Updated'
        $restored.Applied | Should -BeTrue
        $now = Get-WorkflowTrigger -Id $trigger.Id
        ($now.Name, $now.IsActive, $now.TargetNodeId) | Should -Be @('Restorable', $true, 'pdf_input_validator')
        Get-TestScalar $script:db "SELECT config = '$original'::jsonb FROM workflow_triggers WHERE id = $($trigger.Id)" | Should -Be 'True' -Because 'the config is equal as jsonb'
        (Get-TriggerHistory -Id $trigger.Id | Select-Object -Last 1).Reason | Should -Be 'undo'
    }

    It 're-creates a deleted trigger with its id from the piped history entry of its deletion' {
        $trigger = New-SampleTrigger 'Deleted by mistake' -Extra @{ Config = @{ keep = 'me' } }
        Remove-WorkflowTrigger -Id $trigger.Id -Confirm:$false
        $back = Get-TriggerHistory -Id $trigger.Id -Operation Delete | Restore-WorkflowTrigger -Confirm:$false
        $back.Action | Should -Be 'Created'
        $again = Get-WorkflowTrigger -Id $trigger.Id
        $again.Name | Should -Be 'Deleted by mistake'
        $again.Config.keep | Should -Be 'me'
        New-SampleTrigger 'After the restore' | ForEach-Object Id | Should -BeGreaterThan $trigger.Id -Because 'the id sequence stays ahead of restored ids'
    }

    It 'leaves a trigger that did not exist then, or that history does not know, as it is' {
        $moment = Get-Date
        Start-Sleep -Milliseconds 20
        $later = New-SampleTrigger 'Created later'
        $errors = @()
        Restore-WorkflowTrigger -Id $later.Id, 777777 -AsOf $moment -Confirm:$false -ErrorVariable errors -ErrorAction SilentlyContinue | Out-Null
        $errors.FullyQualifiedErrorId | Should -Be @('TriggerAbsentThen,WorkflowTriggers.Commands.RestoreWorkflowTriggerCommand', 'TriggerNotInHistory,WorkflowTriggers.Commands.RestoreWorkflowTriggerCommand')
        (Get-WorkflowTrigger -Id $later.Id).Name | Should -Be 'Created later'
    }

    It 'refuses a node that is no longer in the workflow unless -Force' {
        $trigger = New-SampleTrigger 'Routed then' -Extra @{ TargetNodeId = 'pdf_input_validator' }
        $moment = Get-Date
        Start-Sleep -Milliseconds 20
        Set-TriggerTargetNode -Id $trigger.Id -Clear
        Invoke-TestSql $script:db "DELETE FROM workflow_nodes WHERE node_id = 'pdf_input_validator'"
        try {
            $refused = try { Restore-WorkflowTrigger -Id $trigger.Id -AsOf $moment -Confirm:$false -ErrorAction Stop } catch { $_ }
            $refused.FullyQualifiedErrorId | Should -BeLike 'NodeNotInWorkflow,*'
            (Get-WorkflowTrigger -Id $trigger.Id).TargetNodeId | Should -BeNullOrEmpty
            (Restore-WorkflowTrigger -Id $trigger.Id -AsOf $moment -Force -Confirm:$false).Applied | Should -BeTrue
        }
        finally {
            Invoke-TestSql $script:db "INSERT INTO workflow_nodes (workflow_id, node_id, node_type, name) VALUES ('wf_bd11290f923b', 'pdf_input_validator', 'input', 'PDF validator')"
        }
    }
}

Describe 'Change history across schema steps' {
    It 'keeps recording through a downgrade that drops target_node_id and the upgrade that brings it back' {
        $db = New-TestDatabase
        try {
            Add-EngineTables $db
            Install-TriggerSchema -ConnectionString $db | Out-Null
            Enable-TriggerHistory -ConnectionString $db | Out-Null
            $trigger = New-WorkflowTrigger -ConnectionString $db -Name 'Across versions' -WorkflowId wf_bd11290f923b -Source webhook-event-source -EventType webhook_received -TargetNodeId pdf_input_validator
            Install-TriggerSchema -ConnectionString $db -Version 1.0.0 -Force -Confirm:$false | Out-Null
            # The module itself needs 2.0.0; the engine's application writes to 1.0.0 as it is.
            Invoke-TestSql $db "BEGIN; SELECT set_config('workflow_triggers.reason', 'still recorded', true); UPDATE workflow_triggers SET description = 'on 1.0.0' WHERE id = $($trigger.Id); COMMIT;"
            Install-TriggerSchema -ConnectionString $db | Out-Null
            Set-TriggerTargetNode -ConnectionString $db -Id $trigger.Id -NodeId pdf_input_validator -Reason 'node again'
            $entries = @(Get-TriggerHistory -ConnectionString $db -Id $trigger.Id -Operation Update)
            $entries.Reason | Should -Be @('still recorded', 'node again')
            $entries[1].ChangedFields | Should -Be 'TargetNodeId'
        }
        finally { Remove-TestDatabase $db }
    }
}

BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
}

Describe 'Install-TriggerSchema and Get-TriggerSchema' {
    BeforeEach { $script:db = New-TestDatabase; Connect-TriggerDatabase -ConnectionString $script:db }
    AfterEach { Disconnect-TriggerDatabase; Remove-TestDatabase $script:db }

    It 'reports an empty database, and -WhatIf lists the steps and writes nothing' {
        $before = Get-TriggerSchema
        $before.CurrentVersion | Should -BeNullOrEmpty
        $before.LatestVersion | Should -Be '2.0.0'
        @($before.PendingSteps).Count | Should -Be 2

        ($before.PendingSteps | ForEach-Object ToString) | Should -Be @("Upgrade 1.0.0 'Create workflow_triggers'", "Upgrade 2.0.0 'Add target node support'")

        Install-TriggerSchema -WhatIf | Should -BeNullOrEmpty
        (Get-TriggerSchema).CurrentVersion | Should -BeNullOrEmpty
    }

    It 'installs the latest version, and a second run is a no-op' {
        $steps = Install-TriggerSchema
        $steps.Version | Should -Be @('1.0.0', '2.0.0')
        $again = Install-TriggerSchema
        $again.Action | Should -Be 'Current'
        $again.Detail | Should -BeLike '*already at schema version 2.0.0; nothing was changed.'
        (Install-TriggerSchema -WhatIf).Action | Should -Be 'Current'
        ConvertTo-Json $again -Compress | Should -BeLike '*"Action":"Current"*'
        $status = Get-TriggerSchema
        $status.CurrentVersion | Should -Be '2.0.0'
        $status.IsCurrent | Should -BeTrue
        @($status.AppliedSteps).Count | Should -Be 2
    }

    It 'adds the workflows foreign key when run again after workflows appears' {
        Install-TriggerSchema | Out-Null
        (Get-TriggerSchema).HasWorkflowForeignKey | Should -BeFalse
        Add-EngineTables $script:db
        (Install-TriggerSchema).Action | Should -Be 'AddForeignKey'
        (Get-TriggerSchema).HasWorkflowForeignKey | Should -BeTrue
    }

    It 'refuses a downgrade that loses target nodes without -Force, saying how many, and honours -WhatIf' {
        Install-TriggerSchema | Out-Null
        1..3 | ForEach-Object { New-WorkflowTrigger -Name "Routed $_" -WorkflowId wf_1 -Source webhook-event-source -EventType webhook_received -TargetNodeId node_a } | Out-Null
        { Install-TriggerSchema -Version 1.0.0 -ErrorAction Stop } | Should -Throw -ExpectedMessage '*3 trigger(s) have a target node*' -ErrorId 'DowngradeLosesData,WorkflowTriggers.Commands.InstallTriggerSchemaCommand'
        Install-TriggerSchema -Version 1.0.0 -Force -WhatIf | Out-Null
        (Get-TriggerSchema).CurrentVersion | Should -Be '2.0.0'
        @(Get-WorkflowTrigger -TargetNodeId node_a).Count | Should -Be 3

        (Install-TriggerSchema -Version 1.0.0 -Force -Confirm:$false).Action | Should -Be 'Downgrade'
        (Get-TriggerSchema).CurrentVersion | Should -Be '1.0.0'
        { Get-WorkflowTrigger -ErrorAction Stop } | Should -Throw -ExpectedMessage '*1.0.0*Install-TriggerSchema*'
        $outdated = try { Get-WorkflowTrigger -ErrorAction Stop } catch { $_ }
        $outdated.ErrorDetails.RecommendedAction | Should -BeLike 'Run Install-TriggerSchema*'
        $outdated.Exception.InnerException.ColumnName | Should -Be 'target_node_id'
        Install-TriggerSchema | Out-Null
        @(Get-WorkflowTrigger).Count | Should -Be 3
    }

    It 'adopts a workflow_triggers table that predates the module, keeping its rows' {
        Invoke-TestSql $script:db @'
CREATE TABLE workflow_triggers (id SERIAL PRIMARY KEY, name VARCHAR(255) NOT NULL, description TEXT,
  workflow_id VARCHAR(255) NOT NULL, source VARCHAR(255) NOT NULL, event_type VARCHAR(255) NOT NULL,
  config JSONB DEFAULT '{}', is_active BOOLEAN DEFAULT true,
  created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP);
INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('Legacy nightly', 'wf_1', 'scheduler-event-source', 'cron_trigger');
'@
        $before = Get-TriggerSchema
        $before.CurrentVersion | Should -Be '1.0.0'
        $before.IsManaged | Should -BeFalse
        (Install-TriggerSchema).Action | Should -Be @('Adopt', 'Upgrade')
        (Get-TriggerSchema).IsManaged | Should -BeTrue
        (Get-WorkflowTrigger).Name | Should -Be 'Legacy nightly'
    }

    It 'two sessions installing at once leave one consistent schema' {
        $jobs = 1..3 | ForEach-Object {
            Start-ThreadJob -ScriptBlock { param($m, $cs) Import-Module $m; Install-TriggerSchema -ConnectionString $cs } -ArgumentList $env:WT_MODULE_PATH, $script:db
        }
        $results = $jobs | Receive-Job -Wait -AutoRemoveJob
        @($results | Where-Object Action -ne Current).Count | Should -Be 2
        (Get-TriggerSchema).CurrentVersion | Should -Be '2.0.0'
    }
}

Describe 'Schema drift' {
    BeforeEach { $script:db = New-TestDatabase; Connect-TriggerDatabase -ConnectionString $script:db; Install-TriggerSchema | Out-Null }
    AfterEach { Disconnect-TriggerDatabase; Remove-TestDatabase $script:db }

    It 'reports an Alembic-shaped composite index as drift with its SQL, and -Repair aligns it (-WhatIf first)' {
        Invoke-TestSql $script:db 'DROP INDEX idx_workflow_triggers_composite; CREATE INDEX idx_workflow_triggers_composite ON workflow_triggers(workflow_id, target_node_id)'
        $drift = (Get-TriggerSchema).Drift
        $drift.Object | Should -Be 'idx_workflow_triggers_composite'
        $drift.Kind | Should -Be 'Different'
        $drift.Sql | Should -BeLike '*CREATE INDEX CONCURRENTLY idx_workflow_triggers_composite ON workflow_triggers(workflow_id, target_node_id) WHERE is_active = true;*'
        ((Get-TriggerHealth).Checks | Where-Object Name -eq SchemaDrift).Status | Should -Be 'Warn'

        (Install-TriggerSchema -Repair -WhatIf).Action | Should -Be 'Current'
        @((Get-TriggerSchema).Drift).Count | Should -Be 1
        (Install-TriggerSchema -Repair).Action | Should -Be @('Current', 'Repair')
        (Get-TriggerSchema).Drift | Should -BeNullOrEmpty
    }
}

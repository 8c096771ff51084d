BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:db = Initialize-SuiteDatabase -RoutingGraph
}

AfterAll {
    Remove-SuiteDatabase $script:db
}

Describe 'Orphans' {
    BeforeEach {
        Reset-RoutingTriggers $script:db 4
        # The foreign key would have cascaded; orphans are what a database without it holds.
        Invoke-TestSql $script:db @'
ALTER TABLE workflow_triggers DROP CONSTRAINT IF EXISTS fk_workflow_triggers_workflow_id;
INSERT INTO workflow_triggers (name, workflow_id, source, event_type, is_active) VALUES
  ('Gone active', 'wf_gone', 'pdf-monitor-event-source', 'pdf_file_added', true),
  ('Gone inactive', 'wf_gone', 'pdf-monitor-event-source', 'pdf_file_added', false),
  ('Retired', 'wf_retired', 'webhook-event-source', 'webhook_received', true);
'@
    }

    It 'Get-OrphanTrigger returns the triggers whose workflow does not exist' {
        (Get-OrphanTrigger).Name | Should -Be @('Gone active', 'Gone inactive', 'Retired')
        (Get-OrphanTrigger)[0] | Should -BeOfType ([WorkflowTriggers.WorkflowTrigger])
    }

    It 'archives active orphans by default, honours -WhatIf, and returns what it changed' {
        Remove-OrphanTrigger -WhatIf | Should -BeNullOrEmpty
        @(Get-WorkflowTrigger -IsActive $true).Count | Should -Be 6

        $archived = Remove-OrphanTrigger
        $archived.Name | Should -Be @('Gone active', 'Retired')
        $archived.IsActive | Should -Not -Contain $true
        @(Get-WorkflowTrigger).Count | Should -Be 7
        @(Get-WorkflowTrigger -IsActive $true).Count | Should -Be 4
    }

    It '-Delete deletes (every orphan with -IncludeInactive), piped triggers included, and refuses non-orphans per item' {
        $deleted = Get-OrphanTrigger | Where-Object WorkflowId -eq wf_retired | Remove-OrphanTrigger -Delete -Force
        $deleted.Name | Should -Be 'Retired'

        $live = Get-WorkflowTrigger -WorkflowId wf_multi | Select-Object -First 1
        $live | Remove-OrphanTrigger -Delete -Force -ErrorVariable refused -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'NotAnOrphan,*'
        Get-WorkflowTrigger -Id $live.Id | Should -Not -BeNullOrEmpty

        (Remove-OrphanTrigger -Delete -IncludeInactive -Confirm:$false).Name | Should -Be @('Gone active', 'Gone inactive')
        Get-OrphanTrigger | Should -BeNullOrEmpty
        @(Get-WorkflowTrigger).Count | Should -Be 4
    }

    It '-WhatIf refuses a non-orphan as the real run does, instead of offering to archive it' {
        $live = Get-WorkflowTrigger -WorkflowId wf_multi | Select-Object -First 1
        $live | Remove-OrphanTrigger -WhatIf -ErrorVariable refused -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'NotAnOrphan,*'
        (Get-WorkflowTrigger -Id $live.Id).IsActive | Should -BeTrue
    }

    It 'stops with a clear error instead of treating every trigger as an orphan when workflows is missing' {
        $other = New-TestDatabase
        try {
            Install-TriggerSchema -ConnectionString $other | Out-Null
            New-WorkflowTrigger -ConnectionString $other -Name 'Lonely' -WorkflowId wf_any -Source webhook-event-source -EventType webhook_received | Out-Null
            { Remove-OrphanTrigger -ConnectionString $other -ErrorAction Stop } | Should -Throw -ErrorId 'TableNotFound,*' -ExpectedMessage "*'workflows' does not exist*"
            { Get-OrphanTrigger -ConnectionString $other -ErrorAction Stop } | Should -Throw -ErrorId 'TableNotFound,*'
            (Get-WorkflowTrigger -ConnectionString $other).IsActive | Should -BeTrue
        }
        finally { Remove-TestDatabase $other }
    }
}

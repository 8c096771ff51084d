BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:db = Initialize-SuiteDatabase -EngineTables
    # Statistics change only when a test says so.
    Invoke-TestSql $script:db 'ALTER TABLE workflow_triggers SET (autovacuum_enabled = false)'
    Add-SampleTriggers
    Invoke-TestSql $script:db 'ANALYZE workflow_triggers'
    Wait-TestStatistics $script:db 'last_analyze IS NOT NULL' 'the ANALYZE'

    # The relfilenode changes when an index is rebuilt.
    function Get-FileNode([string] $Index) { Get-TestScalar $script:db "SELECT pg_relation_filenode('$Index')" }
    function New-InvalidIndex([string] $Name) {
        # A unique concurrent build over duplicate values fails and leaves the index behind, invalid.
        try { Invoke-TestSql $script:db "CREATE UNIQUE INDEX CONCURRENTLY $Name ON workflow_triggers (workflow_id)" 2>$null } catch { }
    }
}

AfterAll {
    Remove-SuiteDatabase $script:db
}

Describe 'Get-TriggerIndexHealth' {
    It 'finds the duplicate pair of the document''s own schema, its overlaps, and recommends without changing anything' {
        $indexes = Get-TriggerIndexHealth -WarningVariable warnings -WarningAction SilentlyContinue
        $indexes.Count | Should -Be 12
        ($indexes | Where-Object Name -eq idx_workflow_triggers_event_lookup).DuplicateOf | Should -Be 'idx_active_triggers_event'
        ($indexes | Where-Object Name -eq idx_workflow_triggers_event_lookup).Recommendation | Should -BeLike '*DROP INDEX CONCURRENTLY public.idx_workflow_triggers_event_lookup;*'
        ($indexes | Where-Object Name -eq idx_active_triggers_workflow).OverlappedBy | Should -Contain 'idx_workflow_triggers_composite'
        ($indexes | Where-Object Name -eq workflow_triggers_pkey).UsageStatus | Should -Not -Be 'UNUSED'
        ($indexes | Where-Object Name -eq idx_trigger_config_gin).SizeBytes | Should -BeGreaterThan 0
        "$warnings" | Should -BeLike '*only been counted since*'
        @(Get-TriggerIndexHealth -WarningAction SilentlyContinue).Count | Should -Be 12
    }

    It 'reports only the indexes of workflow_triggers in the connection''s schema' {
        Invoke-TestSql $script:db 'CREATE SCHEMA elsewhere; CREATE TABLE elsewhere.workflow_triggers (id int); CREATE INDEX idx_elsewhere ON elsewhere.workflow_triggers (id); CREATE INDEX idx_other_table ON workflows (name);'
        try {
            (Get-TriggerIndexHealth -WarningAction SilentlyContinue).Name | Should -Not -Contain 'idx_elsewhere'
            (Get-TriggerIndexHealth -WarningAction SilentlyContinue).Name | Should -Not -Contain 'idx_other_table'
        }
        finally { Invoke-TestSql $script:db 'DROP SCHEMA elsewhere CASCADE; DROP INDEX idx_other_table;' }
    }
}

Describe 'Invoke-TriggerIndexMaintenance' {
    It 'rebuilds the named index concurrently, reports sizes and duration, and -WhatIf rebuilds nothing' {
        $before = Get-FileNode idx_workflow_triggers_composite
        Invoke-TriggerIndexMaintenance -Index idx_workflow_triggers_composite -Reindex -WhatIf | Should -BeNullOrEmpty
        Get-FileNode idx_workflow_triggers_composite | Should -Be $before

        $result = Invoke-TriggerIndexMaintenance -Index idx_workflow_triggers_composite -Reindex
        $result.Name | Should -Be 'idx_workflow_triggers_composite'
        $result.Action | Should -Be 'Reindex'
        $result.SizeBeforeBytes | Should -BeGreaterThan 0
        $result.SizeAfterBytes | Should -BeGreaterThan 0
        $result.Duration | Should -BeOfType [timespan]
        Get-FileNode idx_workflow_triggers_composite | Should -Not -Be $before
    }

    It 'without switches rebuilds every matching index then analyzes; an unknown name is an error' {
        $results = Invoke-TriggerIndexMaintenance -Index 'idx_workflow_triggers_event*', 'idx_nope' -ErrorVariable notFound -ErrorAction SilentlyContinue
        $results.Action | Should -Be @('Reindex', 'Reindex', 'Analyze')
        $results[0..1].Name | Should -Be @('idx_workflow_triggers_event_lookup', 'idx_workflow_triggers_event_type')
        $notFound[0].FullyQualifiedErrorId | Should -BeLike 'IndexNotFound,*'
        "$($notFound[0])" | Should -BeLike "*no index 'idx_nope'*"
    }

    It 'reports an invalid index left by a failed concurrent rebuild, with the SQL to remove it' {
        New-InvalidIndex 'idx_workflow_triggers_composite_ccnew'
        try {
            Invoke-TriggerIndexMaintenance -Index idx_workflow_triggers_source -Reindex -ErrorVariable leftovers -ErrorAction SilentlyContinue | Out-Null
            $leftovers.Count | Should -Be 1
            $leftovers[0].FullyQualifiedErrorId | Should -BeLike 'InvalidIndexLeft,*'
            "$($leftovers[0])" | Should -BeLike '*DROP INDEX CONCURRENTLY public.idx_workflow_triggers_composite_ccnew;*'
        }
        finally { Invoke-TestSql $script:db 'DROP INDEX IF EXISTS idx_workflow_triggers_composite_ccnew' }
    }
}

Describe 'Get-TriggerHealth and Test-TriggerHealth' {
    It 'is healthy on a clean, analyzed table, with the document''s counts and named checks' {
        Invoke-TestSql $script:db 'ANALYZE workflow_triggers'
        Wait-TestStatistics $script:db 'last_analyze IS NOT NULL' 'the ANALYZE'
        $report = Get-TriggerHealth
        $report.IsHealthy | Should -BeTrue
        $report.TotalRecords | Should -Be 30
        $report.ActiveRecords | Should -Be 30
        $report.TargetedRecords | Should -Be 0
        $report.OldestRecord | Should -BeOfType [datetime]
        $report.Checks.Name | Should -Be @('SchemaVersion', 'SchemaDrift', 'WorkflowForeignKey', 'OrphanTriggers', 'ActiveTriggersWithoutTargetNode', 'BrokenRoutes', 'UnvalidatedConstraints', 'InvalidIndexes', 'DuplicateIndexes', 'StatisticsFreshness')
        ($report.Checks | Where-Object Name -eq DuplicateIndexes).Status | Should -Be 'Warn'
        Test-TriggerHealth | Should -BeTrue
        (Test-TriggerHealth -Detailed | Where-Object Status -ne Pass).Name | Should -Be @('ActiveTriggersWithoutTargetNode', 'DuplicateIndexes')
    }

    It 'fails on an active orphan and on an invalid index, and passes again once they are fixed' {
        Invoke-TestSql $script:db @'
ALTER TABLE workflow_triggers DROP CONSTRAINT fk_workflow_triggers_workflow_id;
INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('Orphan', 'wf_gone', 'webhook-event-source', 'webhook_received');
'@
        New-InvalidIndex 'idx_broken'
        $report = Get-TriggerHealth
        $report.IsHealthy | Should -BeFalse
        ($report.Checks | Where-Object Status -eq Fail).Name | Should -Be @('WorkflowForeignKey', 'OrphanTriggers', 'InvalidIndexes')
        Test-TriggerHealth | Should -BeFalse

        Get-OrphanTrigger | Remove-OrphanTrigger -Delete -Force | Out-Null
        Invoke-TestSql $script:db 'DROP INDEX idx_broken'
        Install-TriggerSchema -WarningAction SilentlyContinue | Out-Null
        Test-TriggerHealth | Should -BeTrue
    }

    It 'estimates a table of 250,000 triggers instead of reading it, says so in the view, and counts it with -Exact' {
        $big = New-TestDatabase
        try {
            Install-TriggerSchema -ConnectionString $big | Out-Null
            Invoke-TestSql $big @'
INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
SELECT 'Trigger ' || g, 'wf_' || (g % 10), 'webhook-event-source', 'webhook_received' FROM generate_series(1, 250000) g;
UPDATE workflow_triggers SET is_active = false WHERE id <= 7;
ANALYZE workflow_triggers;
'@
            $estimated = Get-TriggerHealth -ConnectionString $big
            $estimated.EstimatedCounts | Should -Be @('TotalRecords', 'ActiveRecords')
            $estimated.TotalRecords | Should -BeGreaterThan 200000
            $estimated.TargetedRecords | Should -Be 0
            $estimated.LastUpdate | Should -BeNullOrEmpty
            $view = $estimated | Out-String -Width 200
            $view | Should -BeLike '*TotalRecords    : about *(the planner''s estimate; -Exact counts)*'
            $view | Should -BeLike '*LastUpdate      : (not read on a table this large; -Exact reads it)*'

            $exact = Get-TriggerHealth -ConnectionString $big -Exact
            $exact.EstimatedCounts | Should -BeNullOrEmpty
            $exact.TotalRecords | Should -Be 250000
            $exact.ActiveRecords | Should -Be 249993
            $exact.LastUpdate | Should -BeOfType [datetime]
            Test-TriggerHealth -ConnectionString $big -Exact -Detailed | Where-Object Name -eq ActiveTriggersWithoutTargetNode |
                ForEach-Object Detail | Should -BeLike '249,993 of 249,993 active*'
        }
        finally {
            Remove-TestDatabase $big
        }
    }
}

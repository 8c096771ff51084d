BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:db = Initialize-SuiteDatabase -EngineTables
    Add-SampleTriggers
}

AfterAll {
    Remove-SuiteDatabase $script:db
}

Describe 'Usage and metrics' {
    It 'Get-TriggerUsage counts per source and event type, most first' {
        Disable-WorkflowTrigger -Id 3
        $usage = Get-TriggerUsage
        $usage.Count | Should -Be 3
        $usage.TriggerCount | Should -Be @(10, 10, 10)
        ($usage | Where-Object Source -eq 'pdf-monitor-event-source').ActiveCount | Should -Be 9
        Enable-WorkflowTrigger -Id 3
    }

    It 'Get-TriggerStatistic counts active triggers per group in SQL' {
        $byWorkflow = Get-TriggerStatistic -By Workflow
        $byWorkflow.Value | Sort-Object | Should -Be @('wf_000000000002', 'wf_bd11290f923b')
        $byWorkflow | ForEach-Object Count | Should -Be @(15, 15)
        (Get-TriggerStatistic TargetNode).Value | Should -Be @($null)
        { Get-TriggerStatistic -By Colour } | Should -Throw
    }

    It 'Get-TriggerMetric reads trigger_metrics within a window' {
        $rows = Get-TriggerMetric -Since (Get-Date).AddHours(-2)
        ($rows | Measure-Object TriggerCount -Sum).Sum | Should -Be 30
        Get-TriggerMetric -Since (Get-Date).AddHours(1) | Should -BeNullOrEmpty
        (Get-TriggerMetric -Source webhook-event-source).TriggerCount | Should -Be 10
        { Get-TriggerMetric -Since (Get-Date) -Until (Get-Date).AddDays(-1) -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidTimeWindow,*'
    }

    It 'Get-NodeTargetingStat reads node_targeting_stats' {
        Set-TriggerTargetNode -Id 1 -NodeId query_input_processor -Force
        $stats = Get-NodeTargetingStat
        ($stats | Where-Object RoutingType -eq targeted).Count | Should -Be 1
        ($stats | Where-Object RoutingType -eq auto_detected).Percentage | Should -Be 96.67
        Set-TriggerTargetNode -Id 1 -Clear
    }

    It 'Get-TriggerExecutionStat keeps triggers that never ran and says when execution_logs is missing' {
        Invoke-TestSql $script:db "INSERT INTO execution_logs (trigger_id, created_at) VALUES (5, now()), (5, now()), (6, now() - interval '40 days')"
        $stats = Get-TriggerExecutionStat -Top 3
        $stats.Id | Should -Be @(5, 1, 2)
        $stats.ExecutionCount | Should -Be @(2, 0, 0)
        (Get-TriggerExecutionStat -Days 60 -Top 2).Id | Should -Be @(5, 6)

        $other = New-TestDatabase
        try {
            Install-TriggerSchema -ConnectionString $other | Out-Null
            { Get-TriggerExecutionStat -ConnectionString $other -ErrorAction Stop } | Should -Throw -ErrorId 'TableNotFound,*' -ExpectedMessage "*'execution_logs' does not exist*"
        }
        finally { Remove-TestDatabase $other }
    }
}

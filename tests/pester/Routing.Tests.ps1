BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:db = Initialize-SuiteDatabase -RoutingGraph

    function Get-TargetedCount { @(Get-WorkflowTrigger | Where-Object TargetNodeId).Count }
}

AfterAll {
    Remove-SuiteDatabase $script:db
}

Describe 'Get-WorkflowInputNode' {
    It 'returns input nodes in engine order, from names or piped triggers, once per workflow' {
        $nodes = Get-WorkflowInputNode -WorkflowId wf_multi
        $nodes.NodeId | Should -Be @('m2', 'm1')
        $nodes.Ordinal | Should -Be @(1, 2)
        $nodes.IsFirst | Should -Be @($true, $false)
        $nodes[0].NodeType | Should -Be 'input'
        $nodes[0].Name | Should -Be 'Second id'

        Reset-RoutingTriggers $script:db 8
        $piped = Get-WorkflowTrigger -WorkflowId wf_multi | Get-WorkflowInputNode
        $piped.NodeId | Should -Be @('m2', 'm1')
    }

    It 'warns about a workflow without input nodes (cycle or no nodes) and returns nothing for it' {
        $nodes = Get-WorkflowInputNode wf_cycle, wf_empty -WarningVariable warnings -WarningAction SilentlyContinue
        $nodes | Should -BeNullOrEmpty
        $warnings.Count | Should -Be 2
        "$($warnings[0])" | Should -BeLike "*'wf_cycle' has no input node*"
    }

    It 'says a workflow that does not exist does not exist, rather than that it has no input node' {
        Get-WorkflowInputNode wf_nope, wf_multi -WarningVariable warnings -WarningAction SilentlyContinue -ErrorVariable missing -ErrorAction SilentlyContinue |
            Select-Object -ExpandProperty WorkflowId -Unique | Should -Be 'wf_multi'
        $warnings | Should -BeNullOrEmpty
        $missing[0].FullyQualifiedErrorId | Should -Be 'WorkflowNotFound,WorkflowTriggers.Commands.GetWorkflowInputNodeCommand'
        $missing[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $missing[0].TargetObject | Should -Be 'wf_nope'
    }

    It 'stops with a clear error naming a missing graph table' {
        $other = New-TestDatabase
        try {
            Install-TriggerSchema -ConnectionString $other | Out-Null
            { Get-WorkflowInputNode wf_multi -ConnectionString $other -ErrorAction Stop } | Should -Throw -ErrorId 'TableNotFound,*' -ExpectedMessage "*'workflow_nodes' does not exist*"
        }
        finally { Remove-TestDatabase $other }
    }
}

Describe 'Invoke-TriggerBackfill' {
    BeforeEach { Reset-RoutingTriggers $script:db 40 }

    It '-WhatIf writes nothing and returns the plan per workflow, naming workflows without an input node' {
        $plan = Invoke-TriggerBackfill -WhatIf -WarningVariable warnings -WarningAction SilentlyContinue
        Get-TargetedCount | Should -Be 0
        ($plan | Where-Object WorkflowId -eq wf_multi).NodeId | Should -Be 'm2'
        ($plan | Where-Object WorkflowId -eq wf_multi).TriggerCount | Should -Be 10
        ($plan | Where-Object WorkflowId -eq wf_bd11290f923b).NodeId | Should -Be 'pdf_input_validator'
        ($plan | Where-Object Action -eq SkipNoInputNode).WorkflowId | Should -Be @('wf_cycle', 'wf_empty')
        ($warnings -join "`n") | Should -BeLike "*'wf_cycle' has no input node: 10 untargeted*"
    }

    It 'sets the first input node in batches and returns a summary' {
        # 400 triggers fill several pages: batches of about 30 routable triggers are ranges of two pages or so.
        Reset-RoutingTriggers $script:db 400
        $summary = Invoke-TriggerBackfill -BatchSize 30 -WarningAction SilentlyContinue
        $summary.Updated | Should -Be 200
        $summary.SkippedNoInputNode | Should -Be 200
        $summary.WorkflowsWithoutInputNode | Should -Be @('wf_cycle', 'wf_empty')
        $summary.Batches | Should -BeGreaterThan 2
        $summary.Duration | Should -BeOfType [timespan]
        (Get-WorkflowTrigger -WorkflowId wf_multi).TargetNodeId | Sort-Object -Unique | Should -Be 'm2'
        (Get-WorkflowTrigger -WorkflowId wf_cycle -Untargeted).Count | Should -Be 100
    }

    It 'is limited to the triggers piped in, and an empty pipeline changes nothing' {
        $picked = Get-WorkflowTrigger -WorkflowId wf_multi | Select-Object -First 3
        $picked | Invoke-TriggerBackfill -WarningAction SilentlyContinue | Out-Null
        (Get-WorkflowTrigger | Where-Object TargetNodeId).Id | Should -Be $picked.Id

        @() | Invoke-TriggerBackfill | Should -BeNullOrEmpty
        Get-TargetedCount | Should -Be 3
    }

    It 'stopped after some batches keeps them; a re-run finishes the rest and none is written twice' {
        # Select-Object -First stops the pipeline inside the first batch, which is committed whole before its rows come out.
        Reset-RoutingTriggers $script:db 400
        $first = Invoke-TriggerBackfill -BatchSize 30 -PassThru -WarningAction SilentlyContinue | Select-Object -First 1
        $first.Count | Should -Be 1
        $done = Get-TargetedCount
        $done | Should -BeGreaterThan 1
        $done | Should -BeLessThan 200
        $second = Invoke-TriggerBackfill -BatchSize 30 -PassThru -WarningAction SilentlyContinue
        $second.Count | Should -Be (200 - $done)
        $second.Id | Where-Object { $_ -in $first.Id } | Should -BeNullOrEmpty
        Get-TargetedCount | Should -Be 200
    }

    It 'refuses to run beside another backfill with BackfillAlreadyRunning, and -Wait waits for it' {
        Reset-RoutingTriggers $script:db 400
        $started = [hashtable]::Synchronized(@{})
        $shell = [powershell]::Create()
        $null = $shell.AddScript({
                param($module, $connectionString, $started)
                Import-Module $module
                Invoke-TriggerBackfill -ConnectionString $connectionString -BatchSize 20 -PassThru -WarningAction SilentlyContinue |
                    ForEach-Object { $started.Running = $true; Start-Sleep -Milliseconds 20 }
            }).AddArgument($env:WT_MODULE_PATH).AddArgument($script:db).AddArgument($started)
        $handle = $shell.BeginInvoke()
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not $started.Running -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            $started.Running | Should -BeTrue
            { Invoke-TriggerBackfill -ErrorAction Stop } | Should -Throw -ErrorId 'BackfillAlreadyRunning,*' -ExpectedMessage '*Another backfill holds the lease*client says host*process*'
            $busy = try { Invoke-TriggerBackfill -ErrorAction Stop } catch { $_ }
            $busy.ErrorDetails.RecommendedAction | Should -BeLike '*-Wait*'
            $waited = Invoke-TriggerBackfill -Wait -WarningAction SilentlyContinue
            $handle.IsCompleted | Should -BeTrue
            $waited.Updated | Should -Be 0
            Get-TargetedCount | Should -Be 200
        }
        finally { $shell.Dispose() }
    }
}

Describe 'Test-WorkflowTrigger' {
    BeforeAll {
        Reset-RoutingTriggers $script:db 4
        Invoke-TestSql $script:db @'
INSERT INTO workflow_triggers (name, workflow_id, source, event_type, target_node_id) VALUES
  ('Targeted', 'wf_multi', 'pdf-monitor-event-source', 'pdf_file_added', 'm3'),
  ('Stale target', 'wf_multi', 'pdf-monitor-event-source', 'pdf_file_added', 'removed_node');
INSERT INTO workflow_triggers (name, workflow_id, source, event_type, is_active) VALUES
  ('Switched off', 'wf_multi', 'pdf-monitor-event-source', 'pdf_file_added', false);
'@
        $script:before = Export-WorkflowTrigger
    }

    It 'says where the event lands for each active trigger, and why not where it cannot' {
        $routes = Test-WorkflowTrigger -Source pdf-monitor-event-source -EventType pdf_file_added -WarningVariable warnings -WarningAction SilentlyContinue
        $routes.Name | Should -Not -Contain 'Switched off'
        $byName = @{}; $routes | ForEach-Object { $byName[$_.Name] = $_ }
        $byName['Trigger 1'].RoutingType | Should -Be 'auto_detected'
        $byName['Trigger 1'].NodeId | Should -Be 'm2'
        $byName['Trigger 4'].NodeId | Should -Be 'pdf_input_validator'
        $byName['Targeted'].RoutingType | Should -Be 'targeted'
        $byName['Targeted'].NodeId | Should -Be 'm3'
        $byName['Stale target'].TargetNodeMissing | Should -BeTrue
        $byName['Stale target'].WillRoute | Should -BeFalse
        $byName['Trigger 2'].WillRoute | Should -BeFalse
        $byName['Trigger 2'].Reason | Should -BeLike '*no input node*'
        $byName['Trigger 3'].Reason | Should -BeLike '*has no nodes*'
        "$warnings" | Should -BeLike '*3 of 6 trigger(s) would not route*'
        Export-WorkflowTrigger | Should -Be $script:before
    }

    It 'warns when nothing fires and refuses a malformed source' {
        Test-WorkflowTrigger webhook-event-source webhook_received -WarningVariable warnings -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        "$warnings" | Should -BeLike "*No active trigger fires for source 'webhook-event-source'*"
        { Test-WorkflowTrigger 'Not A Source' pdf_file_added -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSource,*'
    }
}

Describe 'Set-TriggerTargetNode' {
    It 'routes to a node of the workflow, refuses one outside it unless -Force, and clears' {
        $t = New-SampleTrigger -Name 'Routable'
        $t.WorkflowName | Should -Be 'Invoice intake'
        (Set-TriggerTargetNode -Id $t.Id -NodeId pdf_input_validator -PassThru).TargetNodeId | Should -Be 'pdf_input_validator'

        Set-TriggerTargetNode -Id $t.Id -NodeId query_input_processor -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'NodeNotInWorkflow,*'
        $problems[0].Exception.Message | Should -Match 'query_input_processor'
        $problems[0].Exception.Message | Should -Match 'wf_bd11290f923b'
        (Get-WorkflowTrigger -Id $t.Id).TargetNodeId | Should -Be 'pdf_input_validator'

        (Set-TriggerTargetNode -Id $t.Id -NodeId query_input_processor -Force -PassThru).TargetNodeId | Should -Be 'query_input_processor'
        $cleared = Set-TriggerTargetNode -Id $t.Id -Clear -PassThru
        $cleared.TargetNodeId | Should -BeNullOrEmpty
        $cleared.RoutingType | Should -Be 'auto_detected'
    }

    It 'refuses a workflow that does not exist with ObjectNotFound, not a foreign-key exception' {
        New-WorkflowTrigger -Name 'Nowhere' -WorkflowId wf_missing -Source webhook-event-source -EventType webhook_received -ErrorVariable problems -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'WorkflowNotFound,*'
        $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'pipes many triggers into one routing change, with -WhatIf leaving them untouched' {
        1..1200 | ForEach-Object { [pscustomobject]@{ Name = "Route $_"; WorkflowId = 'wf_000000000002'; Source = 'search-api-source'; EventType = 'webhook_received' } } | New-WorkflowTrigger | Out-Null
        Get-WorkflowTrigger -WorkflowId wf_000000000002 | Set-TriggerTargetNode -NodeId query_input_processor -WhatIf
        @(Get-WorkflowTrigger -WorkflowId wf_000000000002 -Untargeted).Count | Should -Be 1200
        (Get-WorkflowTrigger -WorkflowId wf_000000000002 | Set-TriggerTargetNode -NodeId query_input_processor -PassThru).Count | Should -Be 1200
        @(Get-WorkflowTrigger -WorkflowId wf_000000000002 -Untargeted).Count | Should -Be 0
    }
}

Describe 'One routing rule on every write path' {
    # wf_bd11290f923b has pdf_input_validator; wf_multi has m1, m2, m3 (TestHelpers' routing graph).
    It 'New-WorkflowTrigger refuses a target node that is not in the workflow, unless -Force' {
        New-WorkflowTrigger -Name 'Routed nowhere' -WorkflowId wf_bd11290f923b -Source pdf-monitor-event-source -EventType pdf_file_added -TargetNodeId zzz -ErrorAction SilentlyContinue -ErrorVariable refused |
            Should -BeNullOrEmpty
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'NodeNotInWorkflow,*'
        $refused[0].Exception.Message | Should -BeLike "*'zzz'*'wf_bd11290f923b'*-Force*"
        Get-WorkflowTrigger -Name 'Routed nowhere' | Should -BeNullOrEmpty
        (New-SampleTrigger -Name 'Routed nowhere' -Extra @{ TargetNodeId = 'zzz'; Force = $true }).TargetNodeId | Should -Be 'zzz'
        (New-SampleTrigger -Name 'Routed well' -Extra @{ TargetNodeId = 'pdf_input_validator' }).TargetNodeId | Should -Be 'pdf_input_validator'
    }

    It 'Set-WorkflowTrigger -WorkflowId refuses to carry a node the new workflow lacks; -ClearTargetNode or -Force says what to do' {
        $t = New-SampleTrigger -Name 'Moving' -Extra @{ TargetNodeId = 'pdf_input_validator' }
        Set-WorkflowTrigger -Id $t.Id -WorkflowId wf_multi -ErrorVariable refused -ErrorAction SilentlyContinue
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'NodeNotInWorkflow,*'
        $refused[0].ErrorDetails.RecommendedAction | Should -BeLike '*-ClearTargetNode*'
        (Get-WorkflowTrigger -Id $t.Id).WorkflowId | Should -Be 'wf_bd11290f923b'

        $moved = Set-WorkflowTrigger -Id $t.Id -WorkflowId wf_multi -ClearTargetNode -PassThru
        ($moved.WorkflowId, $moved.TargetNodeId) | Should -Be @('wf_multi', $null)

        Set-TriggerTargetNode -Id $t.Id -NodeId m1 | Out-Null
        Set-WorkflowTrigger -Id $t.Id -WorkflowId wf_bd11290f923b -Force | Out-Null
        (Get-WorkflowTrigger -Id $t.Id).TargetNodeId | Should -Be 'm1'
    }

    It 'Import-WorkflowTrigger refuses an entry whose node is not in its workflow, unless -Force' {
        $file = Join-Path $TestDrive 'routes.json'
        Set-Content $file '{ "formatVersion": 1, "triggers": [ { "name": "Imported nowhere", "workflowId": "wf_multi", "source": "webhook-event-source", "eventType": "webhook_received", "targetNodeId": "zzz" } ] }'
        Import-WorkflowTrigger -Path $file -ErrorVariable refused -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'NodeNotInWorkflow,*'
        Get-WorkflowTrigger -Name 'Imported nowhere' | Should -BeNullOrEmpty
        (Import-WorkflowTrigger -Path $file -Force).Action | Should -Be 'Created'
    }

    It 'Get-TriggerHealth fails on active triggers routed outside their workflow and warns on inactive ones' {
        Reset-RoutingTriggers $script:db 4
        Invoke-TestSql $script:db 'ANALYZE workflow_triggers'
        Wait-TestStatistics $script:db 'last_analyze IS NOT NULL' 'the ANALYZE'
        ((Get-TriggerHealth).Checks | Where-Object Name -eq BrokenRoutes).Status | Should -Be 'Pass'
        Test-TriggerHealth | Should -BeTrue
        Set-TriggerTargetNode -Id 1, 2, 3 -NodeId zzz -Force | Out-Null
        $check = (Get-TriggerHealth).Checks | Where-Object Name -eq BrokenRoutes
        $check.Status | Should -Be 'Fail'
        $check.Detail | Should -BeLike '3 active trigger(s)*ids 1, 2, 3*'
        $check.RecommendedAction | Should -Not -BeNullOrEmpty
        Test-TriggerHealth | Should -BeFalse
        Disable-WorkflowTrigger -Id 1, 2, 3 | Out-Null
        ((Get-TriggerHealth).Checks | Where-Object Name -eq BrokenRoutes).Status | Should -Be 'Warn'
        Test-TriggerHealth | Should -BeTrue
    }
}

Describe 'Routes as triggers' {
    BeforeAll { Reset-RoutingTriggers $script:db 8 }

    It 'pipes its routes into the trigger cmdlets as the triggers they describe' {
        $routes = @(Test-WorkflowTrigger pdf-monitor-event-source pdf_file_added | Where-Object WillRoute)
        $routes.Count | Should -BeGreaterThan 0
        $pinned = $routes | Where-Object RoutingType -eq auto_detected | Select-Object -First 1
        $pinned | Set-TriggerTargetNode -NodeId $pinned.NodeId | Out-Null
        (Get-WorkflowTrigger -Id $pinned.Id).TargetNodeId | Should -Be $pinned.NodeId
        ($routes | Disable-WorkflowTrigger -WhatIf -PassThru) | Should -BeNullOrEmpty
    }
}

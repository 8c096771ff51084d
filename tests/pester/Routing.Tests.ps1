BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:db = New-TestDatabase
    Add-EngineTables $script:db
    # wf_multi: m2 -> m3 and m1 alone (input nodes m2, then m1); wf_cycle: a <-> b (none); wf_empty: no nodes.
    Invoke-TestSql $script:db @'
INSERT INTO workflows VALUES ('wf_multi', 'Multi'), ('wf_cycle', 'Cycle'), ('wf_empty', 'Empty');
INSERT INTO workflow_nodes (workflow_id, node_id, node_type, name) VALUES
  ('wf_multi', 'm2', 'input', 'Second id'), ('wf_multi', 'm3', 'task', 'Downstream'), ('wf_multi', 'm1', 'input', 'Third id'),
  ('wf_cycle', 'a', 'task', 'A'), ('wf_cycle', 'b', 'task', 'B');
INSERT INTO workflow_connections (workflow_id, from_node_id, to_node_id) VALUES
  ('wf_multi', 'm2', 'm3'), ('wf_cycle', 'a', 'b'), ('wf_cycle', 'b', 'a');
'@
    Connect-TriggerDatabase -ConnectionString $script:db
    Install-TriggerSchema | Out-Null

    # Triggers round-robin over four workflows, none targeted: returns nothing, resets the table.
    function Reset-Triggers([int] $Count = 40) {
        Invoke-TestSql $script:db @"
TRUNCATE workflow_triggers RESTART IDENTITY;
INSERT INTO workflow_triggers (name, workflow_id, source, event_type)
SELECT 'Trigger ' || g, (ARRAY['wf_bd11290f923b', 'wf_multi', 'wf_cycle', 'wf_empty'])[1 + g % 4], 'pdf-monitor-event-source', 'pdf_file_added'
FROM generate_series(1, $Count) g;
"@
    }
    function Get-TargetedCount { @(Get-WorkflowTrigger | Where-Object TargetNodeId).Count }
}

AfterAll {
    Disconnect-TriggerDatabase
    Remove-TestDatabase $script:db
}

Describe 'Get-WorkflowInputNode' {
    It 'returns input nodes in engine order, from names or piped triggers, once per workflow' {
        $nodes = Get-WorkflowInputNode -WorkflowId wf_multi
        $nodes.NodeId | Should -Be @('m2', 'm1')
        $nodes.Ordinal | Should -Be @(1, 2)
        $nodes.IsFirst | Should -Be @($true, $false)
        $nodes[0].NodeType | Should -Be 'input'
        $nodes[0].Name | Should -Be 'Second id'

        Reset-Triggers 8
        $piped = Get-WorkflowTrigger -WorkflowId wf_multi | Get-WorkflowInputNode
        $piped.NodeId | Should -Be @('m2', 'm1')
    }

    It 'warns about a workflow without input nodes (cycle or no nodes) and returns nothing for it' {
        $nodes = Get-WorkflowInputNode wf_cycle, wf_empty -WarningVariable warnings -WarningAction SilentlyContinue
        $nodes | Should -BeNullOrEmpty
        $warnings.Count | Should -Be 2
        "$($warnings[0])" | Should -BeLike "*'wf_cycle' has no input node*"
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
    BeforeEach { Reset-Triggers 40 }

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
        $summary = Invoke-TriggerBackfill -BatchSize 7 -WarningAction SilentlyContinue
        $summary.Updated | Should -Be 20
        $summary.SkippedNoInputNode | Should -Be 20
        $summary.WorkflowsWithoutInputNode | Should -Be @('wf_cycle', 'wf_empty')
        $summary.Batches | Should -Be 6
        $summary.Duration | Should -BeOfType [timespan]
        (Get-WorkflowTrigger -WorkflowId wf_multi).TargetNodeId | Sort-Object -Unique | Should -Be 'm2'
        (Get-WorkflowTrigger -WorkflowId wf_cycle -Untargeted).Count | Should -Be 10
    }

    It 'is limited to the triggers piped in, and an empty pipeline changes nothing' {
        $picked = Get-WorkflowTrigger -WorkflowId wf_multi | Select-Object -First 3
        $picked | Invoke-TriggerBackfill -WarningAction SilentlyContinue | Out-Null
        (Get-WorkflowTrigger | Where-Object TargetNodeId).Id | Should -Be $picked.Id

        @() | Invoke-TriggerBackfill | Should -BeNullOrEmpty
        Get-TargetedCount | Should -Be 3
    }

    It 'stopped after some batches keeps them; a re-run finishes the rest and none is written twice' {
        # Select-Object -First stops the pipeline inside the second batch of 5 (ids 1-10 hold 5 routable triggers).
        $first = Invoke-TriggerBackfill -BatchSize 10 -PassThru -WarningAction SilentlyContinue | Select-Object -First 7
        $first.Count | Should -Be 7
        $done = Get-TargetedCount
        $done | Should -Be 10
        $second = Invoke-TriggerBackfill -BatchSize 10 -PassThru -WarningAction SilentlyContinue
        $second.Count | Should -Be (20 - $done)
        $second.Id | Where-Object { $_ -in $first.Id } | Should -BeNullOrEmpty
        Get-TargetedCount | Should -Be 20
    }

    It 'refuses to run beside another backfill with BackfillAlreadyRunning, and -Wait waits for it' {
        Reset-Triggers 400
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
            { Invoke-TriggerBackfill -ErrorAction Stop } | Should -Throw -ErrorId 'BackfillAlreadyRunning,*' -ExpectedMessage '*Another backfill is running*server process*'
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
        Reset-Triggers 4
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
        $routes.TriggerName | Should -Not -Contain 'Switched off'
        $byName = @{}; $routes | ForEach-Object { $byName[$_.TriggerName] = $_ }
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

Describe 'Orphans' {
    BeforeEach {
        Reset-Triggers 4
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

Describe 'Export-WorkflowTrigger and Import-WorkflowTrigger' {
    BeforeEach {
        Reset-Triggers 6
        Set-WorkflowTrigger -Id 1 -Config @{ monitor_path = '/data/inbox'; recursive = $true; file_extensions = @('.pdf') } -Description 'Inbox'
        Set-TriggerTargetNode -Id 2 -NodeId a
    }

    It 'exports, imports into an empty database and exports the same file again' {
        $file = Join-Path $TestDrive 'triggers.json'
        Export-WorkflowTrigger -Path $file
        $original = Get-Content -Raw $file
        $original | Should -BeLike '*"monitor_path": "/data/inbox"*'
        $original | Should -Not -BeLike '*createdAt*'

        $empty = New-TestDatabase
        try {
            Install-TriggerSchema -ConnectionString $empty | Out-Null
            $results = Import-WorkflowTrigger -Path $file -ConnectionString $empty
            $results.Action | Sort-Object -Unique | Should -Be 'Created'
            $results.Count | Should -Be 6
            $again = Join-Path $TestDrive 'again.json'
            Export-WorkflowTrigger -Path $again -ConnectionString $empty
            Get-Content -Raw $again | Should -BeExactly $original
        }
        finally { Remove-TestDatabase $empty }
    }

    It 'reports Created, Updated with the fields, Unchanged; -WhatIf writes nothing; bad entries do not stop the rest' {
        $file = Join-Path $TestDrive 'edited.json'
        $document = Export-WorkflowTrigger -Id 1, 2, 3 | ConvertFrom-Json
        $document.triggers[0].name = 'Inbox PDFs'
        $document.triggers[0].config.recursive = $false
        $document.triggers += [pscustomobject]@{ name = 'From git'; workflowId = 'wf_multi'; source = 'webhook-event-source'; eventType = 'webhook_received' }
        $document.triggers += [pscustomobject]@{ name = 'Bad'; workflowId = 'wf_multi'; source = 'Bad Source'; eventType = 'webhook_received' }
        $document | ConvertTo-Json -Depth 10 | Set-Content $file
        $before = Export-WorkflowTrigger

        $plan = Import-WorkflowTrigger -Path $file -WhatIf -ErrorAction SilentlyContinue
        Export-WorkflowTrigger | Should -Be $before
        $plan.Applied | Should -Not -Contain $true

        $results = Import-WorkflowTrigger -Path $file -ErrorVariable bad -ErrorAction SilentlyContinue
        $results.Action | Should -Be @('Updated', 'Unchanged', 'Unchanged', 'Created')
        $results[0].ChangedFields | Should -Be @('name', 'config')
        $results[0].Applied | Should -BeTrue
        $bad.Count | Should -Be 1
        $bad[0].FullyQualifiedErrorId | Should -BeLike 'InvalidSource,*'
        "$($bad[0])" | Should -BeLike "entry 5 'Bad'*"
        (Get-WorkflowTrigger -Id 1).Name | Should -Be 'Inbox PDFs'
        (Get-WorkflowTrigger -Id 1).Config.recursive | Should -BeFalse
        (Get-WorkflowTrigger -Name 'From git').WorkflowId | Should -Be 'wf_multi'

        # Applying the same file again: the new entry (no id) is matched by workflow and name.
        (Import-WorkflowTrigger -Path $file -ErrorAction SilentlyContinue).Action | Sort-Object -Unique | Should -Be 'Unchanged'
    }

    It 'refuses a file that is not a triggers document with a clear error' {
        $file = Join-Path $TestDrive 'broken.json'
        Set-Content $file '{ "triggers": [ { "name": '
        { Import-WorkflowTrigger -Path $file -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidTriggerFile,*' -ExpectedMessage '*not valid JSON*'
    }
}

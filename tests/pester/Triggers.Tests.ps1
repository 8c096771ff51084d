BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:db = Initialize-SuiteDatabase

    function Get-Count { @(Get-WorkflowTrigger).Count }
}

AfterAll {
    Remove-SuiteDatabase $script:db
}

Describe 'New-WorkflowTrigger' {
    It 'creates a trigger with a config that round-trips objects, arrays, numbers, booleans, null and unicode' {
        $config = @{ monitor_path = '/data/inbox'; recursive = $true; file_extensions = @('.pdf', '.PDF'); min_size_kb = 10; ratio = 0.25; nested = @{ none = $null; deeper = @{ emoji = 'Grüße 😀' } } }
        $created = New-SampleTrigger -Extra @{ Config = $config; TargetNodeId = 'pdf_input_validator'; Description = 'From the inbox' }
        $created.Id | Should -BeGreaterThan 0
        $created.RoutingType | Should -Be 'targeted'
        $read = Get-WorkflowTrigger -Id $created.Id
        $read.Config.monitor_path | Should -Be '/data/inbox'
        $read.Config.recursive | Should -BeTrue
        $read.Config.file_extensions | Should -Be @('.pdf', '.PDF')
        $read.Config.min_size_kb | Should -Be 10
        $read.Config.ratio | Should -Be 0.25
        $read.Config.nested.none | Should -BeNullOrEmpty
        $read.Config.nested.deeper.emoji | Should -Be 'Grüße 😀'
        # Set the same config back from the object: nothing may change.
        $again = Set-WorkflowTrigger -Id $read.Id -Config $read.Config -PassThru
        ($again.Config | ConvertTo-Json -Depth 10 -Compress) | Should -Be ($read.Config | ConvertTo-Json -Depth 10 -Compress)
    }

    It 'accepts JSON text and PSCustomObject config, and triggers from Import-Csv and ConvertFrom-Json' {
        $csv = Join-Path $TestDrive 'triggers.csv'
        @(
            [pscustomobject]@{ Name = 'CSV one'; WorkflowId = 'wf_csv'; Source = 'webhook-event-source'; EventType = 'webhook_received'; Config = '{"filename_pattern": "^invoice_.*\\.pdf$", "min_size_kb": 10}' }
            [pscustomobject]@{ Name = 'CSV two'; WorkflowId = 'wf_csv'; Source = 'webhook-event-source'; EventType = 'webhook_received'; Config = '' }
        ) | Export-Csv -Path $csv
        $created = Import-Csv $csv | New-WorkflowTrigger
        $created.Name | Should -Be @('CSV one', 'CSV two')
        $created[0].Config.filename_pattern | Should -Be '^invoice_.*\.pdf$'

        $json = '[{"Name":"JSON one","WorkflowId":"wf_json","Source":"scheduler-event-source","EventType":"cron_trigger","Config":{"schedule":"0 * * * *"},"IsActive":false}]'
        $fromJson = $json | ConvertFrom-Json | New-WorkflowTrigger
        $fromJson.Config.schedule | Should -Be '0 * * * *'
        $fromJson.IsActive | Should -BeFalse
    }

    It 'batches a large pipeline: 2,500 objects in, 2,500 triggers out, in order' {
        $before = Get-Count
        $created = 1..2500 | ForEach-Object { [pscustomobject]@{ Name = "Bulk $_"; WorkflowId = 'wf_bulk'; Source = 'search-api-source'; EventType = 'webhook_received' } } | New-WorkflowTrigger
        $created.Count | Should -Be 2500
        $created[0].Name | Should -Be 'Bulk 1'
        $created[-1].Name | Should -Be 'Bulk 2500'
        (Get-Count) | Should -Be ($before + 2500)
    }

    It '-InputObject creates an array of objects at once, read as piping them would be, and names a missing property' {
        $rows = @(
            [pscustomobject]@{ Name = 'Fast 1'; WorkflowId = 'wf_fast'; Source = 'search-api-source'; EventType = 'webhook_received'; Config = '{"b": 1}' }
            [pscustomobject]@{ name = 'Fast 2'; workflowid = 'wf_fast'; source = 'search-api-source'; eventtype = 'webhook_received'; Description = 'lower-case names'; Inactive = $true }
            [pscustomobject]@{ Name = 'Fast 3'; WorkflowId = 'wf_fast'; EventType = 'webhook_received' }
            [pscustomobject]@{ Name = 4242; WorkflowId = 'wf_fast'; Source = 'search-api-source'; EventType = 'webhook_received'; IsActive = 'false' }
        )
        $created = New-WorkflowTrigger -InputObject $rows -ErrorVariable errors -ErrorAction SilentlyContinue
        $created.Name | Should -Be @('Fast 1', 'Fast 2', '4242')
        $created[0].Config.b | Should -Be 1
        $created[1].Description | Should -Be 'lower-case names'
        $created[1].IsActive | Should -BeFalse
        $created[2].IsActive | Should -BeFalse
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidSource,*'
        "$($errors[0])" | Should -BeLike '*no Source property*'
        $errors[0].TargetObject.Name | Should -Be 'Fast 3'

        # The same rows piped make the same triggers.
        $piped = $rows | Select-Object -First 2 | ForEach-Object { $_.PSObject.Copy() } | ForEach-Object { $_.Name = "$($_.Name) piped"; $_ } | New-WorkflowTrigger
        ($piped | Select-Object WorkflowId, Source, EventType, ConfigJson, Description, IsActive | ConvertTo-Json) |
            Should -Be ($created[0..1] | Select-Object WorkflowId, Source, EventType, ConfigJson, Description, IsActive | ConvertTo-Json)
    }

    It 'refuses <Field> = <Value> with an InvalidArgument error <ErrorId>, naming the field, and writes nothing' -ForEach @(
        @{ Field = 'Name'; Value = 'ab'; ErrorId = 'InvalidTriggerName' }
        @{ Field = 'Name'; Value = '   '; ErrorId = 'InvalidTriggerName' }
        @{ Field = 'WorkflowId'; Value = '  '; ErrorId = 'InvalidWorkflowId' }
        @{ Field = 'Source'; Value = 'Bad_Source'; ErrorId = 'InvalidSource' }
        @{ Field = 'Source'; Value = 'ends-with-'; ErrorId = 'InvalidSource' }
        @{ Field = 'EventType'; Value = 'File-Added'; ErrorId = 'InvalidEventType' }
        @{ Field = 'TargetNodeId'; Value = 'node with spaces'; ErrorId = 'InvalidTargetNodeId' }
        @{ Field = 'Config'; Value = '[1, 2]'; ErrorId = 'InvalidConfig' }
        @{ Field = 'Config'; Value = '42'; ErrorId = 'InvalidConfig' }
        @{ Field = 'Config'; Value = '{broken'; ErrorId = 'InvalidConfig' }
        @{ Field = 'Source'; Value = ('a' * 256); ErrorId = 'InvalidSource' }
    ) {
        $before = Get-Count
        $parameters = @{ Name = 'Valid name'; WorkflowId = 'wf_bd11290f923b'; Source = 'pdf-monitor-event-source'; EventType = 'pdf_file_added' }
        $parameters[$Field] = $Value
        $result = New-WorkflowTrigger @parameters -ErrorVariable problems -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $problems.Count | Should -Be 1
        $problems[0].FullyQualifiedErrorId | Should -Be "$ErrorId,WorkflowTriggers.Commands.NewWorkflowTriggerCommand"
        $problems[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $problems[0].TargetObject | Should -Be $Value
        $problems[0].Exception.Message | Should -Match $Field
        (Get-Count) | Should -Be $before
    }

    It 'writes the valid items of a piped batch and reports each bad one' {
        $before = Get-Count
        $items = @(
            [pscustomobject]@{ Name = 'Good one'; WorkflowId = 'wf_mix'; Source = 'webhook-event-source'; EventType = 'webhook_received' }
            [pscustomobject]@{ Name = 'Bad'; WorkflowId = 'wf_mix'; Source = 'BAD'; EventType = 'webhook_received' }
            [pscustomobject]@{ Name = 'Good two'; WorkflowId = 'wf_mix'; Source = 'webhook-event-source'; EventType = 'webhook_received' }
        )
        $created = $items | New-WorkflowTrigger -ErrorVariable problems -ErrorAction SilentlyContinue
        $created.Name | Should -Be @('Good one', 'Good two')
        $problems.Count | Should -Be 1
        (Get-Count) | Should -Be ($before + 2)
    }

    It 'isolates an item the server refuses (config too large for the covering index): the rest of the batch goes in' {
        $blob = -join (1..10000 | ForEach-Object { [char](Get-Random -Minimum 33 -Maximum 126 -SetSeed $_) })
        $items = 1..7 | ForEach-Object {
            [pscustomobject]@{ Name = "Sized $_"; WorkflowId = 'wf_sized'; Source = 'webhook-event-source'; EventType = 'webhook_received'; Config = if ($_ -eq 4) { @{ blob = $blob } } else { @{ n = $_ } } }
        }
        $created = $items | New-WorkflowTrigger -ErrorVariable problems -ErrorAction SilentlyContinue
        $created.Name | Should -Be @('Sized 1', 'Sized 2', 'Sized 3', 'Sized 5', 'Sized 6', 'Sized 7')
        $problems.Count | Should -Be 1
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'RowRefused,*'
        $problems[0].TargetObject | Should -Be 'Sized 4'
        $problems[0].Exception.Message | Should -Match 'idx_trigger_lookup_covering'

        # Inactive rows are outside the partial index, so the big config fits; enabling it is what the index refuses.
        $inactive = New-WorkflowTrigger -Name 'Sized inactive' -WorkflowId wf_sized -Source webhook-event-source -EventType webhook_received -Config @{ blob = $blob } -Inactive
        $enabled = $inactive.Id, $created[0].Id | Enable-WorkflowTrigger -PassThru -ErrorVariable refused -ErrorAction SilentlyContinue
        $enabled.Id | Should -Be $created[0].Id
        $refused[0].TargetObject | Should -Be $inactive.Id
        (Get-WorkflowTrigger -Id $inactive.Id).IsActive | Should -BeFalse
    }

    It 'stores and returns SQL-looking text verbatim' {
        $hostile = "x'); DROP TABLE workflow_triggers;--"
        $created = New-SampleTrigger -Name $hostile -Extra @{ Description = $hostile }
        (Get-WorkflowTrigger -Id $created.Id).Name | Should -Be $hostile
        (Get-WorkflowTrigger -Name $hostile).Description | Should -Be $hostile
    }

    It 'refuses text that is not valid Unicode per item and field, and writes the rest of the batch' {
        $half = [string][char]0xD83D
        $good = 1..4 | ForEach-Object { [pscustomobject]@{ Name = "Whole $_"; WorkflowId = 'wf_unicode'; Source = 'webhook-event-source'; EventType = 'webhook_received' } }
        $bad = @(
            [pscustomobject]@{ Name = "abc$half"; WorkflowId = 'wf_unicode'; Source = 'webhook-event-source'; EventType = 'webhook_received' }
            [pscustomobject]@{ Name = 'Half description'; Description = "x$half"; WorkflowId = 'wf_unicode'; Source = 'webhook-event-source'; EventType = 'webhook_received' }
            [pscustomobject]@{ Name = 'Half workflow'; WorkflowId = "wf_$half"; Source = 'webhook-event-source'; EventType = 'webhook_received' }
            [pscustomobject]@{ Name = 'Half config'; WorkflowId = 'wf_unicode'; Source = 'webhook-event-source'; EventType = 'webhook_received'; Config = @{ path = "/in$half" } }
        )
        $created = $good[0], $bad[0], $good[1], $bad[1], $good[2], $bad[2], $good[3], $bad[3] | New-WorkflowTrigger -ErrorVariable problems -ErrorAction SilentlyContinue
        $created.Name | Should -Be @('Whole 1', 'Whole 2', 'Whole 3', 'Whole 4')
        @(Get-WorkflowTrigger -WorkflowId wf_unicode).Count | Should -Be 4
        $problems.FullyQualifiedErrorId -replace ',.*' | Should -Be @('InvalidTriggerName', 'InvalidDescription', 'InvalidWorkflowId', 'InvalidConfig')
        $problems.CategoryInfo.Category | Sort-Object -Unique | Should -Be 'InvalidArgument'
        # The target is the row itself, so a runbook can point at it; the message names the field.
        for ($i = 0; $i -lt 4; $i++) { $problems[$i].TargetObject.Name | Should -BeExactly $bad[$i].Name }
        "$($problems[1])" | Should -BeLike 'Description *'
    }

    It 'reports every committed row before -ErrorAction Stop ends the command, even with a pause upstream' {
        $created = $null
        try {
            & {
                1..5000 | ForEach-Object { [pscustomobject]@{ Name = "Stop $_"; WorkflowId = 'wf_stop_report'; Source = 'webhook-event-source'; EventType = 'webhook_received' } }
                # The full batch is written while the pipeline waits here, and commits.
                Start-Sleep -Milliseconds 1500
                [pscustomobject]@{ Name = 'x'; WorkflowId = 'wf_stop_report'; Source = 'webhook-event-source'; EventType = 'webhook_received' }
            } | New-WorkflowTrigger -ErrorAction Stop -OutVariable created | Out-Null
        }
        catch {
            $_.FullyQualifiedErrorId | Should -BeLike 'InvalidTriggerName,*'
        }
        $stored = @(Get-WorkflowTrigger -WorkflowId wf_stop_report).Count
        $stored | Should -Be 5000
        @($created).Count | Should -Be $stored -Because 'every committed row is reported before the error ends the command'
    }

    It '-SkipExisting makes a load idempotent: run again, or twice at once, it creates each trigger once' {
        $rows = 1..300 | ForEach-Object { [pscustomobject]@{ Name = "Load $_"; WorkflowId = 'wf_idempotent'; Source = 'webhook-event-source'; EventType = 'webhook_received' } }
        @($rows | New-WorkflowTrigger -SkipExisting).Count | Should -Be 300
        @($rows | New-WorkflowTrigger -SkipExisting).Count | Should -Be 0
        $skipped = $rows[0] | New-WorkflowTrigger -SkipExisting -Verbose 4>&1
        "$skipped" | Should -BeLike "*Skipped 'Load 1' (workflow wf_idempotent): it exists as trigger*"

        # Two runs of the same load at the same moment, each in a runspace of its own.
        $load = 1..2000 | ForEach-Object { [pscustomobject]@{ Name = "Parallel $_"; WorkflowId = 'wf_parallel'; Source = 'webhook-event-source'; EventType = 'webhook_received' } }
        $runs = 1..2 | ForEach-Object {
            $ps = [powershell]::Create()
            $null = $ps.AddScript({ param($module, $cs, $rows) Import-Module $module; @($rows | New-WorkflowTrigger -ConnectionString $cs -SkipExisting).Count }).AddArgument($env:WT_MODULE_PATH).AddArgument($script:db).AddArgument($load)
            [pscustomobject]@{ Shell = $ps; Handle = $ps.BeginInvoke() }
        }
        $counts = $runs | ForEach-Object { $_.Shell.EndInvoke($_.Handle)[0]; $_.Shell.Dispose() }
        ($counts | Measure-Object -Sum).Sum | Should -Be 2000
        @(Get-WorkflowTrigger -WorkflowId wf_parallel).Count | Should -Be 2000
    }

    It 'writes nothing under -WhatIf' {
        $before = Get-Count
        New-SampleTrigger -Name 'Only imagined' -Extra @{ WhatIf = $true }
        (Get-Count) | Should -Be $before
    }
}

Describe 'Get-WorkflowTrigger' {
    BeforeAll {
        $script:a = New-SampleTrigger -Name 'Filter alpha' -Extra @{ WorkflowId = 'wf_filter'; TargetNodeId = 'node_f' }
        $script:b = New-SampleTrigger -Name 'Filter beta' -Extra @{ WorkflowId = 'wf_filter'; Inactive = $true }
    }

    It 'takes several values and wildcards for -Source, -EventType, -WorkflowId and -TargetNodeId, as -like does' {
        New-SampleTrigger -Name 'Multi webhook' -Extra @{ WorkflowId = 'wf_multi_values'; Source = 'webhook-event-source'; EventType = 'webhook_received' } | Out-Null
        New-SampleTrigger -Name 'Multi scheduler' -Extra @{ WorkflowId = 'wf_multi_values'; Source = 'scheduler-event-source'; EventType = 'cron_trigger' } | Out-Null
        New-SampleTrigger -Name 'Multi pdf' -Extra @{ WorkflowId = 'wf_multi_values2' } | Out-Null
        $inScope = Get-WorkflowTrigger -WorkflowId wf_multi_values, wf_multi_values2
        $inScope.Count | Should -Be 3
        (Get-WorkflowTrigger -WorkflowId 'wf_multi_*' -Source webhook-event-source, scheduler-event-source).Name | Sort-Object | Should -Be @('Multi scheduler', 'Multi webhook')
        (Get-WorkflowTrigger -WorkflowId 'WF_MULTI_VALUES*' -Source 'pdf-*').Name | Should -Be 'Multi pdf'
        (Get-WorkflowTrigger -WorkflowId 'wf_multi_*' -EventType '*_received', 'cron_*').Count | Should -Be 2
        Get-WorkflowTrigger -WorkflowId 'wf_multi_*' -Source 'pdf' | Should -BeNullOrEmpty -Because 'a plain value matches whole'
        $expected = @($inScope | Where-Object { $_.Source -like '*-event-source' -and $_.WorkflowId -like 'wf_multi_values?' }).Count
        @(Get-WorkflowTrigger -WorkflowId 'wf_multi_values?' -Source '*-event-source').Count | Should -Be $expected
    }

    It '-Name <Pattern> matches exactly what -like matches' -ForEach @(
        '[^a]*', '[!a]*', 'a[]]c', 'a[\]c', '*`**', 'a?c', 'A.C', '[a-c]*', '[a-]*', '[-a]*', '*', '???', '*[.]*',
        'x``y', '`[x`]', 'a`?c', 'Ü*', '*😀*', '*ß*', '[A-C]bc', '*(*', '*$', '^*', '*|*', 'a\c'
    ).ForEach({ @{ Pattern = $_ } }) {
        $names = 'abc', 'Abc', '^bc', 'a]c', '[x]', 'a-c', 'bbb', 'ab*', 'a?c', 'x`y', 'a\c', 'A.c', 'über', 'Grüße',
            'x 😀 y', 'f(x)', 'co$t', 'p|q'
        if (-not (Get-WorkflowTrigger -WorkflowId wf_like)) {
            $names | ForEach-Object { New-SampleTrigger -Name $_ -Extra @{ WorkflowId = 'wf_like' } } | Out-Null
        }
        $expected = @($names | Where-Object { $_ -like $Pattern } | Sort-Object)
        $found = @((Get-WorkflowTrigger -WorkflowId wf_like -Name $Pattern).Name | Sort-Object)
        $found | Should -Be $expected
    }

    It 'refuses an invalid pattern (<Pattern>) as -like would, with InvalidArgument, before any query' -ForEach @(
        @{ Pattern = '[]' }, @{ Pattern = '[z-a]*' }, @{ Pattern = '[ab' }
    ) {
        { 'x' -like $Pattern } | Should -Throw
        { Get-WorkflowTrigger -Name $Pattern -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidNamePattern,*'
        $failure = try { Get-WorkflowTrigger -Name $Pattern -ErrorAction Stop } catch { $_ }
        $failure.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'combines filters' {
        (Get-WorkflowTrigger -WorkflowId wf_filter).Count | Should -Be 2
        (Get-WorkflowTrigger -WorkflowId wf_filter -IsActive $true).Name | Should -Be 'Filter alpha'
        (Get-WorkflowTrigger -WorkflowId wf_filter -IsActive $false).Name | Should -Be 'Filter beta'
        (Get-WorkflowTrigger -WorkflowId wf_filter -Untargeted).Name | Should -Be 'Filter beta'
        (Get-WorkflowTrigger -TargetNodeId node_f).Name | Should -Be 'Filter alpha'
        (Get-WorkflowTrigger -Name 'FILTER *' -Source pdf-monitor-event-source -EventType pdf_file_added).Count | Should -Be 2
    }

    It 'takes ids from the pipeline and reports a missing id as ObjectNotFound' {
        $found = $script:a, [pscustomobject]@{ Id = 987654 } | Get-WorkflowTrigger -ErrorVariable problems -ErrorAction SilentlyContinue
        $found.Id | Should -Be $script:a.Id
        $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $problems[0].TargetObject | Should -Be 987654
        $problems[0].Exception.Message | Should -Match '987654'
    }

    It 'stops the query when the consumer has enough' {
        (Get-WorkflowTrigger | Select-Object -First 3).Count | Should -Be 3
    }

    It 'tab-completes sources, event types, workflows and nodes from the database' {
        $complete = { param($line) (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText }
        & $complete 'Get-WorkflowTrigger -Source pdf-mon' | Should -Be 'pdf-monitor-event-source'
        & $complete 'Get-WorkflowTrigger -WorkflowId wf_fil' | Should -Be 'wf_filter'
        & $complete 'Get-WorkflowTrigger -TargetNodeId node_' | Should -Contain 'node_f'
        & $complete 'Set-TriggerTargetNode -Id 1 -NodeId node_' | Should -Contain 'node_f'
        & $complete 'Get-WorkflowTrigger -EventType pdf_file_a' | Should -Be 'pdf_file_added'
        & $complete 'Install-TriggerSchema -Version 1' | Should -Be '1.0.0'
        & $complete 'Get-WorkflowTrigger -ConnectionString "Host=127.0.0.1;Port=1;Timeout=1" -Source pdf' | Should -BeNullOrEmpty
    }

    It 'uses the default table view' {
        $text = Get-WorkflowTrigger -Id $script:a.Id | Out-String -Width 200
        $text | Should -Match 'Id\s+Name\s+WorkflowId\s+TargetNodeId\s+IsActive\s+EventType\s+Source'
    }
}

Describe 'Set-WorkflowTrigger, Enable/Disable-WorkflowTrigger, Remove-WorkflowTrigger' {
    It 'changes only the given fields and sets updated_at' {
        $t = New-SampleTrigger -Name 'To change' -Extra @{ Description = 'keep'; Config = @{ a = 1 } }
        Start-Sleep -Milliseconds 20
        $changed = Set-WorkflowTrigger -Id $t.Id -EventType pdf_file_modified -PassThru
        $changed.EventType | Should -Be 'pdf_file_modified'
        $changed.Description | Should -Be 'keep'
        $changed.Config.a | Should -Be 1
        $changed.UpdatedAt | Should -BeGreaterThan $t.UpdatedAt
    }

    It 'applies each piped record''s own fields only: a description given for one record does not carry to the next' {
        $a = New-SampleTrigger -Name 'Piped A' -Extra @{ Description = 'original A' }
        $b = New-SampleTrigger -Name 'Piped B' -Extra @{ Description = 'original B' }
        $changed = [pscustomobject]@{ Id = $a.Id; Description = 'changed A' }, [pscustomobject]@{ Id = $b.Id; Name = 'Renamed B' } | Set-WorkflowTrigger -PassThru
        $changed[0].Description | Should -Be 'changed A'
        $changed[1].Name | Should -Be 'Renamed B'
        $changed[1].Description | Should -Be 'original B'
        (Set-WorkflowTrigger -Id $b.Id -Description '' -PassThru).Description | Should -BeNullOrEmpty
    }

    It 'refuses a bad value and a missing id per item, and -WhatIf writes nothing' {
        $t = New-SampleTrigger -Name 'Guarded'
        Set-WorkflowTrigger -Id $t.Id -Source 'NOPE' -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'InvalidSource,*'
        Set-WorkflowTrigger -Id 876543 -Name 'Nobody here' -ErrorVariable missing -ErrorAction SilentlyContinue
        $missing[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Set-WorkflowTrigger -Id $t.Id -Name 'Renamed' -WhatIf
        (Get-WorkflowTrigger -Id $t.Id).Name | Should -Be 'Guarded'
    }

    It 'disables and enables piped triggers in batches' {
        $ids = (1..1500 | ForEach-Object { [pscustomobject]@{ Name = "Toggle $_"; WorkflowId = 'wf_toggle'; Source = 'webhook-event-source'; EventType = 'webhook_received' } } | New-WorkflowTrigger).Id
        (Get-WorkflowTrigger -WorkflowId wf_toggle | Disable-WorkflowTrigger -PassThru).Count | Should -Be 1500
        @(Get-WorkflowTrigger -WorkflowId wf_toggle -IsActive $true).Count | Should -Be 0
        Enable-WorkflowTrigger -Id $ids[0] -PassThru | ForEach-Object IsActive | Should -BeTrue
        Enable-WorkflowTrigger -Id $ids[1] -WhatIf
        (Get-WorkflowTrigger -Id $ids[1]).IsActive | Should -BeFalse -Because '-WhatIf must not enable it'
        Disable-WorkflowTrigger -Id $ids[0] -WhatIf
        (Get-WorkflowTrigger -Id $ids[0]).IsActive | Should -BeTrue -Because '-WhatIf must not disable it'
    }

    It 'removes with -Force, keeps rows under -WhatIf, and reports missing ids' {
        $t = New-SampleTrigger -Name 'Doomed'
        $before = Get-Count
        Remove-WorkflowTrigger -Id $t.Id -WhatIf
        (Get-Count) | Should -Be $before
        Remove-WorkflowTrigger -Id $t.Id, 765432 -Force -ErrorVariable problems -ErrorAction SilentlyContinue
        (Get-Count) | Should -Be ($before - 1)
        $problems[0].TargetObject | Should -Be 765432
    }

    It 'writes only what changed: the fields named on the command line, and the piped fields whose values differ' {
        $t = New-SampleTrigger -Name 'Only this' -Extra @{ Description = 'before'; Config = @{ monitor_path = '/in'; keep = 1 } }
        $said = $t | Set-WorkflowTrigger -Description 'after' -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        ($said -match 'Performing the operation') | Should -BeLike '*"Update Description"*'

        $read = Get-WorkflowTrigger -Id $t.Id
        $read.Config.monitor_path = '/elsewhere'
        $said = $read | Set-WorkflowTrigger -PassThru -Verbose 4>&1
        ($said | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match 'Performing' }).Message | Should -BeLike '*"Update Config"*'
        $after = Get-WorkflowTrigger -Id $t.Id
        $after.Config.monitor_path | Should -Be '/elsewhere'
        $after.Config.keep | Should -Be 1
        $after.Description | Should -Be 'after'
    }

    It 'does not put back what another session changed since the read (TriggerChangedSinceRead), unless -Force' {
        $t = New-SampleTrigger -Name 'Contended' -Extra @{ Config = @{ monitor_path = '/mine' } }
        Invoke-TestSql $script:db "UPDATE workflow_triggers SET config = '{`"monitor_path`": `"/theirs`"}' WHERE id = $($t.Id)"
        $t | Set-WorkflowTrigger -Description 'stale' -ErrorAction SilentlyContinue -ErrorVariable bySet
        $t | Disable-WorkflowTrigger -ErrorAction SilentlyContinue -ErrorVariable byDisable
        $t | Set-TriggerTargetNode -NodeId n1 -ErrorAction SilentlyContinue -ErrorVariable byRoute
        $t | Remove-WorkflowTrigger -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable byRemove
        foreach ($refused in $bySet, $byDisable, $byRoute, $byRemove) {
            $refused[0].FullyQualifiedErrorId | Should -BeLike 'TriggerChangedSinceRead,*'
            $refused[0].Exception.Message | Should -BeLike "*trigger $($t.Id) 'Contended'*Config*"
        }
        $now = Get-WorkflowTrigger -Id $t.Id
        ($now.Config.monitor_path, $now.Description, $now.IsActive, $now.TargetNodeId) | Should -Be @('/theirs', $null, $true, $null)

        $t | Set-WorkflowTrigger -Description 'mine wins' -Force | Out-Null
        $forced = Get-WorkflowTrigger -Id $t.Id
        ($forced.Config.monitor_path, $forced.Description) | Should -Be @('/mine', 'mine wins')
    }

    It 'acts only on triggers, records with an Id and ids: a process is NotATrigger, even one whose Id is a trigger id' {
        # A database of its own, so the id this process has is surely free for the trigger.
        $own = New-TestDatabase
        try {
            Install-TriggerSchema -ConnectionString $own | Out-Null
            $PSDefaultParameterValues['*-WorkflowTrigger:ConnectionString'] = $own
            Invoke-TestSql $own "INSERT INTO workflow_triggers (id, name, workflow_id, source, event_type) VALUES ($PID, 'Same id as this process', 'wf_pid', 'webhook-event-source', 'webhook_received')"
            Get-Process -Id $PID | Remove-WorkflowTrigger -Force -ErrorVariable refused -ErrorAction SilentlyContinue
            $refused[0].FullyQualifiedErrorId | Should -BeLike 'NotATrigger,*'
            $refused[0].Exception.Message | Should -BeLike '*System.Diagnostics.Process*'
            Get-WorkflowTrigger -Id $PID | Should -Not -BeNullOrEmpty
            Get-Process -Id $PID | Select-Object Id, Name | Disable-WorkflowTrigger -ErrorAction SilentlyContinue -ErrorVariable selected
            $selected[0].FullyQualifiedErrorId | Should -BeLike 'NotATrigger,*'
            (Get-WorkflowTrigger -Id $PID).IsActive | Should -BeTrue

            # Deserialized triggers, records and typed ids are triggers.
            $file = Join-Path $TestDrive 'triggers.clixml'
            Get-WorkflowTrigger -Id $PID | Export-Clixml $file
            (Import-Clixml $file | Disable-WorkflowTrigger -PassThru).IsActive | Should -BeFalse
            ([pscustomobject]@{ Id = $PID } | Enable-WorkflowTrigger -PassThru).IsActive | Should -BeTrue
            ("$PID" | Get-WorkflowTrigger).Id | Should -Be $PID
            ($PID | Remove-WorkflowTrigger -Force -PassThru).Id | Should -Be $PID
        }
        finally {
            $PSDefaultParameterValues.Remove('*-WorkflowTrigger:ConnectionString')
            Remove-TestDatabase $own
        }
    }

    It 'asks before deleting unless -Force: where it cannot ask, it deletes nothing' {
        $t = New-SampleTrigger -Name 'Asked about'
        # A runspace with no host to answer: a cmdlet that asks fails there (HostException), one that does not ask goes ahead.
        function Invoke-WithoutHost([string] $Arguments) {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("Import-Module '$env:WT_MODULE_PATH'; Remove-WorkflowTrigger -Id $($t.Id) -ConnectionString '$script:db' $Arguments")
                $null = $ps.Invoke()
                @($ps.Streams.Error | ForEach-Object { $_.Exception } | ForEach-Object { $_; $_.InnerException } | Where-Object { $_ -is [System.Management.Automation.Host.HostException] })
            }
            finally { $ps.Dispose() }
        }

        @(Invoke-WithoutHost '').Count | Should -BeGreaterThan 0 -Because 'without -Force it must ask'
        Get-WorkflowTrigger -Id $t.Id | Should -Not -BeNullOrEmpty
        Invoke-WithoutHost '-Force' | Should -BeNullOrEmpty
        Get-WorkflowTrigger -Id $t.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe 'Config through every round trip' {
    BeforeAll {
        # Each config is stored by SQL, so the module's first contact with it is the read.
        function Add-RawTrigger([string] $Name, [string] $Json) {
            Invoke-TestSql $script:db "INSERT INTO workflow_triggers (name, workflow_id, source, event_type, config) VALUES ('$Name', 'wf_lossless', 'webhook-event-source', 'webhook_received', `$j`$$Json`$j`$)"
            (Get-WorkflowTrigger -WorkflowId wf_lossless -Name $Name)
        }
        function Test-SameConfig([int] $Id, [string] $Json) {
            Get-TestScalar $script:db "SELECT config = `$j`$$Json`$j`$::jsonb FROM workflow_triggers WHERE id = $Id"
        }
    }

    It 'keeps <Name> jsonb-equal through Get | Set, Get | New and Export | Import, and shows every key' -ForEach @(
        @{ Name = 'big integer'; Json = '{"n": 123456789012345678901234567890}' }
        @{ Name = 'long decimal'; Json = '{"pi": 3.14159265358979323846264338327950288419716939937510}' }
        @{ Name = 'tiny and huge exponents'; Json = '{"tiny": 1e-30, "tinier": 1e-400, "huge": 1e400}' }
        @{ Name = 'keys that differ by case'; Json = '{"A": 2, "a": 1}' }
        @{ Name = 'unicode'; Json = '{"text": "Grüße 😀 \u00e9", "tab": "a\tb"}' }
        @{ Name = 'deep nesting'; Json = ('{"n": ' * 100) + '1' + ('}' * 100) }
    ) {
        $trigger = Add-RawTrigger "Lossless $Name" $Json
        $keys = [int](Get-TestScalar $script:db "SELECT count(*) FROM jsonb_object_keys(`$j`$$Json`$j`$::jsonb)")
        $trigger.Config.Keys.Count | Should -Be $keys

        $trigger | Set-WorkflowTrigger -Description 'touched' | Out-Null
        Test-SameConfig $trigger.Id $Json | Should -Be 'True' -Because 'Get | Set must not change the config'

        $copy = $trigger | New-WorkflowTrigger -Name "Copy of $Name"
        Test-SameConfig $copy.Id $Json | Should -Be 'True' -Because 'Get | New must copy the config as it is'

        $file = Join-Path $TestDrive 'lossless.json'
        Export-WorkflowTrigger -Id $trigger.Id -Path $file
        Remove-WorkflowTrigger -Id $trigger.Id -Force
        Import-WorkflowTrigger -Path $file | Out-Null
        Test-SameConfig $trigger.Id $Json | Should -Be 'True' -Because 'Export | Import must keep the config'
    }
}

Describe 'Triggers in other formats' {
    BeforeAll {
        Invoke-TestSql $script:db "INSERT INTO workflow_triggers (name, workflow_id, source, event_type, config, is_active) VALUES ('Csv source', 'wf_formats', 'webhook-event-source', 'webhook_received', '{`"interval_seconds`": 60, `"nested`": {`"a`": [1, 2.50]}}', false)"
    }

    It 'round-trips through Export-Csv, Import-Csv and New-WorkflowTrigger, config included' {
        $csv = Join-Path $TestDrive 'triggers.csv'
        Get-WorkflowTrigger -WorkflowId wf_formats -Name 'Csv source' | Export-Csv $csv
        $row = Import-Csv $csv
        $row.Config | Should -Be $row.ConfigJson.Replace(' ', '') -Because 'the Config column holds JSON, not a type name'
        $row.Name = 'Csv copy'
        $copy = $row | New-WorkflowTrigger
        Get-TestScalar $script:db "SELECT a.config = b.config AND a.is_active = b.is_active FROM workflow_triggers a, workflow_triggers b WHERE a.name = 'Csv source' AND b.id = $($copy.Id)" |
            Should -Be 'True'
    }

    It 'shows times in local time, and ConvertTo-Json writes them with their offset' {
        $child = "Import-Module '$env:WT_MODULE_PATH'; `$t = Get-WorkflowTrigger -ConnectionString '$script:db' -WorkflowId wf_formats -Name 'Csv source'; 'Kind=' + `$t.UpdatedAt.Kind; 'Json=' + (`$t | Select-Object UpdatedAt | ConvertTo-Json | ConvertFrom-Json -DateKind String).UpdatedAt"
        $env:TZ = 'Europe/Berlin'
        try { $out = & ([Environment]::ProcessPath) (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $child }
        finally { Remove-Item Env:TZ }
        $out = @($out | Where-Object { $_ -match '^(Kind|Json)=' }) -replace '^(Kind|Json)='
        $out[0] | Should -Be 'Local'
        $berlin = Get-TestScalar $script:db "SELECT to_char(updated_at AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD`"T`"HH24:MI:SS') || to_char(updated_at AT TIME ZONE 'Europe/Berlin' - updated_at AT TIME ZONE 'UTC', '+HH24:MI') FROM workflow_triggers WHERE name = 'Csv source'"
        $out[1] | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$'
        ($out[1] -replace '\.\d+', '') | Should -Be $berlin
    }

    It 'writes status-like values by name in JSON' {
        (Get-TriggerHealth | ConvertTo-Json -Depth 3 | ConvertFrom-Json).Checks[0].Status | Should -BeIn @('Pass', 'Warn', 'Fail')
    }
}

Describe 'Tab completion from the command line and the engine tables' {
    BeforeAll {
        $script:completionDb = New-TestDatabase
        Add-RoutingGraph $script:completionDb
        Install-TriggerSchema -ConnectionString $script:completionDb | Out-Null
        Connect-TriggerDatabase -ConnectionString $script:completionDb
        $script:invoice = New-WorkflowTrigger -Name 'Invoice PDFs' -WorkflowId wf_bd11290f923b -Source pdf-monitor-event-source -EventType pdf_file_added
        New-WorkflowTrigger -Name 'Invoice changes' -WorkflowId wf_bd11290f923b -Source pdf-monitor-event-source -EventType pdf_file_modified | Out-Null
        New-WorkflowTrigger -Name 'Multi hook' -WorkflowId wf_multi -Source webhook-event-source -EventType webhook_received | Out-Null
        function Complete([string] $Line) { (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches }
    }

    AfterAll {
        Connect-TriggerDatabase -ConnectionString $script:db
        Remove-TestDatabase $script:completionDb
    }

    It 'offers only the event types of the -Source already typed' {
        (Complete 'Get-WorkflowTrigger -Source webhook-event-source -EventType ').CompletionText | Should -Be 'webhook_received'
        (Complete 'Test-WorkflowTrigger -Source pdf-monitor-event-source -EventType ').CompletionText | Should -Be @('pdf_file_added', 'pdf_file_modified')
        (Complete 'Get-WorkflowTrigger -EventType ').CompletionText | Should -Be @('pdf_file_added', 'pdf_file_modified', 'webhook_received')
    }

    It 'offers the nodes of the workflow on the command line, from workflow_nodes, with type, name and workflow' {
        $nodes = Complete 'New-WorkflowTrigger -Name x -WorkflowId wf_multi -TargetNodeId '
        $nodes.CompletionText | Should -Be @('m1', 'm2', 'm3')
        ($nodes | Where-Object CompletionText -eq 'm2').ToolTip | Should -Be "m2: input 'Second id' of wf_multi (Multi)"
        (Complete 'Get-WorkflowTrigger -WorkflowId wf_multi | Set-TriggerTargetNode -NodeId ').CompletionText | Should -Be @('m1', 'm2', 'm3')
        (Complete "Get-WorkflowTrigger -Id $($script:invoice.Id) | Set-TriggerTargetNode -NodeId ").CompletionText | Should -Be 'pdf_input_validator'
        (Complete "Set-TriggerTargetNode -Id $($script:invoice.Id) -NodeId ").CompletionText | Should -Be 'pdf_input_validator'
        (Complete 'Set-TriggerTargetNode -Id 999999 -NodeId ').CompletionText | Should -Contain 'query_input_processor' -Because 'a trigger that does not exist says no workflow, so every workflow''s nodes are offered'
    }

    It 'offers every workflow of the engine, found by id or by name, with its name' {
        $workflows = Complete 'Get-WorkflowInputNode -WorkflowId wf_'
        $workflows.CompletionText | Should -Contain 'wf_empty' -Because 'a workflow without triggers is still a workflow'
        ($workflows | Where-Object CompletionText -eq 'wf_bd11290f923b').ToolTip | Should -Be 'wf_bd11290f923b: Invoice intake'
        (Complete 'Get-WorkflowTrigger -WorkflowId invoice').CompletionText | Should -Be 'wf_bd11290f923b'
    }

    It 'completes -Name from trigger names, never from file names' {
        (Complete 'Get-WorkflowTrigger -Name Inv').CompletionText | Should -Be @("'Invoice changes'", "'Invoice PDFs'")
        (Complete 'Get-WorkflowTrigger -WorkflowId wf_multi -Name ').CompletionText | Should -Be "'Multi hook'"
        (Complete 'New-WorkflowTrigger -Name Brand').CompletionText | Should -Be 'Brand' -Because 'a new name is left as typed'
    }
}

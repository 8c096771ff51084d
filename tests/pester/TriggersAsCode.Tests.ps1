BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:db = Initialize-SuiteDatabase -RoutingGraph
}

AfterAll {
    Remove-SuiteDatabase $script:db
}

Describe 'Export-WorkflowTrigger and Import-WorkflowTrigger' {
    BeforeEach {
        Reset-RoutingTriggers $script:db 6
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
        $document.triggers[0].description = 'Inbox PDFs'
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
        $results[0].ChangedFields | Should -BeExactly @('Description', 'Config')
        $results[0].Changes[0].OldValue | Should -Be 'Inbox'
        $results[0].Applied | Should -BeTrue
        $bad.Count | Should -Be 1
        $bad[0].FullyQualifiedErrorId | Should -BeLike 'InvalidSource,*'
        "$($bad[0])" | Should -BeLike "$file`: entry 5 'Bad' (workflow wf_multi): Source*"
        $bad[0].TargetObject | Should -BeOfType ([WorkflowTriggers.TriggerFileEntry])
        $bad[0].TargetObject.Entry | Should -Be 5
        $bad[0].TargetObject.Path | Should -Be $file

        # Each error names its entry once, whatever rule the engine reports.
        $malformedFile = Join-Path $TestDrive 'malformed.json'
        Set-Content -Path $malformedFile -Value '{ "formatVersion": 1, "triggers": [ { "id": "seven", "name": "Bad id", "workflowId": "wf_multi", "source": "webhook-event-source", "eventType": "webhook_received" } ] }'
        Import-WorkflowTrigger -Path $malformedFile -ErrorVariable malformed -ErrorAction SilentlyContinue | Out-Null
        "$($malformed[0])" | Should -BeLike "*: entry 1 'Bad id' (workflow wf_multi): id must be a positive whole number.*"
        [regex]::Matches("$($malformed[0])", '(?i)\bentry\b').Count | Should -Be 1
        (Get-WorkflowTrigger -Id 1).Description | Should -Be 'Inbox PDFs'
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

Describe 'Triggers in git' {
    BeforeEach {
        Reset-RoutingTriggers $script:db 8
        Set-WorkflowTrigger -Id 1 -Config @{ interval_seconds = 60 } -Description 'Kept'
        Disable-WorkflowTrigger -Id 2
    }

    It 'validates every exported file against the JSON Schema it ships, and writes that schema beside the file' {
        $folder = Join-Path $TestDrive 'git'
        New-Item -ItemType Directory $folder -Force | Out-Null
        $file = Join-Path $folder 'prod.json'
        Export-WorkflowTrigger -Path $file
        $text = Get-Content -Raw $file
        ($text | ConvertFrom-Json).'$schema' | Should -Be 'workflow-triggers.schema.json'
        $schema = Get-Content -Raw (Join-Path $folder 'workflow-triggers.schema.json')
        $schema | Should -BeExactly (Get-Content -Raw (Join-Path (Split-Path $env:WT_MODULE_PATH) 'workflow-triggers.schema.json'))
        Test-Json -Json $text -Schema $schema | Should -BeTrue
        Test-Json -Json (Export-WorkflowTrigger -Id 1 | Out-String) -Schema $schema | Should -BeTrue
        # The schema catches what the import refuses, while one types.
        Test-Json -Json ($text -replace '"formatVersion": 1', '"formatVersion": 1, "priority": 5') -Schema $schema -ErrorAction SilentlyContinue | Should -BeFalse
    }

    It 'refuses a format version it does not know, unknown keys and repeated keys, naming entry, key and rule, and writes nothing' {
        $file = Join-Path $TestDrive 'future.json'
        Set-Content $file '{ "formatVersion": 2, "triggers": [] }'
        { Import-WorkflowTrigger -Path $file -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidTriggerFile,*' -ExpectedMessage '*formatVersion 2 is not a version this module knows*'

        $before = Export-WorkflowTrigger
        Set-Content $file @'
{ "formatVersion": 1, "triggers": [
  { "name": "Priority", "workflowId": "wf_multi", "source": "webhook-event-source", "eventType": "webhook_received", "priority": 5 },
  { "name": "Twice", "name": "Twice again", "workflowId": "wf_multi", "source": "webhook-event-source", "eventType": "webhook_received" }
] }
'@
        $results = Import-WorkflowTrigger -Path $file -ErrorVariable refused -ErrorAction SilentlyContinue
        $results | Should -BeNullOrEmpty
        Export-WorkflowTrigger | Should -Be $before
        $refused.FullyQualifiedErrorId | Should -Be @('UnknownKey,WorkflowTriggers.Commands.ImportWorkflowTriggerCommand', 'DuplicateKey,WorkflowTriggers.Commands.ImportWorkflowTriggerCommand')
        "$($refused[0])" | Should -BeLike "*entry 1 'Priority' (workflow wf_multi): `"priority`" is not a field of a trigger*"
        $refused[1].TargetObject.Entry | Should -Be 2
    }

    It 'treats entries as patches: what an entry leaves out keeps its value, null clears it' {
        $file = Join-Path $TestDrive 'patch.json'
        Set-Content $file '{ "formatVersion": 1, "triggers": [ { "name": "Trigger 1", "workflowId": "wf_multi" }, { "name": "Trigger 2", "workflowId": "wf_cycle", "isActive": true, "description": null } ] }'
        $results = Import-WorkflowTrigger -Path $file
        $results[0].Action | Should -Be 'Unchanged'
        $results[1].Action | Should -Be 'Updated'
        (Get-WorkflowTrigger -Id 1).Config.interval_seconds | Should -Be 60
        (Get-WorkflowTrigger -Id 1).Description | Should -Be 'Kept'
        (Get-WorkflowTrigger -Id 2).IsActive | Should -BeTrue
    }

    It 'shows each change with its old and new value, and -WhatIf | Format-List reads like a diff' {
        $file = Join-Path $TestDrive 'values.json'
        Set-Content $file '{ "formatVersion": 1, "triggers": [ { "name": "Trigger 1", "workflowId": "wf_multi", "config": { "interval_seconds": 90 } } ] }'
        $plan = Import-WorkflowTrigger -Path $file -WhatIf
        $plan.Changes.Field | Should -Be 'Config'
        $plan.Changes.OldValue | Should -Be '{"interval_seconds":60}'
        $plan.Changes.NewValue | Should -Be '{"interval_seconds":90}'
        "$($plan.Changes)" | Should -Be "Config: '{`"interval_seconds`":60}' -> '{`"interval_seconds`":90}'"
        $diff = $plan | Format-List | Out-String
        $diff | Should -BeLike '*- Config: {"interval_seconds":60}*'
        $diff | Should -BeLike '*+ Config: {"interval_seconds":90}*'
        (Get-WorkflowTrigger -Id 1).Config.interval_seconds | Should -Be 60
    }

    It 'never changes an unrelated trigger for an id from another database, unless -Force, and then names both' {
        $file = Join-Path $TestDrive 'foreign.json'
        Set-Content $file '{ "formatVersion": 1, "triggers": [ { "id": 3, "name": "bf-3", "workflowId": "wf_multi", "source": "webhook-event-source", "eventType": "webhook_received" } ] }'
        Import-WorkflowTrigger -Path $file -ErrorVariable conflict -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $conflict[0].FullyQualifiedErrorId | Should -BeLike 'TriggerIdentityConflict,*'
        (Get-WorkflowTrigger -Id 3).Name | Should -Be 'Trigger 3'
        $forced = Import-WorkflowTrigger -Path $file -Force -WhatIf
        $forced.DatabaseTrigger | Should -Be "trigger 3 'Trigger 3' (workflow wf_empty)"
    }

    It 'compares a file with the database: only in the file, only in the database, different; -Quiet for a Pester check' {
        $file = Join-Path $TestDrive 'compare.json'
        Export-WorkflowTrigger -Path $file
        Compare-WorkflowTrigger -Path $file -Quiet | Should -BeTrue
        Compare-WorkflowTrigger -Path $file | Should -BeNullOrEmpty

        Set-WorkflowTrigger -Id 1 -Description 'Changed by hand'
        New-WorkflowTrigger -Name 'Not in git' -WorkflowId wf_multi -Source webhook-event-source -EventType webhook_received | Out-Null
        $document = Get-Content -Raw $file | ConvertFrom-Json
        $document.triggers = @($document.triggers | Where-Object id -ne 4) + [pscustomobject]@{ name = 'Only in git'; workflowId = 'wf_multi'; source = 'webhook-event-source'; eventType = 'webhook_received' }
        $document | ConvertTo-Json -Depth 10 | Set-Content $file

        Compare-WorkflowTrigger -Path $file -Quiet | Should -BeFalse
        $differences = Compare-WorkflowTrigger -Path $file
        ($differences | Where-Object Status -eq Different).Changes | ForEach-Object { "$_" } | Should -Be "Description: 'Changed by hand' -> 'Kept'"
        ($differences | Where-Object Status -eq OnlyInFile).Name | Should -Be 'Only in git'
        ($differences | Where-Object Status -eq OnlyInDatabase).Name | Sort-Object | Should -Be @('Not in git', 'Trigger 4')
    }

    It 'prunes only the file''s workflows, by deleting or disabling, and nothing when an entry is refused' {
        $file = Join-Path $TestDrive 'prune.json'
        Export-WorkflowTrigger -WorkflowId wf_multi -Path $file    # wf_multi only: triggers of other workflows are out of scope
        New-WorkflowTrigger -Name 'Stray' -WorkflowId wf_multi -Source webhook-event-source -EventType webhook_received | Out-Null
        $plan = Import-WorkflowTrigger -Path $file -Prune -WhatIf
        ($plan | Where-Object Action -eq Deleted).Name | Should -Be 'Stray'
        (Get-WorkflowTrigger -Name Stray) | Should -Not -BeNullOrEmpty

        $disabled = Import-WorkflowTrigger -Path $file -Prune -PruneByDisabling
        ($disabled | Where-Object Action -eq Disabled).Name | Should -Be 'Stray'
        (Get-WorkflowTrigger -Name Stray).IsActive | Should -BeFalse
        $deleted = Import-WorkflowTrigger -Path $file -Prune
        ($deleted | Where-Object Action -eq Deleted).Name | Should -Be 'Stray'
        Get-WorkflowTrigger -Name Stray | Should -BeNullOrEmpty
        @(Get-WorkflowTrigger).Count | Should -Be 8

        New-WorkflowTrigger -Name 'Stray again' -WorkflowId wf_multi -Source webhook-event-source -EventType webhook_received | Out-Null
        $document = Get-Content -Raw $file | ConvertFrom-Json
        $document.triggers += [pscustomobject]@{ name = 'x'; workflowId = 'wf_multi'; source = 'webhook-event-source'; eventType = 'webhook_received' }
        $document | ConvertTo-Json -Depth 10 | Set-Content $file
        Import-WorkflowTrigger -Path $file -Prune -ErrorVariable skipped -ErrorAction SilentlyContinue | Out-Null
        $skipped.FullyQualifiedErrorId | Should -Contain 'PruneSkipped,WorkflowTriggers.Commands.ImportWorkflowTriggerCommand'
        Get-WorkflowTrigger -Name 'Stray again' | Should -Not -BeNullOrEmpty
    }

    It 'gives the result of one import when two processes import the same 2,000-entry file at once' {
        $file = Join-Path $TestDrive 'bulk.json'
        @{ formatVersion = 1; triggers = @(1..2000 | ForEach-Object { @{ name = "Bulk $_"; workflowId = 'wf_multi'; source = 'webhook-event-source'; eventType = 'webhook_received' } }) } |
            ConvertTo-Json -Depth 5 | Set-Content $file
        $run = { param($module, $db, $file) Import-Module $module; Import-WorkflowTrigger -ConnectionString $db -Path $file | Group-Object Action | ForEach-Object { "$($_.Name)=$($_.Count)" } }
        $shells = 1..2 | ForEach-Object { $s = [powershell]::Create(); $null = $s.AddScript($run).AddArgument($env:WT_MODULE_PATH).AddArgument($script:db).AddArgument($file); $s }
        try {
            $handles = $shells | ForEach-Object { $_.BeginInvoke() }
            $reports = for ($i = 0; $i -lt 2; $i++) { $shells[$i].EndInvoke($handles[$i]) -join ',' }
            $shells | ForEach-Object { $_.HadErrors | Should -BeFalse }
        }
        finally { $shells | ForEach-Object { $_.Dispose() } }
        Get-TestScalar $script:db "SELECT count(*) FROM workflow_triggers WHERE name LIKE 'Bulk %'" | Should -Be 2000
        $reports | Sort-Object | Should -Be @('Created=2000', 'Unchanged=2000')
        (Import-WorkflowTrigger -Path $file).Action | Sort-Object -Unique | Should -Be 'Unchanged'
    }

    It 'isolates a row the server refuses to its entry with RowRefused, and the other entries commit' {
        $file = Join-Path $TestDrive 'big.json'
        $random = [Random]::new(11)
        $blob = -join (1..6000 | ForEach-Object { [char]$random.Next(97, 123) })
        @{ formatVersion = 1; triggers = @(
                @{ name = 'Fits'; workflowId = 'wf_multi'; source = 'webhook-event-source'; eventType = 'webhook_received' }
                @{ name = 'Too big'; workflowId = 'wf_multi'; source = 'webhook-event-source'; eventType = 'webhook_received'; config = @{ blob = $blob } }
                @{ name = 'Fits too'; workflowId = 'wf_multi'; source = 'webhook-event-source'; eventType = 'webhook_received' }
            ) } | ConvertTo-Json -Depth 5 | Set-Content $file
        $results = Import-WorkflowTrigger -Path $file -ErrorVariable refused -ErrorAction SilentlyContinue
        $results.Name | Should -Be @('Fits', 'Fits too')
        $results.Applied | Should -Be @($true, $true)
        $refused.FullyQualifiedErrorId | Should -Be 'RowRefused,WorkflowTriggers.Commands.ImportWorkflowTriggerCommand'
        $refused[0].TargetObject.Name | Should -Be 'Too big'
        $refused[0].TargetObject.Entry | Should -Be 2
        "$($refused[0])" | Should -BeLike "*entry 2 'Too big' (workflow wf_multi) was not written: the server refused its row*"
        Get-WorkflowTrigger -Name 'Too big' | Should -BeNullOrEmpty
    }

    It 'loads from the pipeline: Import-Csv, with the same patch and identity rules' {
        $csv = Join-Path $TestDrive 'triggers.csv'
        @(
            [pscustomobject]@{ Name = 'Trigger 1'; WorkflowId = 'wf_multi'; Description = ''; IsActive = 'False'; Source = ''; EventType = '' }
            [pscustomobject]@{ Name = 'From CSV'; WorkflowId = 'wf_multi'; Description = 'Declared'; IsActive = 'True'; Source = 'webhook-event-source'; EventType = 'webhook_received' }
        ) | Export-Csv $csv
        $results = Import-Csv $csv | Import-WorkflowTrigger
        $results.Action | Should -Be @('Updated', 'Created')
        $one = Get-WorkflowTrigger -Id 1
        $one.IsActive | Should -BeFalse
        $one.Description | Should -BeNullOrEmpty
        $one.Config.interval_seconds | Should -Be 60
        (Get-WorkflowTrigger -Name 'From CSV').Description | Should -Be 'Declared'

        # Trigger objects round-trip too, and their read-only properties are not refused.
        (Get-WorkflowTrigger -Id 1, 2 | Import-WorkflowTrigger).Action | Should -Be @('Unchanged', 'Unchanged')
        [pscustomobject]@{ Name = 'Odd'; WorkflowId = 'wf_multi'; Colour = 'blue' } | Import-WorkflowTrigger -ErrorVariable odd -ErrorAction SilentlyContinue | Out-Null
        $odd[0].FullyQualifiedErrorId | Should -BeLike 'UnknownKey,*'
    }
}

Describe 'Export-WorkflowTrigger writes into what the user named' -Skip:$IsWindows {
    BeforeEach { Reset-RoutingTriggers $script:db 2 }

    It 'writes through a symbolic link to its target, keeps the file''s permissions, and an interrupted run keeps the old file' {
        $target = Join-Path $TestDrive 'real.json'
        $link = Join-Path $TestDrive 'link.json'
        Set-Content $target 'old'
        chmod 600 $target
        New-Item -ItemType SymbolicLink -Path $link -Target $target | Out-Null
        Export-WorkflowTrigger -Path $link
        (Get-Item $link).LinkType | Should -Be 'SymbolicLink'
        (Get-Content -Raw $target | ConvertFrom-Json).triggers.Count | Should -Be 2
        (Get-Item $target).UnixMode | Should -Be '-rw-------'
    }

    It 'refuses what is not a regular file and a missing folder with ExportFileNotWritten naming the given path' {
        # Special files of the test's own, never the system's: a named pipe, and (as root) a character device like /dev/null.
        $pipe = Join-Path $TestDrive 'pipe.json'
        mkfifo $pipe
        { Export-WorkflowTrigger -Path $pipe -ErrorAction Stop } | Should -Throw -ErrorId 'ExportFileNotWritten,*' -ExpectedMessage "*$pipe was not written: it is not a regular file (NamedPipe)*"
        (Get-Item $pipe).UnixStat.ItemType | Should -Be 'NamedPipe'
        if ((id -u) -eq '0') {
            $device = Join-Path $TestDrive 'null.json'
            mknod -m 666 $device c 1 3
            { Export-WorkflowTrigger -Path $device -ErrorAction Stop } | Should -Throw -ErrorId 'ExportFileNotWritten,*' -ExpectedMessage '*it is not a regular file (CharacterDevice)*'
            (Get-Item $device).UnixStat.ItemType | Should -Be 'CharacterDevice'
        }
        $missing = Join-Path $TestDrive 'no/such/folder/t.json'
        { Export-WorkflowTrigger -Path $missing -ErrorAction Stop } | Should -Throw -ErrorId 'ExportFileNotWritten,*' -ExpectedMessage "*$missing was not written: the folder*does not exist*"
        Get-ChildItem $TestDrive -Filter '*.tmp' -Recurse -Force | Should -BeNullOrEmpty
    }

    It 'does not replace a file with an empty document unless -Force' {
        $file = Join-Path $TestDrive 'keep.json'
        Export-WorkflowTrigger -Path $file
        $kept = Get-Content -Raw $file
        { @() | Export-WorkflowTrigger -Path $file -ErrorAction Stop } | Should -Throw -ErrorId 'ExportWouldEmptyFile,*'
        { Export-WorkflowTrigger -Path $file -Id 999 -ErrorAction Stop } | Should -Throw -ErrorId 'ExportWouldEmptyFile,*'
        Get-Content -Raw $file | Should -BeExactly $kept
        Export-WorkflowTrigger -Path $file -Id 999 -Force
        (Get-Content -Raw $file | ConvertFrom-Json).triggers.Count | Should -Be 0
    }
}

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
        $results[0].ChangedFields | Should -BeExactly @('Name', 'Config')
        $results[0].Applied | Should -BeTrue
        $bad.Count | Should -Be 1
        $bad[0].FullyQualifiedErrorId | Should -BeLike 'InvalidSource,*'
        "$($bad[0])" | Should -BeLike "entry 5 'Bad'*"

        # Each error names its entry once, whatever rule the engine reports.
        $malformedFile = Join-Path $TestDrive 'malformed.json'
        Set-Content -Path $malformedFile -Value '{ "triggers": [ { "id": "seven", "name": "Bad id", "workflowId": "wf_multi", "source": "webhook-event-source", "eventType": "webhook_received" } ] }'
        Import-WorkflowTrigger -Path $malformedFile -ErrorVariable malformed -ErrorAction SilentlyContinue | Out-Null
        "$($malformed[0])" | Should -BeLike "entry 1 'Bad id': id must be a positive whole number.*"
        [regex]::Matches("$($malformed[0])", '(?i)\bentry\b').Count | Should -Be 1
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

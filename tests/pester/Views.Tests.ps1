BeforeDiscovery {
    # Every table view of the module, each with the command that shows it and the properties whose values must be whole
    # at 80 columns and, on top of those, at 120.
    $script:Cases = @(
        @{ Type = 'WorkflowTrigger'; Command = 'Get-WorkflowTrigger'; At80 = 'Id', 'Name', 'WorkflowId', 'TargetNodeId', 'IsActive'; At120 = 'EventType' }
        @{ Type = 'TriggerDatabase'; Command = 'Connect-TriggerDatabase -ConnectionString $ConnectionString -PassThru'; At80 = 'Host', 'Port', 'Database', 'Username', 'Schema'; At120 = 'ServerVersion' }
        @{ Type = 'SchemaStepResult'; Command = 'Install-TriggerSchema'; At80 = 'Action', 'Version', 'Name'; At120 = @() }
        @{ Type = 'InputNode'; Command = 'Get-WorkflowInputNode -WorkflowId wf_bd11290f923b, wf_3c9a01d4e7f2, wf_77e0b2c4a915'; At80 = 'WorkflowId', 'Ordinal', 'NodeId', 'NodeType', 'IsFirst'; At120 = 'Name' }
        @{ Type = 'TriggerRoute'; Command = 'Test-WorkflowTrigger -Source pdf-monitor-event-source -EventType pdf_file_added'; At80 = 'Id', 'Name', 'WorkflowId', 'NodeId', 'WillRoute'; At120 = 'RoutingType', 'Reason' }
        @{ Type = 'BackfillPlanEntry'; Command = 'Invoke-TriggerBackfill -WhatIf 6>$null'; At80 = 'WorkflowId', 'TriggerCount', 'NodeId', 'Action'; At120 = @() }
        @{ Type = 'TriggerImportResult'; Command = 'Import-WorkflowTrigger -Path $File -WhatIf 6>$null'; At80 = 'Entry', 'Action', 'Id', 'Name', 'Applied', 'ChangedFields'; At120 = 'WorkflowId' }
        @{ Type = 'TriggerDifference'; Command = 'Compare-WorkflowTrigger -Path $File'; At80 = 'Status', 'Entry', 'Id', 'Name', 'Changes'; At120 = 'WorkflowId' }
        @{ Type = 'TriggerIndexHealth'; Command = 'Get-TriggerIndexHealth -WarningAction SilentlyContinue'; At80 = 'Name', 'UsageStatus', 'Size', 'Scans', 'IsValid'; At120 = 'Note' }
        @{ Type = 'IndexMaintenanceResult'; Command = 'Invoke-TriggerIndexMaintenance -Analyze'; At80 = 'Name', 'Action'; At120 = @() }
        @{ Type = 'TriggerUsage'; Command = 'Get-TriggerUsage'; At80 = 'Source', 'EventType', 'TriggerCount', 'ActiveCount'; At120 = @() }
        @{ Type = 'TriggerStatistic'; Command = 'Get-TriggerStatistic -By Source'; At80 = 'By', 'Value', 'Count'; At120 = @() }
        @{ Type = 'TriggerMetric'; Command = 'Get-TriggerMetric'; At80 = 'Source', 'EventType', 'TriggerCount'; At120 = 'ActiveCount' }
        @{ Type = 'NodeTargetingStat'; Command = 'Get-NodeTargetingStat'; At80 = 'RoutingType', 'Count'; At120 = @() }
        @{ Type = 'TriggerExecutionStat'; Command = 'Get-TriggerExecutionStat'; At80 = 'Id', 'Name', 'ExecutionCount', 'WorkflowId'; At120 = 'TargetNodeId' }
        @{ Type = 'TriggerHealthCheck'; Command = 'Test-TriggerHealth -Detailed'; At80 = 'Status', 'Name'; At120 = @() }
        @{ Type = 'TriggerHistoryEntry'; Command = 'Get-TriggerHistory -Operation Update'; At80 = 'Operation', 'Id', 'Name', 'ChangedFields'; At120 = 'User', 'Reason' }
    )
}

Describe 'Table views on an 80- and a 120-column console' -ForEach @(@{ Cases = $Cases }) {
    BeforeAll {
        Import-Module $env:WT_MODULE_PATH -Force
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $script:db = New-TestDatabase
        # The demo's workflows, nodes and triggers: values as long as the ones operators see.
        Invoke-TestSql $script:db ((Get-Content -Raw (Join-Path $PSScriptRoot '../sql/engine-tables.sql')) + @'
INSERT INTO workflows VALUES ('wf_bd11290f923b', 'Invoice intake'), ('wf_3c9a01d4e7f2', 'Document updates'), ('wf_77e0b2c4a915', 'Search queries');
INSERT INTO workflow_nodes (workflow_id, node_id, node_type, name) VALUES
  ('wf_bd11290f923b', 'pdf_input_validator', 'input', 'PDF input validator'),
  ('wf_3c9a01d4e7f2', 'update_input_validator', 'input', 'Update input validator'),
  ('wf_77e0b2c4a915', 'query_input_processor', 'input', 'Query input processor');
'@)
        Install-TriggerSchema -ConnectionString $script:db | Out-Null
        Connect-TriggerDatabase -ConnectionString $script:db
        Enable-TriggerHistory | Out-Null
        @(
            @{ Name = 'Invoice PDF changes'; WorkflowId = 'wf_bd11290f923b'; Source = 'pdf-monitor-event-source'; EventType = 'pdf_file_added'; TargetNodeId = 'pdf_input_validator' }
            @{ Name = 'New documents'; WorkflowId = 'wf_3c9a01d4e7f2'; Source = 'document-monitor-event-source'; EventType = 'document_file_added'; TargetNodeId = 'update_input_validator' }
            @{ Name = 'Search webhook'; WorkflowId = 'wf_77e0b2c4a915'; Source = 'webhook-event-source'; EventType = 'webhook_received'; TargetNodeId = 'query_input_processor' }
            @{ Name = 'Search poll'; WorkflowId = 'wf_77e0b2c4a915'; Source = 'search-api-source'; EventType = 'interval_trigger'; Config = '{"interval_seconds": 300}' }
        ) | ForEach-Object { New-WorkflowTrigger @_ } | Out-Null
        Get-WorkflowTrigger -Name 'Search webhook' | Disable-WorkflowTrigger -Reason 'CHG-2041 API migration'
        $script:file = Join-Path $TestDrive 'triggers.json'
        Export-WorkflowTrigger -Path $script:file
        (Get-Content -Raw $script:file) -replace '"interval_seconds": 300', '"interval_seconds": 60' | Set-Content $script:file

        # Each width in a console pwsh of its own on a terminal of that size (script(1) gives it one), which prints every
        # case's objects through the console host and saves the values the test looks for.
        $script:Rendered = @{}
        $script:Values = @{}
        $script:HasTerminal = [bool](Get-Command script -ErrorAction SilentlyContinue)
        if (-not $script:HasTerminal) { return }
        $childScript = Join-Path $TestDrive 'render.ps1'
        @'
param([string] $ModulePath, [string] $ConnectionString, [string] $File, [string] $CasesPath, [string] $ValuesPath)
$PSStyle.OutputRendering = 'PlainText'
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePath
Connect-TriggerDatabase -ConnectionString $ConnectionString
# A value as its view shows it: lists of fields joined by commas.
function Format-Value($value) {
    if ($value -is [Array]) { return (@($value | ForEach-Object { if ($_.PSObject.Properties['Field']) { $_.Field } else { $_ } }) -join ', ') }
    "$value"
}
$values = [ordered]@{}
foreach ($case in (Get-Content -Raw $CasesPath | ConvertFrom-Json)) {
    $objects = @(Invoke-Expression $case.Command)
    Write-Host "### $($case.Type)"
    $objects | Out-Host
    $values[$case.Type] = @($objects | ForEach-Object { $object = $_; $row = [ordered]@{}; foreach ($name in @($case.At80) + @($case.At120)) { $row[$name] = Format-Value $object.$name }; $row })
}
Write-Host '### end'
$values | ConvertTo-Json -Depth 4 | Set-Content $ValuesPath
'@ | Set-Content $childScript
        $casesPath = Join-Path $TestDrive 'cases.json'
        $Cases | ConvertTo-Json -Depth 3 | Set-Content $casesPath
        foreach ($width in 80, 120) {
            $transcript = Join-Path $TestDrive "render-$width.out"
            $valuesPath = Join-Path $TestDrive "values-$width.json"
            $command = "stty cols $width rows 60; '$([Environment]::ProcessPath)' '$(Join-Path $PSHOME 'pwsh.dll')' -NoProfile -File '$childScript' '$env:WT_MODULE_PATH' '$script:db' '$script:file' '$casesPath' '$valuesPath'"
            & script -qec $command $transcript | Out-Null
            if ($LASTEXITCODE -ne 0) { throw "The console at $width columns failed: $(Get-Content -Raw $transcript)" }
            $script:Rendered[$width] = (Get-Content -Raw $transcript) -replace "\e\[[0-9;?]*[A-Za-z]", '' -replace "\e[=>]", '' -replace "`r", ''
            $script:Values[$width] = Get-Content -Raw $valuesPath | ConvertFrom-Json -AsHashtable
        }

        # The lines a case printed: from its marker to the next one, without blank lines and the next case's -WhatIf messages.
        function Get-Block([int] $Width, [string] $Type) {
            $lines = $script:Rendered[$Width] -split "`n"
            $start = [Array]::IndexOf($lines, "### $Type")
            $start | Should -BeGreaterOrEqual 0 -Because "the console printed the $Type case"
            $block = foreach ($line in $lines[($start + 1)..($lines.Count - 1)]) { if ($line -like '### *') { break }; if ($line.Trim() -and $line -notlike 'What if:*') { $line } }
            @($block)
        }
    }

    AfterAll {
        Disconnect-TriggerDatabase
        Remove-TestDatabase $script:db
    }

    It 'has a case for every table view of the module' {
        $format = [xml](Get-Content -Raw (Join-Path (Split-Path $env:WT_MODULE_PATH) 'WorkflowTriggers.Format.ps1xml'))
        $tableViews = @($format.Configuration.ViewDefinitions.View | Where-Object { $_.TableControl } | ForEach-Object { $_.ViewSelectedBy.TypeName -replace '^WorkflowTriggers\.' })
        @($Cases.Type) | Sort-Object | Should -Be ($tableViews | Sort-Object)
    }

    It 'shows <Type> at <Width> columns with every key value whole, and every header it shows whole' -ForEach @(
        foreach ($case in $Cases) { foreach ($width in 80, 120) { @{ Type = $case.Type; Width = $width; Keys = @($case.At80) + $(if ($width -eq 120) { @($case.At120) } else { @() }) } } }
    ) {
        if (-not $script:HasTerminal) { Set-ItResult -Skipped -Because 'script(1) is not installed'; return }
        $block = Get-Block $Width $Type
        $rows = @($script:Values[$Width][$Type])
        $rows.Count | Should -BeGreaterThan 0 -Because "the data gives the $Type view something to show"
        foreach ($line in $block) { $line.TrimEnd().Length | Should -BeLessOrEqual ($Width - 1) -Because "'$line' fits a $Width-column console" }
        # The header is the line above the first line of dashes: each of its words a property name, none cut or wrapped.
        $rule = [Array]::FindIndex([string[]] $block, [Predicate[string]] { param($line) $line -match '^\s*-+(\s+-+)*\s*$' })
        $rule | Should -Be 1 -Because "the $Type header is one line: $($block -join "`n")"
        $headers = $block[0] -split '\s+' | Where-Object { $_ }
        @($headers).Count | Should -Be @($block[1] -split '\s+' | Where-Object { $_ }).Count
        $properties = ("WorkflowTriggers.$Type" -as [type]).GetProperties().Name
        foreach ($header in $headers) { $properties | Should -Contain $header -Because "'$header' is a whole header of $Type" }
        foreach ($key in $Keys) { $headers | Should -Contain $key -Because "$Type shows $key at $Width columns" }
        $data = @($block | Select-Object -Skip 2)
        if ($Type -eq 'TriggerHealthCheck') {
            # Checks wrap their detail instead of cutting it: each check starts a line, nothing ends in an ellipsis.
            $data -join "`n" | Should -Not -Match '…'
            $data = @($data | Where-Object { $_ -match '^\S' })
        }
        $data.Count | Should -Be $rows.Count
        for ($i = 0; $i -lt $rows.Count; $i++) {
            foreach ($key in $Keys) {
                $value = $rows[$i][$key]
                if ($value) { $data[$i] | Should -Match "(^|\s)$([regex]::Escape($value))(\s|$)" -Because "row $i of $Type shows $key '$value' whole at $Width columns" }
            }
        }
    }
}

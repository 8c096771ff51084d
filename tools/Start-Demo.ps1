#requires -Version 7.4
<#
.SYNOPSIS
    The tour that build.ps1 Demo runs: installs the schema in an empty database, loads sample data, and uses
    the cmdlets the way an operator would.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ConnectionString
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$testServer = Join-Path $PSScriptRoot '../tests/WorkflowTriggers.TestServer/bin/Release/net10.0/WorkflowTriggers.TestServer.dll'

function Step([string] $Text) { Write-Host ''; Write-Host "== $Text" -ForegroundColor Cyan }
function Show([scriptblock] $Command) {
    Write-Host "PS> $($Command.ToString().Trim())" -ForegroundColor DarkGray
    & $Command | Out-String -Width 160 | Write-Host
}

Step 'The engine''s own tables: workflows with their node graphs'
(Get-Content -Raw (Join-Path $PSScriptRoot '../tests/sql/engine-tables.sql')) + @'
INSERT INTO workflows VALUES ('wf_bd11290f923b', 'Invoice intake'), ('wf_3c9a01d4e7f2', 'Document updates'), ('wf_77e0b2c4a915', 'Search queries');
INSERT INTO workflow_nodes (workflow_id, node_id, node_type, name) VALUES
  ('wf_bd11290f923b', 'pdf_input_validator', 'input', 'PDF input validator'),
  ('wf_bd11290f923b', 'invoice_extractor', 'process', 'Invoice extractor'),
  ('wf_3c9a01d4e7f2', 'update_input_validator', 'input', 'Update input validator'),
  ('wf_3c9a01d4e7f2', 'document_indexer', 'process', 'Document indexer'),
  ('wf_77e0b2c4a915', 'query_input_processor', 'input', 'Query input processor');
INSERT INTO workflow_connections (workflow_id, from_node_id, to_node_id) VALUES
  ('wf_bd11290f923b', 'pdf_input_validator', 'invoice_extractor'),
  ('wf_3c9a01d4e7f2', 'update_input_validator', 'document_indexer');
'@ | & dotnet $testServer sql --connection $ConnectionString
Write-Host 'workflows, workflow_nodes, workflow_connections created with 3 workflows and 5 nodes.'

Step 'Connect and install the schema'
Show { Connect-TriggerDatabase -ConnectionString $ConnectionString -PassThru }
Show { Install-TriggerSchema -WhatIf }
Show { Install-TriggerSchema }
Show { Get-TriggerSchema }

Step 'Create triggers: one by one, and a batch from objects'
Show {
    New-WorkflowTrigger -Name 'Invoice PDFs' -WorkflowId wf_bd11290f923b -Source pdf-monitor-event-source `
        -EventType pdf_file_added -TargetNodeId pdf_input_validator `
        -Config @{ monitor_path = '/data/inbox'; recursive = $true; file_extensions = @('.pdf') }
}
Show {
    @(
        [pscustomobject]@{ Name = 'Invoice PDF changes'; WorkflowId = 'wf_bd11290f923b'; Source = 'pdf-monitor-event-source'; EventType = 'pdf_file_modified'; Config = '{"filename_pattern": "^invoice_.*\\.pdf$", "min_size_kb": 10}' }
        [pscustomobject]@{ Name = 'New documents'; WorkflowId = 'wf_3c9a01d4e7f2'; Source = 'document-monitor-event-source'; EventType = 'document_file_added' }
        [pscustomobject]@{ Name = 'Nightly reindex'; WorkflowId = 'wf_3c9a01d4e7f2'; Source = 'scheduler-event-source'; EventType = 'cron_trigger'; Config = '{"schedule": "0 2 * * *"}' }
        [pscustomobject]@{ Name = 'Search webhook'; WorkflowId = 'wf_77e0b2c4a915'; Source = 'webhook-event-source'; EventType = 'webhook_received' }
        [pscustomobject]@{ Name = 'Search poll'; WorkflowId = 'wf_77e0b2c4a915'; Source = 'search-api-source'; EventType = 'interval_trigger'; Config = '{"interval_seconds": 300}' }
    ) | New-WorkflowTrigger
}

Step 'Bad input is refused before anything is written'
Show { New-WorkflowTrigger -Name 'Bad one' -WorkflowId wf_bd11290f923b -Source 'PDF_Source' -EventType pdf_file_added -ErrorAction Continue 2>&1 | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" } }
Show { New-WorkflowTrigger -Name 'Unknown workflow' -WorkflowId wf_000000000000 -Source webhook-event-source -EventType webhook_received -ErrorAction Continue 2>&1 | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" } }

Step 'Query: filters, config objects, routing'
Show { Get-WorkflowTrigger -Source pdf-monitor-event-source -IsActive $true }
Show { (Get-WorkflowTrigger -Name 'Invoice PDFs').Config.monitor_path }
Show { Get-WorkflowTrigger -Untargeted | Select-Object Id, Name, WorkflowName, RoutingType }

Step 'Route the untargeted document triggers to their input node, switch one off'
Show { Get-WorkflowTrigger -WorkflowId wf_3c9a01d4e7f2 -Untargeted | Set-TriggerTargetNode -NodeId update_input_validator -PassThru }
Show { Set-TriggerTargetNode -Id 1 -NodeId query_input_processor -ErrorAction Continue 2>&1 | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" } }
Show { Get-WorkflowTrigger -Name 'Search poll' | Disable-WorkflowTrigger -PassThru }
Show { Get-WorkflowTrigger -Name 'Search webhook' | Remove-WorkflowTrigger -WhatIf }

Step 'Would an event fire, and where would it land? Then backfill the rest'
Show { Get-WorkflowInputNode -WorkflowId wf_bd11290f923b, wf_77e0b2c4a915 }
Show { Test-WorkflowTrigger -Source pdf-monitor-event-source -EventType pdf_file_modified }
Show { Invoke-TriggerBackfill -WhatIf }
Show { Invoke-TriggerBackfill }

Step 'A legacy orphan (from before the foreign key): health fails, clean-up, health passes'
'ALTER TABLE workflow_triggers DROP CONSTRAINT fk_workflow_triggers_workflow_id;
INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES (''Retired workflow'', ''wf_0123456789ab'', ''webhook-event-source'', ''webhook_received'');
ANALYZE workflow_triggers;' | & dotnet $testServer sql --connection $ConnectionString
Show { Get-TriggerHealth }
Show { Get-OrphanTrigger | Remove-OrphanTrigger -Delete -Force }
Show { Install-TriggerSchema | Out-Null; Test-TriggerHealth -Detailed }

Step 'Indexes: what the document''s schema gets wrong, and maintenance'
Show { Get-TriggerIndexHealth -WarningAction SilentlyContinue }
Show { (Get-TriggerIndexHealth -WarningAction SilentlyContinue | Where-Object Name -eq idx_workflow_triggers_event_lookup).Recommendation }
Show { Invoke-TriggerIndexMaintenance -Index idx_workflow_triggers_composite, idx_workflow_triggers_target_node }

Step 'Usage and metrics'
Show { Get-TriggerUsage }
Show { Get-TriggerStatistic -By Workflow }
Show { Get-NodeTargetingStat }

Step 'Triggers as code: export, change the file, compare, import'
$folder = Join-Path ([IO.Path]::GetTempPath()) "wt-demo-$PID"
New-Item -ItemType Directory -Path $folder -Force | Out-Null
$file = Join-Path $folder 'triggers.json'
Show { Export-WorkflowTrigger -WorkflowId wf_77e0b2c4a915 }
Export-WorkflowTrigger -Path $file
(Get-Content -Raw $file) -replace '"interval_seconds": 300', '"interval_seconds": 60' | Set-Content $file
Show { Compare-WorkflowTrigger -Path $file | Format-List }
Show { Import-WorkflowTrigger -Path $file -WhatIf -WarningAction SilentlyContinue 6>$null }
Show { Import-WorkflowTrigger -Path $file }
Show { Compare-WorkflowTrigger -Path $file -Quiet }
Remove-Item $folder -Recurse

Disconnect-TriggerDatabase
Write-Host ''
Write-Host 'Demo complete.' -ForegroundColor Green

@{
    # ModuleVersion is stamped by build.ps1 from Directory.Build.props (VersionPrefix): the one place it lives.
    RootModule           = 'WorkflowTriggers.dll'
    # Imported before the root module: sets up the load context the cmdlets' engine dependency resolves through.
    NestedModules        = @('WorkflowTriggers.LoadContext.dll')
    ModuleVersion        = '0.0.0'
    GUID                 = '7d3c1c52-6a43-4f0e-9b8e-3f4d2a1b9c61'
    Author               = 'WorkflowTriggers contributors'
    Copyright            = '(c) 2026 WorkflowTriggers contributors. MIT License.'
    Description          = 'Manage the event triggers of a workflow engine stored in PostgreSQL: schema, triggers, routing to input nodes, repair, health and metrics.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('WorkflowTriggers.Format.ps1xml')
    CmdletsToExport      = @(
        'Connect-TriggerDatabase'
        'Disconnect-TriggerDatabase'
        'Install-TriggerSchema'
        'Get-TriggerSchema'
        'Get-WorkflowTrigger'
        'New-WorkflowTrigger'
        'Set-WorkflowTrigger'
        'Set-TriggerTargetNode'
        'Enable-WorkflowTrigger'
        'Disable-WorkflowTrigger'
        'Remove-WorkflowTrigger'
        'Get-WorkflowInputNode'
        'Invoke-TriggerBackfill'
        'Test-WorkflowTrigger'
        'Get-OrphanTrigger'
        'Remove-OrphanTrigger'
        'Export-WorkflowTrigger'
        'Import-WorkflowTrigger'
        'Compare-WorkflowTrigger'
        'Get-TriggerIndexHealth'
        'Invoke-TriggerIndexMaintenance'
        'Get-TriggerUsage'
        'Get-TriggerStatistic'
        'Get-TriggerMetric'
        'Get-NodeTargetingStat'
        'Get-TriggerExecutionStat'
        'Get-TriggerHealth'
        'Test-TriggerHealth'
        'Enable-TriggerHistory'
        'Disable-TriggerHistory'
        'Get-TriggerHistory'
        'Clear-TriggerHistory'
        'Restore-WorkflowTrigger'
        'Unlock-TriggerBackfill'
        'Install-TriggerRole'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('PostgreSQL', 'Workflow', 'Triggers', 'Npgsql', 'PSEdition_Core', 'Linux', 'Windows')
            # build.ps1 copies this version's section of CHANGELOG.md here.
            ReleaseNotes = ''
        }
    }
}

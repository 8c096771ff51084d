BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
}

Describe 'The built module' {
    It 'exports every cmdlet of the manifest, each with help: a synopsis and at least one example' {
        $commands = Get-Command -Module WorkflowTriggers
        $commands.Count | Should -Be 35
        foreach ($command in $commands) {
            $help = Get-Help $command.Name -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty -Because "$($command.Name) needs a synopsis"
            $help.Synopsis | Should -Not -BeLike "$($command.Name)*" -Because "$($command.Name) must not fall back to its syntax line"
            @($help.examples.example).Count | Should -BeGreaterThan 0 -Because "$($command.Name) needs an example"
        }
    }

    It 'gives every cmdlet complete help: typed syntax, pipeline input, output types, defaults and related links' {
        foreach ($command in Get-Command -Module WorkflowTriggers) {
            $help = Get-Help $command.Name -Full
            $text = $help | Out-String -Width 250
            $text | Should -Not -Match 'Nullable' -Because "$($command.Name) shows [Nullable[T]] as T"
            @($help.inputTypes.inputType).Count | Should -BeGreaterThan 0 -Because "$($command.Name) says what it takes from the pipeline"
            $piped = @($command.Parameters.Values | Where-Object { $_.Attributes.ValueFromPipeline -contains $true -or $_.Attributes.ValueFromPipelineByPropertyName -contains $true })
            $inputs = ($help.inputTypes.inputType | ForEach-Object { $_.description.Text }) -join ' '
            foreach ($parameter in $piped) { $inputs | Should -Match "-$($parameter.Name) \(by" -Because "$($command.Name) binds -$($parameter.Name) from the pipeline" }
            if (-not $piped) { $help.inputTypes.inputType.type.name | Should -Be 'None' }
            @($help.returnValues.returnValue.type.name) | Should -Be @($command.OutputType | ForEach-Object { $_.Type.FullName })
            $links = @($help.relatedLinks.navigationLink.linkText)
            $links | Should -Contain 'about_WorkflowTriggers'
            foreach ($link in $links) { ($link -like 'about_*' -or (Get-Command $link -Module WorkflowTriggers -ErrorAction SilentlyContinue)) | Should -BeTrue -Because "$($command.Name) links to $link" }
            # Each parameter's default is the value a new cmdlet holds.
            $instance = [Activator]::CreateInstance($command.ImplementingType)
            foreach ($parameter in $help.parameters.parameter) {
                $property = $command.ImplementingType.GetProperty($parameter.name)
                $value = if ($property) { $property.GetValue($instance) }
                if ($value -is [int] -and $value -ne 0) { $parameter.defaultValue | Should -Be ([string]$value) -Because "-$($parameter.name) of $($command.Name) defaults to $value" }
            }
        }
        (Get-Help Get-TriggerExecutionStat -Parameter Days).defaultValue | Should -Be '30'
        (Get-Help Get-WorkflowTrigger).syntax | Out-String -Width 250 | Should -Match '\[-IsActive <Boolean>\]'
    }

    It 'fails the help build when a help file documents a parameter the cmdlet no longer has, as when one is undocumented' {
        $helpSource = Join-Path $TestDrive 'help'
        Copy-Item (Join-Path $PSScriptRoot '../../help') $helpSource -Recurse
        $generator = Join-Path $PSScriptRoot '../../tools/New-MamlHelp.ps1'
        $build = { & ([Environment]::ProcessPath) (Join-Path $PSHOME 'pwsh.dll') -NoProfile -File $generator -ModulePath $env:WT_MODULE_PATH -HelpSource $helpSource -OutputPath (Join-Path $TestDrive 'out/help.xml') 2>&1 | Out-String }
        & $build | Out-Null
        $LASTEXITCODE | Should -Be 0 -Because 'the help as it ships builds'
        $file = Join-Path $helpSource 'Get-TriggerUsage.md'
        (Get-Content -Raw $file) + "`n### -Retired`nA parameter the cmdlet lost.`n" | Set-Content $file
        $output = & $build
        $LASTEXITCODE | Should -Not -Be 0
        $output | Should -Match 'Get-TriggerUsage: documents -Retired, which the cmdlet does not have'
        $file = Join-Path $helpSource 'Get-TriggerExecutionStat.md'
        (Get-Content -Raw $file) -replace '\(default 30\)', '(default 7)' | Set-Content $file
        $output = & $build
        $output | Should -Match "Get-TriggerExecutionStat: -Days says default 7, but its default is '30'"
    }

    It 'has examples (help and README) that are valid PowerShell' {
        $blocks = [System.Collections.Generic.List[string]]::new()
        foreach ($command in Get-Command -Module WorkflowTriggers) {
            (Get-Help $command.Name -Examples).examples.example | ForEach-Object { $blocks.Add($_.code) }
        }
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../../README.md')
        [regex]::Matches($readme, '(?s)```powershell\r?\n(.*?)```') | ForEach-Object { $blocks.Add($_.Groups[1].Value) }
        $blocks.Count | Should -BeGreaterThan 20
        foreach ($block in $blocks) {
            $errors = $null
            [System.Management.Automation.Language.Parser]::ParseInput($block, [ref] $null, [ref] $errors) | Out-Null
            $errors | Should -BeNullOrEmpty -Because $block
        }
    }

    It 'installs from a local PSResourceGet repository and updates side by side by version, in a scratch home' {
        $scratchHome = Join-Path $TestDrive 'home'
        $repository = Join-Path $TestDrive 'repository'
        New-Item -ItemType Directory $scratchHome, $repository | Out-Null
        $built = Split-Path $env:WT_MODULE_PATH
        $version = [version](Import-PowerShellDataFile $env:WT_MODULE_PATH).ModuleVersion
        $nextVersion = '{0}.{1}.{2}' -f $version.Major, $version.Minor, ($version.Build + 1)
        # The next release: the same module, its manifest one patch version up.
        $next = Join-Path $TestDrive 'next/WorkflowTriggers'
        New-Item -ItemType Directory (Split-Path $next) | Out-Null
        Copy-Item -Recurse $built $next
        (Get-Content -Raw "$next/WorkflowTriggers.psd1") -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion = '$nextVersion'" | Set-Content "$next/WorkflowTriggers.psd1"
        $script = Join-Path $TestDrive 'install.ps1'
        @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name WorkflowTriggersLocal -Uri '$repository' -Trusted
Publish-PSResource -Path '$built' -Repository WorkflowTriggersLocal
Install-PSResource WorkflowTriggers -Repository WorkflowTriggersLocal -Scope CurrentUser
'first=' + (Get-Module -ListAvailable WorkflowTriggers).Version.ToString()
Publish-PSResource -Path '$next' -Repository WorkflowTriggersLocal
Update-PSResource WorkflowTriggers -Repository WorkflowTriggersLocal -Scope CurrentUser
'installed=' + (((Get-Module -ListAvailable WorkflowTriggers).Version | Sort-Object | ForEach-Object ToString) -join ',')
'imported=' + (Import-Module WorkflowTriggers -PassThru).Version.ToString()
'works=' + ((Get-Command Compare-WorkflowTrigger).Module.Version.ToString())
"@ | Set-Content $script
        # A home of its own: the user's own modules and repositories are not touched.
        $start = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
        foreach ($arg in @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', $script)) { $start.ArgumentList.Add($arg) }
        $start.Environment['HOME'] = $scratchHome
        $start.Environment['XDG_DATA_HOME'] = Join-Path $scratchHome '.local/share'
        $start.Environment['XDG_CONFIG_HOME'] = Join-Path $scratchHome '.config'
        $start.Environment['XDG_CACHE_HOME'] = Join-Path $scratchHome '.cache'
        $start.Environment.Remove('PSModulePath') | Out-Null
        # Anything a tool writes relative to where it runs lands in the scratch home too, never in the repository.
        $start.WorkingDirectory = $scratchHome
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $child = [System.Diagnostics.Process]::Start($start)
        $output = $child.StandardOutput.ReadToEnd() + $child.StandardError.ReadToEnd()
        $child.WaitForExit()
        $child.ExitCode | Should -Be 0 -Because $output
        $output | Should -Match "first=$([regex]::Escape("$version"))"
        $output | Should -Match "installed=$([regex]::Escape("$version")),$([regex]::Escape($nextVersion))"
        $output | Should -Match "imported=$([regex]::Escape($nextVersion))"
        Get-ChildItem $repository -Filter *.nupkg | ForEach-Object Name | Sort-Object | Should -Be @("WorkflowTriggers.$version.nupkg", "WorkflowTriggers.$nextVersion.nupkg")
        Test-Path (Join-Path $scratchHome ".local/share/powershell/Modules/WorkflowTriggers/$version/LICENSE") | Should -BeTrue
    }

    It 'has about_WorkflowTriggers with every concept, found by Get-Help like cmdlet help' {
        $about = Get-Help about_WorkflowTriggers | Out-String
        foreach ($concept in 'CONNECTION RESOLUTION', 'BATCHING AND TRANSACTIONS', 'CONCURRENCY', 'ROUTING RULE', 'SCHEMA VERSIONS', 'POOLERS AND STANDBYS', 'CHANGE HISTORY', 'HELP') {
            $about | Should -Match $concept
        }
        (Get-Help about_WorkflowTriggers_Errors | Out-String) | Should -Match 'SessionRequired \(InvalidOperation\)'
    }

    It 'has no online or updatable help, and Get-Help and Update-Help say so as about_WorkflowTriggers documents' {
        (Get-Module WorkflowTriggers).HelpInfoUri | Should -BeNullOrEmpty
        { Get-Help Get-WorkflowTrigger -Online -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidOperation,Microsoft.PowerShell.Commands.GetHelpCommand'
        { Update-Help -Module WorkflowTriggers -UICulture en-US -ErrorAction Stop } | Should -Throw -ErrorId 'HelpInfoUriNotFound,Microsoft.PowerShell.Commands.UpdateHelpCommand'
        Get-Help about_WorkflowTriggers | Out-String | Should -Match 'no online help\s+and no updatable help'
    }

    It 'documents every error id the module reports in about_WorkflowTriggers_Errors, and no other' {
        $topic = Get-Content -Raw (Join-Path (Split-Path $env:WT_MODULE_PATH) 'en-US/about_WorkflowTriggers_Errors.help.txt')
        $documented = [regex]::Matches($topic, '(?m)^    ((?:[A-Z][A-Za-z]+)(?:,\s*[A-Z][A-Za-z]+)*) \(([A-Za-z]+)\)$') |
            ForEach-Object { $_.Groups[1].Value -split ',\s*' } | Sort-Object -Unique
        $source = (Get-ChildItem (Join-Path $PSScriptRoot '../../src') -Recurse -Filter *.cs | Get-Content -Raw) -join "`n"
        $reported = @(
            [regex]::Matches($source, '"([A-Z][A-Za-z]+)",\s*ErrorCategory\.') | ForEach-Object { $_.Groups[1].Value }
            [regex]::Matches($source, 'ErrorId = "([A-Z][A-Za-z]+)"') | ForEach-Object { $_.Groups[1].Value }
            [regex]::Matches($source, 'Id = "([A-Z][A-Za-z]+)";') | ForEach-Object { $_.Groups[1].Value }
            [regex]::Matches($source, ',\s*"([A-Z][A-Za-z]+)",\s*\$?"') | ForEach-Object { $_.Groups[1].Value }
        ) | Sort-Object -Unique
        $reported.Count | Should -BeGreaterThan 40
        $reported | Where-Object { $_ -notin $documented } | Should -BeNullOrEmpty -Because 'every error id the module reports is explained'
        $documented | Where-Object { $source -notmatch "`"$_`"" } | Should -BeNullOrEmpty -Because 'the topic names no id the module no longer reports'
    }

    It 'ships Npgsql only under dependencies/, not beside the cmdlet assembly' {
        $root = Split-Path $env:WT_MODULE_PATH
        Test-Path (Join-Path $root 'Npgsql.dll') | Should -BeFalse
        Test-Path (Join-Path $root 'dependencies/Npgsql.dll') | Should -BeTrue
    }

    It 'stops with a clear error when no connection is known' {
        $saved = $env:WORKFLOW_TRIGGERS_CONNECTION
        $env:WORKFLOW_TRIGGERS_CONNECTION = $null
        try {
            Disconnect-TriggerDatabase
            { Get-WorkflowTrigger -ErrorAction Stop } | Should -Throw -ErrorId 'NoConnection,WorkflowTriggers.Commands.GetWorkflowTriggerCommand'
        }
        finally { $env:WORKFLOW_TRIGGERS_CONNECTION = $saved }
    }

    It 'imports and works in a session that already loaded another Npgsql version' {
        $packages = ((dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
        $otherNpgsql = Join-Path $packages 'npgsql/8.0.5/lib/net8.0/Npgsql.dll'
        Test-Path $otherNpgsql | Should -BeTrue
        $database = New-TestDatabase
        try {
            $script = @"
`$ErrorActionPreference = 'Stop'
Add-Type -Path '$otherNpgsql'
`$loaded = [Npgsql.NpgsqlConnection].Assembly.GetName().Version.ToString()
Import-Module '$($env:WT_MODULE_PATH)'
Install-TriggerSchema -ConnectionString '$database' | Out-Null
New-WorkflowTrigger -ConnectionString '$database' -Name 'Isolated' -WorkflowId wf_1 -Source webhook-event-source -EventType webhook_received | Out-Null
"`$loaded|`$((Get-WorkflowTrigger -ConnectionString '$database').Name)"
"@
            $output = & ([Environment]::ProcessPath) (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command $script
            $LASTEXITCODE | Should -Be 0
            $output | Select-Object -Last 1 | Should -Be '8.0.5.0|Isolated'
        }
        finally { Remove-TestDatabase $database }
    }
}

Describe 'Output types a script can name' {
    BeforeAll {
        $script:typesDb = New-TestDatabase
        Add-RoutingGraph $script:typesDb
        $PSDefaultParameterValues['*-Trigger*:ConnectionString'] = $script:typesDb
        $PSDefaultParameterValues['*-WorkflowTrigger:ConnectionString'] = $script:typesDb
        $PSDefaultParameterValues['*-WorkflowInputNode:ConnectionString'] = $script:typesDb
        $PSDefaultParameterValues['*-OrphanTrigger:ConnectionString'] = $script:typesDb
        $PSDefaultParameterValues['Get-NodeTargetingStat:ConnectionString'] = $script:typesDb
        $script:covered = [System.Collections.Generic.HashSet[string]]::new()
    }

    AfterAll {
        $PSDefaultParameterValues.Clear()
        Remove-TestDatabase $script:typesDb
    }

    It '[WorkflowTriggers.<Name>] resolves from a script to a type of the cmdlet assembly in the default load context' -ForEach @(
        'WorkflowTrigger', 'TriggerDatabase', 'SchemaStatus', 'SchemaStepResult', 'AppliedSchemaStep', 'PlannedSchemaStep', 'SchemaAction',
        'InputNode', 'TriggerRoute', 'BackfillPlanEntry', 'TriggerBackfillResult', 'TriggerImportResult', 'ImportAction',
        'TriggerIndexHealth', 'IndexUsageStatus', 'IndexMaintenanceResult', 'TriggerHealthReport', 'TriggerHealthCheck', 'HealthStatus',
        'TriggerUsage', 'TriggerStatistic', 'TriggerGrouping', 'TriggerMetric', 'NodeTargetingStat', 'TriggerExecutionStat', 'SchemaDrift', 'DriftKind', 'JsonNumber',
        'TriggerConfig', 'TriggerDifference', 'TriggerDifferenceStatus', 'TriggerFieldChange', 'TriggerFileEntry'
    ).ForEach({ @{ Name = $_ } }) {
        $type = [scriptblock]::Create("[WorkflowTriggers.$Name]").Invoke()[0]
        $type.FullName | Should -Be "WorkflowTriggers.$Name"
        $type.Assembly.GetName().Name | Should -Be 'WorkflowTriggers'
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($type.Assembly) | Should -Be ([System.Runtime.Loader.AssemblyLoadContext]::Default)
    }

    It 'compares the enums a user compares against by name' {
        [WorkflowTriggers.HealthStatus]::Fail | Should -Be 'Fail'
        [WorkflowTriggers.IndexUsageStatus]::LOW_USAGE | Should -Be 'LOW_USAGE'
        [WorkflowTriggers.ImportAction]::Unchanged | Should -Be 'Unchanged'
        [WorkflowTriggers.TriggerGrouping]::TargetNode | Should -Be 'TargetNode'
    }

    It 'names every column of every table view after a property of its type, so Where-Object and Select-Object take what the header says' {
        $format = [xml](Get-Content -Raw (Join-Path (Split-Path $env:WT_MODULE_PATH) 'WorkflowTriggers.Format.ps1xml'))
        $views = @($format.Configuration.ViewDefinitions.View | Where-Object { $_.TableControl })
        $views.Count | Should -BeGreaterThan 10
        foreach ($view in $views) {
            $type = $view.ViewSelectedBy.TypeName -as [type]
            $type | Should -Not -BeNullOrEmpty -Because "$($view.Name) selects a type of the module"
            $properties = $type.GetProperties().Name
            $headers = @($view.TableControl.TableHeaders.TableColumnHeader)
            $items = @($view.TableControl.TableRowEntries.TableRowEntry.TableColumnItems.TableColumnItem)
            for ($i = 0; $i -lt $headers.Count; $i++) {
                $label = if ($headers[$i].Label) { $headers[$i].Label } else { $items[$i].PropertyName }
                $properties | Should -Contain $label -Because "view $($view.Name) has a column '$label'"
                if ($items[$i].PropertyName) { $items[$i].PropertyName | Should -Be $label -Because "view $($view.Name) shows $($items[$i].PropertyName) under '$label'" }
            }
        }
    }

    It 'serialises status-like values by name: every public enum of the module is written as text by ConvertTo-Json' {
        $enums = [WorkflowTriggers.WorkflowTrigger].Assembly.GetExportedTypes() | Where-Object IsEnum
        $enums.Count | Should -BeGreaterThan 5
        foreach ($enum in $enums) {
            $value = [Enum]::GetValues($enum)[1]
            ([pscustomobject]@{ Value = $value } | ConvertTo-Json -Compress) | Should -Be ('{"Value":"' + $value + '"}') -Because "$($enum.Name) is status-like"
        }
    }

    It 'declares only output types that are public types of the module or of .NET' {
        foreach ($command in Get-Command -Module WorkflowTriggers) {
            $command.OutputType.Count | Should -BeGreaterThan 0 -Because "$($command.Name) declares its output"
            foreach ($output in $command.OutputType) {
                $output.Type | Should -Not -BeNullOrEmpty -Because "$($command.Name) declares $($output.Name)"
                if ($output.Type -ne [void]) {
                    $output.Type.Assembly.GetName().Name | Should -BeIn @('WorkflowTriggers', 'System.Private.CoreLib') -Because "$($command.Name) writes $($output.Name)"
                }
            }
        }
    }

    It '<Command> writes <Type>' -ForEach @(
        @{ Command = 'Connect-TriggerDatabase'; Type = 'WorkflowTriggers.TriggerDatabase'; Run = { Connect-TriggerDatabase -ConnectionString $script:typesDb -PassThru } }
        @{ Command = 'Install-TriggerSchema'; Type = 'WorkflowTriggers.SchemaStepResult'; Run = { Install-TriggerSchema } }
        @{ Command = 'Get-TriggerSchema'; Type = 'WorkflowTriggers.SchemaStatus'; Run = { Get-TriggerSchema } }
        @{ Command = 'New-WorkflowTrigger'; Type = 'WorkflowTriggers.WorkflowTrigger'; Run = { 1..4 | ForEach-Object { New-WorkflowTrigger -Name "Typed $_" -WorkflowId wf_multi -Source pdf-monitor-event-source -EventType pdf_file_added } } }
        @{ Command = 'Get-WorkflowTrigger'; Type = 'WorkflowTriggers.WorkflowTrigger'; Run = { Get-WorkflowTrigger } }
        @{ Command = 'Set-WorkflowTrigger'; Type = 'WorkflowTriggers.WorkflowTrigger'; Run = { Set-WorkflowTrigger -Id 1 -Description typed -PassThru } }
        @{ Command = 'Disable-WorkflowTrigger'; Type = 'WorkflowTriggers.WorkflowTrigger'; Run = { Disable-WorkflowTrigger -Id 1 -PassThru } }
        @{ Command = 'Enable-WorkflowTrigger'; Type = 'WorkflowTriggers.WorkflowTrigger'; Run = { Enable-WorkflowTrigger -Id 1 -PassThru } }
        @{ Command = 'Get-WorkflowInputNode'; Type = 'WorkflowTriggers.InputNode'; Run = { Get-WorkflowInputNode wf_multi } }
        @{ Command = 'Invoke-TriggerBackfill'; Type = 'WorkflowTriggers.BackfillPlanEntry'; Run = { Invoke-TriggerBackfill -WhatIf } }
        @{ Command = 'Invoke-TriggerBackfill'; Type = 'WorkflowTriggers.TriggerBackfillResult'; Run = { Invoke-TriggerBackfill -Id 2 } }
        @{ Command = 'Invoke-TriggerBackfill'; Type = 'WorkflowTriggers.WorkflowTrigger'; Run = { Invoke-TriggerBackfill -Id 3 -PassThru } }
        @{ Command = 'Set-TriggerTargetNode'; Type = 'WorkflowTriggers.WorkflowTrigger'; Run = { Set-TriggerTargetNode -Id 1 -NodeId m1 -PassThru } }
        @{ Command = 'Test-WorkflowTrigger'; Type = 'WorkflowTriggers.TriggerRoute'; Run = { Test-WorkflowTrigger pdf-monitor-event-source pdf_file_added } }
        @{ Command = 'Export-WorkflowTrigger'; Type = 'System.String'; Run = { Export-WorkflowTrigger } }
        @{ Command = 'Import-WorkflowTrigger'; Type = 'WorkflowTriggers.TriggerImportResult'; Run = { Export-WorkflowTrigger -Path (Join-Path $TestDrive 'typed.json'); Import-WorkflowTrigger -Path (Join-Path $TestDrive 'typed.json') } }
        @{ Command = 'Compare-WorkflowTrigger'; Type = 'WorkflowTriggers.TriggerDifference'; Run = { [pscustomobject]@{ Name = 'Only in the input'; WorkflowId = 'wf_multi'; Source = 'pdf-monitor-event-source'; EventType = 'pdf_file_added' } | Compare-WorkflowTrigger } }
        @{ Command = 'Compare-WorkflowTrigger'; Type = 'System.Boolean'; Run = { Export-WorkflowTrigger -Path (Join-Path $TestDrive 'same.json'); Compare-WorkflowTrigger -Path (Join-Path $TestDrive 'same.json') -Quiet } }
        @{ Command = 'Get-OrphanTrigger'; Type = 'WorkflowTriggers.WorkflowTrigger'; Run = {
                Invoke-TestSql $script:typesDb "ALTER TABLE workflow_triggers DROP CONSTRAINT IF EXISTS fk_workflow_triggers_workflow_id; INSERT INTO workflow_triggers (name, workflow_id, source, event_type) VALUES ('Orphan', 'wf_gone', 'webhook-event-source', 'webhook_received')"
                Get-OrphanTrigger } }
        @{ Command = 'Remove-OrphanTrigger'; Type = 'WorkflowTriggers.WorkflowTrigger'; Run = { Remove-OrphanTrigger } }
        @{ Command = 'Remove-WorkflowTrigger'; Type = 'WorkflowTriggers.WorkflowTrigger'; Run = { Remove-WorkflowTrigger -Id 4 -Force -PassThru } }
        @{ Command = 'Get-TriggerIndexHealth'; Type = 'WorkflowTriggers.TriggerIndexHealth'; Run = { Get-TriggerIndexHealth -WarningAction SilentlyContinue } }
        @{ Command = 'Invoke-TriggerIndexMaintenance'; Type = 'WorkflowTriggers.IndexMaintenanceResult'; Run = { Invoke-TriggerIndexMaintenance -Index workflow_triggers_pkey } }
        @{ Command = 'Get-TriggerUsage'; Type = 'WorkflowTriggers.TriggerUsage'; Run = { Get-TriggerUsage } }
        @{ Command = 'Get-TriggerStatistic'; Type = 'WorkflowTriggers.TriggerStatistic'; Run = { Get-TriggerStatistic -By Workflow } }
        @{ Command = 'Get-TriggerMetric'; Type = 'WorkflowTriggers.TriggerMetric'; Run = { Get-TriggerMetric } }
        @{ Command = 'Get-NodeTargetingStat'; Type = 'WorkflowTriggers.NodeTargetingStat'; Run = { Get-NodeTargetingStat } }
        @{ Command = 'Get-TriggerExecutionStat'; Type = 'WorkflowTriggers.TriggerExecutionStat'; Run = { Get-TriggerExecutionStat } }
        @{ Command = 'Get-TriggerHealth'; Type = 'WorkflowTriggers.TriggerHealthReport'; Run = { Get-TriggerHealth } }
        @{ Command = 'Test-TriggerHealth'; Type = 'System.Boolean'; Run = { Test-TriggerHealth } }
        @{ Command = 'Test-TriggerHealth'; Type = 'WorkflowTriggers.TriggerHealthCheck'; Run = { Test-TriggerHealth -Detailed } }
        @{ Command = 'Enable-TriggerHistory'; Type = 'WorkflowTriggers.TriggerHistoryStatus'; Run = { Enable-TriggerHistory; Disable-WorkflowTrigger -Id 1 -Reason typed } }
        @{ Command = 'Get-TriggerHistory'; Type = 'WorkflowTriggers.TriggerHistoryEntry'; Run = { Get-TriggerHistory -Id 1 } }
        @{ Command = 'Restore-WorkflowTrigger'; Type = 'WorkflowTriggers.TriggerImportResult'; Run = { Get-TriggerHistory -Id 1 | Select-Object -Last 1 | Restore-WorkflowTrigger -Confirm:$false } }
        @{ Command = 'Clear-TriggerHistory'; Type = 'WorkflowTriggers.TriggerHistoryClearResult'; Run = { Clear-TriggerHistory -Before (Get-Date).AddDays(-1) -Confirm:$false } }
        @{ Command = 'Disable-TriggerHistory'; Type = 'WorkflowTriggers.TriggerHistoryStatus'; Run = { Disable-TriggerHistory -Confirm:$false } }
        @{ Command = 'Unlock-TriggerBackfill'; Type = 'WorkflowTriggers.TriggerBackfillLease'; Run = {
                Invoke-TestSql $script:typesDb "INSERT INTO workflow_triggers_leases (name, token, holder_host, holder_process, expires_at) VALUES ('backfill', gen_random_uuid(), 'gone', 1, now() - interval '1 minute')"
                Unlock-TriggerBackfill -Confirm:$false } }
        @{ Command = 'Install-TriggerRole'; Type = 'WorkflowTriggers.TriggerRole'; Run = { Install-TriggerRole -Prefix wt_typed_roles -WhatIf } }
        @{ Command = 'Disconnect-TriggerDatabase'; Type = $null; Run = { Disconnect-TriggerDatabase } }
    ) {
        $null = $script:covered.Add($Command)
        $output = @(& $Run)
        if ($null -eq $Type) {
            $output | Should -BeNullOrEmpty
            return
        }

        $output.Count | Should -BeGreaterThan 0
        $output | ForEach-Object { $_ | Should -BeOfType ([type] $Type) }
        if ($Type -ne 'System.String' -and $Type -ne 'System.Boolean') {
            $Type | Should -BeIn (Get-Command $Command).OutputType.Name -Because "$Command declares what it writes"
        }
    }

    It 'covers every cmdlet of the module' {
        (Get-Command -Module WorkflowTriggers).Name | Where-Object { -not $script:covered.Contains($_) } | Should -BeNullOrEmpty
    }
}

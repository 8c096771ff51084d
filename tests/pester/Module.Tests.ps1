BeforeAll {
    Import-Module $env:WT_MODULE_PATH -Force
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
}

Describe 'The built module' {
    It 'exports every cmdlet of the manifest, each with help: a synopsis and at least one example' {
        $commands = Get-Command -Module WorkflowTriggers
        $commands.Count | Should -Be 27
        foreach ($command in $commands) {
            $help = Get-Help $command.Name -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty -Because "$($command.Name) needs a synopsis"
            $help.Synopsis | Should -Not -BeLike "$($command.Name)*" -Because "$($command.Name) must not fall back to its syntax line"
            @($help.examples.example).Count | Should -BeGreaterThan 0 -Because "$($command.Name) needs an example"
        }
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

    It 'declares an output type on every cmdlet that returns objects' {
        foreach ($name in 'Connect-TriggerDatabase', 'Get-WorkflowTrigger', 'New-WorkflowTrigger', 'Set-WorkflowTrigger', 'Set-TriggerTargetNode', 'Enable-WorkflowTrigger', 'Disable-WorkflowTrigger', 'Remove-WorkflowTrigger', 'Install-TriggerSchema', 'Get-TriggerSchema') {
            (Get-Command $name).OutputType.Count | Should -BeGreaterThan 0 -Because $name
        }
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

Describe 'Connect-TriggerDatabase' {
    BeforeAll { $script:db = New-TestDatabase }
    AfterAll { Disconnect-TriggerDatabase; Remove-TestDatabase $script:db }

    It 'sets the session default and returns a connection object without the password' {
        $parts = @{}
        foreach ($pair in $script:db -split ';') { $key, $value = $pair -split '=', 2; $parts[$key] = $value }
        $server = '{0}:{1}' -f $parts['Host'], $parts['Port']
        $credential = [pscredential]::new('postgres', (ConvertTo-SecureString 'pw-Never-Shown-42' -AsPlainText -Force))
        $connection = Connect-TriggerDatabase -Server $server -Database $parts['Database'] -Credential $credential -PassThru -Verbose 4>&1
        $verbose = $connection | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $object = $connection | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $object.Database | Should -Be $parts['Database']
        $object.ServerVersion | Should -Match '^\d+'
        ($object | Format-List * | Out-String) + $object.ToString() + ($verbose | Out-String) | Should -Not -Match 'pw-Never-Shown-42'
        (Get-TriggerSchema).Database | Should -Be $object.ToString()
    }

    It 'reports a server that does not answer as a connection error without the password' {
        $error.Clear()
        { Connect-TriggerDatabase -ConnectionString 'Host=127.0.0.1;Port=1;Database=x;Username=u;Password=pw-Never-Shown-42;Timeout=2' -ErrorAction Stop } |
            Should -Throw -ErrorId 'ConnectionFailed,WorkflowTriggers.Commands.ConnectTriggerDatabaseCommand'
        ($error[0] | Out-String) + $error[0].TargetObject | Should -Not -Match 'pw-Never-Shown-42'
        $error[0].CategoryInfo.Category | Should -Be 'ConnectionError'
    }
}

#requires -Version 7.4
<#
.SYNOPSIS
    Writes the module's MAML help from help/<Cmdlet>.md and the cmdlets' own parameter metadata.
.DESCRIPTION
    platyPS is not available where this project builds, so this does its core job: prose (synopsis, description,
    examples, parameter descriptions) comes from the Markdown files, syntax and parameter facts from Get-Command.
    A cmdlet without a help file, synopsis or example, or a parameter without a description, fails the build.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $HelpSource,
    [Parameter(Mandatory)] [string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$module = Import-Module $ModulePath -PassThru
# -WhatIf and -Confirm are documented like the cmdlets' own parameters (as platyPS does); the rest are <CommonParameters>.
$common = [System.Management.Automation.Cmdlet]::CommonParameters + 'UseTransaction'

function Read-HelpMarkdown([string] $Path) {
    $help = @{ Synopsis = ''; Description = ''; Examples = [System.Collections.Generic.List[object]]::new(); Parameters = @{} }
    $section = ''; $current = $null; $inCode = $false
    foreach ($line in Get-Content $Path) {
        if ($line -match '^```') {
            $inCode = -not $inCode
            if ($section -eq 'EXAMPLES' -and $current) { $current.InCode = $inCode }
            continue
        }
        if (-not $inCode -and $line -match '^## (.+)$') { $section = $Matches[1].Trim(); $current = $null; continue }
        if (-not $inCode -and $line -match '^### (.+)$') {
            $title = $Matches[1].Trim()
            if ($section -eq 'EXAMPLES') {
                $current = @{ Title = $title; Code = [System.Collections.Generic.List[string]]::new(); Remarks = [System.Collections.Generic.List[string]]::new(); InCode = $false }
                $help.Examples.Add($current)
            }
            elseif ($section -eq 'PARAMETERS') {
                $current = $title.TrimStart('-')
                $help.Parameters[$current] = ''
            }
            continue
        }
        switch ($section) {
            'SYNOPSIS' { $help.Synopsis = ($help.Synopsis + "`n" + $line).Trim() }
            'DESCRIPTION' { $help.Description = ($help.Description + "`n" + $line) }
            'EXAMPLES' {
                if ($current) {
                    if ($current.InCode) { $current.Code.Add($line) } else { $current.Remarks.Add($line) }
                }
            }
            'PARAMETERS' { if ($current) { $help.Parameters[$current] = ($help.Parameters[$current] + "`n" + $line).Trim() } }
        }
    }
    $help.Description = $help.Description.Trim()
    $help
}

function Add-Paragraphs([System.Xml.XmlWriter] $Writer, [string] $Text) {
    foreach ($paragraph in ($Text -split "(`r?`n){2,}" | Where-Object { $_.Trim() })) {
        $Writer.WriteElementString('maml', 'para', $ns.maml, ($paragraph -replace "`r?`n", ' ').Trim())
    }
}

$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
New-Item -ItemType Directory -Force (Split-Path $OutputPath) | Out-Null
$writer = [System.Xml.XmlWriter]::Create($OutputPath, $settings)
$ns = @{
    maml = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
}
$problems = [System.Collections.Generic.List[string]]::new()
# Parameters that many cmdlets share (-Connection, -ConnectionString) are described once, in _Shared.md.
$shared = Read-HelpMarkdown (Join-Path $HelpSource '_Shared.md')

$writer.WriteStartDocument()
$writer.WriteStartElement('helpItems')
$writer.WriteAttributeString('schema', 'maml')
$writer.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
$writer.WriteAttributeString('xmlns', 'command', $null, $ns.command)
$writer.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)

foreach ($command in Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name) {
    $file = Join-Path $HelpSource "$($command.Name).md"
    if (-not (Test-Path $file)) { $problems.Add("$($command.Name): no help file $file"); continue }
    $help = Read-HelpMarkdown $file
    foreach ($name in $shared.Parameters.Keys) {
        if (-not $help.Parameters[$name]) { $help.Parameters[$name] = $shared.Parameters[$name] }
    }
    if (-not $help.Synopsis) { $problems.Add("$($command.Name): no synopsis") }
    if ($help.Examples.Count -eq 0) { $problems.Add("$($command.Name): no example") }
    $parameters = $command.Parameters.Values | Where-Object { $_.Name -notin $common }
    foreach ($parameter in $parameters) {
        $hidden = $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow }
        if (-not $hidden -and -not $help.Parameters[$parameter.Name]) { $problems.Add("$($command.Name): parameter -$($parameter.Name) has no description") }
    }

    $writer.WriteStartElement('command', 'command', $ns.command)
    $writer.WriteStartElement('command', 'details', $ns.command)
    $writer.WriteElementString('command', 'name', $ns.command, $command.Name)
    $writer.WriteElementString('command', 'verb', $ns.command, $command.Verb)
    $writer.WriteElementString('command', 'noun', $ns.command, $command.Noun)
    $writer.WriteStartElement('maml', 'description', $ns.maml); Add-Paragraphs $writer $help.Synopsis; $writer.WriteEndElement()
    $writer.WriteEndElement()
    $writer.WriteStartElement('maml', 'description', $ns.maml); Add-Paragraphs $writer $help.Description; $writer.WriteEndElement()

    $writeParameter = {
        param($parameter, $set)
        $attribute = $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and ($null -eq $set -or $_.ParameterSetName -in $set.Name, '__AllParameterSets') } | Select-Object -First 1
        $pipeline = @(if ($attribute.ValueFromPipeline) { 'ByValue' }; if ($attribute.ValueFromPipelineByPropertyName) { 'ByPropertyName' }) -join ', '
        $writer.WriteStartElement('command', 'parameter', $ns.command)
        $writer.WriteAttributeString('required', ([string]$attribute.Mandatory).ToLowerInvariant())
        $writer.WriteAttributeString('globbing', ([string][bool]($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })).ToLowerInvariant())
        $writer.WriteAttributeString('pipelineInput', $(if ($pipeline) { "True ($pipeline)" } else { 'False' }))
        $writer.WriteAttributeString('position', $(if ($attribute.Position -ge 0) { [string]$attribute.Position } else { 'named' }))
        $writer.WriteElementString('maml', 'name', $ns.maml, $parameter.Name)
        $writer.WriteStartElement('maml', 'description', $ns.maml); Add-Paragraphs $writer ([string]$help.Parameters[$parameter.Name]); $writer.WriteEndElement()
        if ($parameter.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
            $writer.WriteStartElement('command', 'parameterValue', $ns.command)
            $writer.WriteAttributeString('required', 'true')
            $writer.WriteString($parameter.ParameterType.Name)
            $writer.WriteEndElement()
        }
        $writer.WriteStartElement('dev', 'type', $ns.dev); $writer.WriteElementString('maml', 'name', $ns.maml, $parameter.ParameterType.FullName); $writer.WriteEndElement()
        $writer.WriteEndElement()
    }

    $writer.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $command.ParameterSets) {
        $writer.WriteStartElement('command', 'syntaxItem', $ns.command)
        $writer.WriteElementString('maml', 'name', $ns.maml, $command.Name)
        foreach ($p in $set.Parameters | Where-Object { $_.Name -notin $common } | Sort-Object { if ($_.Position -ge 0) { $_.Position } else { 1000 } }) {
            $hidden = $command.Parameters[$p.Name].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow }
            if (-not $hidden) { & $writeParameter $command.Parameters[$p.Name] $set }
        }
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($parameter in $parameters | Sort-Object Name) {
        $hidden = $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow }
        if (-not $hidden) { & $writeParameter $parameter $null }
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'returnValues', $ns.command)
    foreach ($type in $command.OutputType) {
        $writer.WriteStartElement('command', 'returnValue', $ns.command)
        $writer.WriteStartElement('dev', 'type', $ns.dev); $writer.WriteElementString('maml', 'name', $ns.maml, $type.Name); $writer.WriteEndElement()
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'examples', $ns.command)
    foreach ($example in $help.Examples) {
        $writer.WriteStartElement('command', 'example', $ns.command)
        $writer.WriteElementString('maml', 'title', $ns.maml, "-------------------------- $($example.Title) --------------------------")
        $writer.WriteElementString('dev', 'code', $ns.dev, ($example.Code -join "`n"))
        $writer.WriteStartElement('dev', 'remarks', $ns.dev); Add-Paragraphs $writer (($example.Remarks -join "`n").Trim()); $writer.WriteEndElement()
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()
    $writer.WriteEndElement()
}

$writer.WriteEndElement()
$writer.WriteEndDocument()
$writer.Close()

if ($problems.Count -gt 0) {
    Write-Error ("Help is incomplete:`n  " + ($problems -join "`n  "))
    exit 1
}

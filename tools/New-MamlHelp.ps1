#requires -Version 7.4
<#
.SYNOPSIS
    Writes the module's MAML help from help/<Cmdlet>.md and the cmdlets' own parameter metadata.
.DESCRIPTION
    platyPS is not available where this project builds, so this does its core job: prose (synopsis, description,
    examples, parameter descriptions, extra related links) comes from the Markdown files; syntax, types, defaults,
    pipeline input, outputs and the related cmdlets come from the cmdlets themselves. A cmdlet without a help file,
    synopsis or example, a parameter without a description, a documented parameter the cmdlet no longer has, or a
    description whose "default N" differs from the parameter's real default fails the build.
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
    $help = @{ Synopsis = ''; Description = ''; Examples = [System.Collections.Generic.List[object]]::new(); Parameters = [ordered]@{}; Links = [System.Collections.Generic.List[string]]::new() }
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
            'RELATED LINKS' { if ($line -match '^\s*-\s*(.+)$') { $help.Links.Add($Matches[1].Trim()) } }
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

# A type as a user types it: [Nullable[bool]] is Boolean, arrays keep their brackets.
function Get-TypeDisplayName([type] $Type) {
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { $Type = $underlying }
    if ($Type.IsArray) { return (Get-TypeDisplayName $Type.GetElementType()) + '[]' }
    $Type.Name
}

function Get-TypeFullName([type] $Type) {
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { return $underlying.FullName }
    $Type.FullName
}

# What a parameter is when not given: the value a new instance of the cmdlet holds. Nothing for empty values, and
# switches are off.
function Get-ParameterDefault([object] $Instance, [System.Management.Automation.ParameterMetadata] $Parameter) {
    if ($Parameter.SwitchParameter) { return 'False' }
    $property = $Instance.GetType().GetProperty($Parameter.Name)
    if (-not $property) { return '' }
    $value = $property.GetValue($Instance)
    if ($null -eq $value -or ($value -is [string] -and $value -eq '') -or ($value -is [Array] -and $value.Count -eq 0)) { return '' }
    if ($value -is [IFormattable]) { return $value.ToString($null, [cultureinfo]::InvariantCulture) }
    [string]$value
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

$allCommands = @(Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name)
foreach ($command in $allCommands) {
    $file = Join-Path $HelpSource "$($command.Name).md"
    if (-not (Test-Path $file)) { $problems.Add("$($command.Name): no help file $file"); continue }
    $help = Read-HelpMarkdown $file
    foreach ($name in $help.Parameters.Keys) {
        if (-not $command.Parameters.ContainsKey($name)) { $problems.Add("$($command.Name): documents -$name, which the cmdlet does not have") }
    }
    foreach ($name in $shared.Parameters.Keys) {
        if (-not $help.Parameters[$name]) { $help.Parameters[$name] = $shared.Parameters[$name] }
    }
    if (-not $help.Synopsis) { $problems.Add("$($command.Name): no synopsis") }
    if ($help.Examples.Count -eq 0) { $problems.Add("$($command.Name): no example") }
    $parameters = $command.Parameters.Values | Where-Object { $_.Name -notin $common }
    $instance = [Activator]::CreateInstance($command.ImplementingType)
    $defaults = @{}
    foreach ($parameter in $parameters) {
        $defaults[$parameter.Name] = Get-ParameterDefault $instance $parameter
        $hidden = $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow }
        if (-not $hidden -and -not $help.Parameters[$parameter.Name]) { $problems.Add("$($command.Name): parameter -$($parameter.Name) has no description") }
        if ($help.Parameters[$parameter.Name] -match '\bdefault ([\d,]+)' -and ($Matches[1] -replace ',') -ne $defaults[$parameter.Name]) {
            $problems.Add("$($command.Name): -$($parameter.Name) says default $($Matches[1]), but its default is '$($defaults[$parameter.Name])'")
        }
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
        $writer.WriteAttributeString('aliases', $(if ($parameter.Aliases.Count) { $parameter.Aliases -join ', ' } else { 'None' }))
        $writer.WriteElementString('maml', 'name', $ns.maml, $parameter.Name)
        $writer.WriteStartElement('maml', 'description', $ns.maml); Add-Paragraphs $writer ([string]$help.Parameters[$parameter.Name]); $writer.WriteEndElement()
        if ($parameter.ParameterType -ne [System.Management.Automation.SwitchParameter]) {
            $writer.WriteStartElement('command', 'parameterValue', $ns.command)
            $writer.WriteAttributeString('required', 'true')
            $writer.WriteString((Get-TypeDisplayName $parameter.ParameterType))
            $writer.WriteEndElement()
        }
        $writer.WriteStartElement('dev', 'type', $ns.dev); $writer.WriteElementString('maml', 'name', $ns.maml, (Get-TypeFullName $parameter.ParameterType)); $writer.WriteEndElement()
        $writer.WriteElementString('dev', 'defaultValue', $ns.dev, $(if ($defaults[$parameter.Name]) { $defaults[$parameter.Name] } else { 'None' }))
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

    # INPUTS: each type the pipeline binds, with the parameters that take it and how.
    $writer.WriteStartElement('command', 'inputTypes', $ns.command)
    $piped = foreach ($parameter in $parameters) {
        foreach ($attribute in $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }) {
            if ($attribute.ValueFromPipeline) { [pscustomobject]@{ Type = (Get-TypeFullName $parameter.ParameterType) -replace '\[\]$'; Binding = "-$($parameter.Name) (by value)" } }
            if ($attribute.ValueFromPipelineByPropertyName) { [pscustomobject]@{ Type = (Get-TypeFullName $parameter.ParameterType) -replace '\[\]$'; Binding = "-$($parameter.Name) (by property name: $((@($parameter.Name) + $parameter.Aliases) -join ', '))" } }
        }
    }
    $inputs = @($piped | Group-Object Type | ForEach-Object { @{ Type = $_.Name; Text = 'Bound to ' + ((@($_.Group.Binding) | Select-Object -Unique) -join '; ') + '.' } })
    if ($inputs.Count -eq 0) { $inputs = @(@{ Type = 'None'; Text = 'The cmdlet takes no pipeline input.' }) }
    foreach ($input in $inputs) {
        $writer.WriteStartElement('command', 'inputType', $ns.command)
        $writer.WriteStartElement('dev', 'type', $ns.dev); $writer.WriteElementString('maml', 'name', $ns.maml, $input.Type); $writer.WriteEndElement()
        $writer.WriteStartElement('maml', 'description', $ns.maml); Add-Paragraphs $writer $input.Text; $writer.WriteEndElement()
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'returnValues', $ns.command)
    foreach ($type in $command.OutputType) {
        $writer.WriteStartElement('command', 'returnValue', $ns.command)
        $writer.WriteStartElement('dev', 'type', $ns.dev); $writer.WriteElementString('maml', 'name', $ns.maml, $(if ($type.Type) { $type.Type.FullName } else { $type.Name })); $writer.WriteEndElement()
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

    # RELATED LINKS: the help file's own, the cmdlets its text names, those on the same noun, and the about topics. The
    # module has no online help (no public address), so no link carries a URI and about_WorkflowTriggers says so.
    $text = $help.Synopsis + "`n" + $help.Description
    $named = @($allCommands | Where-Object { $_.Name -ne $command.Name -and $text -match "\b$([regex]::Escape($_.Name))\b" } | ForEach-Object Name)
    $sameNoun = @($allCommands | Where-Object { $_.Noun -eq $command.Noun -and $_.Name -ne $command.Name } | ForEach-Object Name)
    $related = @($help.Links) + $named + $sameNoun + 'about_WorkflowTriggers', 'about_WorkflowTriggers_Errors'
    foreach ($link in $related) {
        if ($link -notin $allCommands.Name -and $link -notlike 'about_*') { $problems.Add("$($command.Name): related link '$link' is neither a cmdlet of the module nor an about topic") }
    }
    $writer.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($link in $related | Select-Object -Unique) {
        $writer.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $writer.WriteElementString('maml', 'linkText', $ns.maml, $link)
        $writer.WriteElementString('maml', 'uri', $ns.maml, '')
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()
    $writer.WriteEndElement()
}

$writer.WriteEndElement()
$writer.WriteEndDocument()
$writer.Close()

if ($problems.Count -gt 0) {
    # One problem per line, unwrapped, so a build log shows each whole.
    [Console]::Error.WriteLine("Help is incomplete:`n  " + ($problems -join "`n  "))
    exit 1
}

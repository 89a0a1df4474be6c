<#
  Installs the release MSI silently and checks what an IT team relies on: the files, the Start-menu shortcut, the
  Add/Remove Programs entry, the HKLM machine settings and that the app reads them (with Group Policy above them),
  an upgrade that keeps remembered properties and clears one given as CLEAR, a refused downgrade, a repair, and a
  clean uninstall.

  Run by .github/workflows/windows-msi.yml on a throwaway runner, as an administrator. It installs, changes and
  removes machine-wide software and policy keys: never run it on a workstation that matters.
#>
param(
    [Parameter(Mandatory)] [string] $Msi,          # the release build
    [Parameter(Mandatory)] [string] $NextMsi,      # a later build of the same source, for the upgrade checks
    [Parameter(Mandatory)] [string] $Onedir,       # the PyInstaller folder the MSIs were built from
    [Parameter(Mandatory)] [string] $Version,
    [Parameter(Mandatory)] [string] $NextVersion,
    [string] $LogDir = $PWD
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$InstallDir = Join-Path $env:ProgramFiles 'NHS\Consent Desktop'
$Exe = Join-Path $InstallDir 'ConsentDesktop.exe'
$MachineKey = 'HKLM:\Software\NHS\ConsentDesktop'
$ShortcutKey = 'HKCU:\Software\NHS\ConsentDesktop\Install'  # the shortcut component's key path (ICE38/ICE43)
$PolicyKey = 'HKLM:\Software\Policies\NHS\ConsentDesktop'
$Shortcut = Join-Path $env:ProgramData 'Microsoft\Windows\Start Menu\Programs\Consent Desktop.lnk'
$MachineSource = 'machine settings from the installer (HKLM\Software\NHS\ConsentDesktop)'
$PolicySource = 'Group Policy (HKLM\Software\Policies\NHS\ConsentDesktop)'

# Each public property's registry value name and setting, from the app itself (consent_desktop/config/registry.py).
$Installer = python -c "import json; from consent_desktop.config.registry import INSTALLER_PROPERTIES as P, value_name; print(json.dumps({p: {'name': value_name(k), 'key': k} for p, k in P.items()}))" | ConvertFrom-Json -AsHashtable
if ($LASTEXITCODE -ne 0) { throw 'could not read the installer properties from the app' }
$Values = @{
    SPINE_ENDPOINT = 'https://spine.example.nhs.uk/sync'
    SPINE_ASID     = '928942012545'
    LOCAL_ASID     = '200000001234'
    ODS_CODE       = 'A12345'
    PKCS11_MODULE  = 'C:\Program Files\Smartcard Middleware\pkcs11.dll'  # spaces must survive the command line
    CA_BUNDLE      = 'C:\ProgramData\NHS\ConsentDesktop\spine-ca.pem'
    CLIENT_CERT    = 'C:\ProgramData\NHS\ConsentDesktop\endpoint.pem'
    CLIENT_KEY     = 'C:\ProgramData\NHS\ConsentDesktop\endpoint-key.pem'
    CIS_URL        = 'https://cis.example.nhs.uk/'
    AUTH_PROVIDER  = 'cis2'
    CIS2_ISSUER    = 'https://cis2.example.nhs.uk/openam/oauth2/realms/root/realms/oidc'
    CIS2_CLIENT_ID = 'consent-desktop-example'
    CIS2_SCOPES    = 'openid,nhsperson,nationalrbacaccess'
    CIS2_TOKEN_AUTH  = 'private_key_jwt'
    CIS2_PRIVATE_KEY = 'C:\ProgramData\NHS\ConsentDesktop\cis2-client-key.pem'
}
foreach ($property in $Installer.Keys) {
    if (-not $Values.ContainsKey($property)) { throw "test-install.ps1 has no test value for $property" }
}

function Assert-Equal($Actual, $Expected, [string] $What) {
    if ($Actual -cne $Expected) { throw "${What}: expected '$Expected', found '$Actual'" }
    Write-Host "ok: $What"
}

function Invoke-Msiexec([string[]] $Arguments, [string] $LogName) {
    $log = Join-Path $LogDir $LogName
    $line = ($Arguments + @('/qn', '/norestart', '/l*v', "`"$log`"")) -join ' '
    Write-Host "msiexec $line"
    return (Start-Process -FilePath msiexec.exe -ArgumentList $line -Wait -PassThru).ExitCode
}

function Get-MachineValue([string] $Name) {
    return (Get-ItemProperty -Path $MachineKey -Name $Name).$Name
}

function Get-InstalledVersion {
    return (Get-ItemProperty -Path "$MachineKey\Install" -Name Version).Version
}

function Get-ArpEntries {
    $uninstall = 'HKLM:\Software\Microsoft\Windows\CurrentVersion\Uninstall\*'
    return @(Get-ItemProperty $uninstall | Where-Object {
            $_.PSObject.Properties['DisplayName'] -and $_.DisplayName -eq 'Consent Desktop' })
}

# key -> @(value, where it came from, locked by policy), as the app itself sees its settings.
function Get-AppSettings {
    $json = python -c "import json; from consent_desktop.config import default_sources, describe, load_settings, locked_by_policy; s = load_settings(default_sources(environ={})); print(json.dumps({k: [','.join(v) if isinstance(v, tuple) else str(v), src, locked_by_policy(s, k)] for k, v, src in describe(s)}))"
    if ($LASTEXITCODE -ne 0) { throw 'the app could not load its settings' }
    return $json | ConvertFrom-Json -AsHashtable
}

function Assert-RememberedValues([string] $Moment, [hashtable] $Except = @{}) {
    foreach ($property in $Installer.Keys) {
        $expected = if ($Except.ContainsKey($property)) { $Except[$property] } else { $Values[$property] }
        Assert-Equal (Get-MachineValue $Installer[$property].name) $expected "$($Installer[$property].name) $Moment"
    }
}

Write-Host '== silent install with every public property'
$properties = foreach ($property in $Installer.Keys) { "$property=`"$($Values[$property])`"" }
Assert-Equal (Invoke-Msiexec (@('/i', "`"$Msi`"") + $properties) 'install.log') 0 'msiexec /i exit code'

Write-Host '== files, shortcut and Add/Remove Programs'
Assert-Equal (Test-Path $Exe) $true "installed $Exe"
$expectedFiles = @(Get-ChildItem -Recurse -File $Onedir).Count
$installedFiles = @(Get-ChildItem -Recurse -File $InstallDir).Count
Assert-Equal $installedFiles $expectedFiles 'number of installed files'
$schema = '_internal\consent_desktop\spine\schemas\omvt\TightenedSchemas\GET_RESOURCE_PERMISSIONS_INUK01.xsd'
Assert-Equal (Test-Path (Join-Path $InstallDir $schema)) $true 'packaged Spine schema'
Assert-Equal (Test-Path $Shortcut) $true 'Start-menu shortcut for all users'
$link = (New-Object -ComObject WScript.Shell).CreateShortcut($Shortcut)
Assert-Equal $link.TargetPath $Exe 'shortcut target'
$arp = @(Get-ArpEntries)
Assert-Equal $arp.Count 1 'Add/Remove Programs entries'
Assert-Equal $arp[0].DisplayVersion $Version 'Add/Remove Programs version'
Assert-Equal $arp[0].Publisher 'NHS' 'Add/Remove Programs publisher'
Assert-Equal $arp[0].NoModify 1 'Add/Remove Programs: no Change button'
Assert-Equal ([bool]$arp[0].PSObject.Properties['NoRepair']) $false 'Add/Remove Programs: Repair offered'
Assert-Equal ([bool]$arp[0].HelpLink) $true 'Add/Remove Programs help link'
Assert-Equal $arp[0].URLInfoAbout $arp[0].HelpLink 'Add/Remove Programs support link'
Assert-Equal $arp[0].InstallLocation "$InstallDir\" 'Add/Remove Programs install location'
Assert-Equal (Get-ItemProperty -Path $ShortcutKey -Name StartMenuShortcut).StartMenuShortcut 1 'shortcut key path in HKCU'

Write-Host '== the per-machine config folder: only SYSTEM and Administrators may write in it'
$dataDir = Join-Path $env:ProgramData 'NHS\consent-desktop'
$acl = Get-Acl $dataDir
Assert-Equal $acl.AreAccessRulesProtected $true "$dataDir inherits nothing from ProgramData"
$write = [System.Security.AccessControl.FileSystemRights]('WriteData, AppendData, WriteExtendedAttributes, ' +
    'WriteAttributes, Delete, DeleteSubdirectoriesAndFiles, ChangePermissions, TakeOwnership')
$admins = @('S-1-5-18', 'S-1-5-32-544')
$writers = @($acl.Access | Where-Object {
        $_.AccessControlType -eq 'Allow' -and ($_.FileSystemRights -band $write) -and
        $_.IdentityReference.Translate([System.Security.Principal.SecurityIdentifier]).Value -notin $admins })
Assert-Equal $writers.Count 0 "other accounts that may write in $dataDir"

Write-Host '== machine settings in HKLM'
$machine = Get-Item $MachineKey
foreach ($property in $Installer.Keys) {
    $name = $Installer[$property].name
    Assert-Equal $machine.GetValueKind($name).ToString() 'String' "$name is REG_SZ"
}
Assert-RememberedValues 'after install'
Assert-Equal (Get-InstalledVersion) $Version 'installed version in HKLM'

Write-Host '== the installed program'
$report = Join-Path $LogDir 'installed-selftest.txt'
$selftest = Start-Process -FilePath $Exe -ArgumentList "--selftest `"$report`"" -Wait -PassThru
Get-Content $report | Write-Host
Assert-Equal $selftest.ExitCode 0 'installed self-test exit code'

Write-Host '== the app reads the installer settings, with Group Policy above them'
$settings = Get-AppSettings
foreach ($property in $Installer.Keys) {
    $key = $Installer[$property].key
    Assert-Equal $settings[$key][0] $Values[$property] "app setting $key"
    Assert-Equal $settings[$key][1] $MachineSource "source of $key"
    Assert-Equal $settings[$key][2] $false "$key not locked"
}
New-Item -Path $PolicyKey -Force | Out-Null
try {
    New-ItemProperty -Path $PolicyKey -Name SpineEndpoint -PropertyType String `
        -Value 'https://policy.example.nhs.uk/sync' | Out-Null
    New-ItemProperty -Path $PolicyKey -Name AuthLockOnCardRemoval -PropertyType DWord -Value 0 | Out-Null
    $settings = Get-AppSettings
    Assert-Equal $settings['spine.endpoint'][0] 'https://policy.example.nhs.uk/sync' 'spine.endpoint under policy'
    Assert-Equal $settings['spine.endpoint'][1] $PolicySource 'source of spine.endpoint under policy'
    Assert-Equal $settings['spine.endpoint'][2] $true 'spine.endpoint locked by policy'
    Assert-Equal $settings['auth.lock_on_card_removal'][0] 'False' 'auth.lock_on_card_removal under policy'
    Assert-Equal $settings['auth.ods_code'][1] $MachineSource 'source of auth.ods_code under policy'
}
finally {
    Remove-Item -Path 'HKLM:\Software\Policies\NHS' -Recurse -Force
}

Write-Host '== upgrade: a new command-line value wins, CLEAR empties one, the others are remembered'
$newEndpoint = 'https://spine2.example.nhs.uk/sync'
$changed = @{ SPINE_ENDPOINT = $newEndpoint; CLIENT_KEY = '' }
Assert-Equal (Invoke-Msiexec @('/i', "`"$NextMsi`"", "SPINE_ENDPOINT=`"$newEndpoint`"", 'CLIENT_KEY=CLEAR') 'upgrade.log') 0 `
    'msiexec /i (upgrade) exit code'
$arp = @(Get-ArpEntries)
Assert-Equal $arp.Count 1 'Add/Remove Programs entries after the upgrade'
Assert-Equal $arp[0].DisplayVersion $NextVersion 'Add/Remove Programs version after the upgrade'
Assert-RememberedValues 'after the upgrade' $changed

Write-Host '== downgrade is refused and changes nothing'
Assert-Equal (Invoke-Msiexec @('/i', "`"$Msi`"") 'downgrade.log') 1603 'msiexec /i (downgrade) exit code'
Assert-Equal (Get-InstalledVersion) $NextVersion 'installed version after the downgrade'
Assert-RememberedValues 'after the refused downgrade' $changed

Write-Host '== repair rewrites files, shortcut and HKLM values from the remembered properties'
Assert-Equal (Invoke-Msiexec @('/famus', "`"$NextMsi`"") 'repair.log') 0 'msiexec /famus (repair) exit code'
Assert-RememberedValues 'after the repair' $changed

Write-Host '== silent uninstall leaves nothing behind'
Assert-Equal (Invoke-Msiexec @('/x', "`"$NextMsi`"") 'uninstall.log') 0 'msiexec /x exit code'
Assert-Equal (Test-Path $InstallDir) $false "$InstallDir removed"
Assert-Equal (Test-Path $Shortcut) $false 'shortcut removed'
Assert-Equal (Test-Path $ShortcutKey) $false "$ShortcutKey removed"
$audit = Join-Path $env:ProgramData 'NHS\consent-desktop\audit'
Assert-Equal (Test-Path $audit) $false "$audit removed (nothing was audited in it)"
$arp = @(Get-ArpEntries)
Assert-Equal $arp.Count 0 'Add/Remove Programs entries after uninstall'
if (Test-Path $MachineKey) {
    $left = Get-Item $MachineKey
    Assert-Equal ($left.ValueCount + $left.SubKeyCount) 0 "values and subkeys left in $MachineKey"
}
Write-Host 'All installer checks passed.'

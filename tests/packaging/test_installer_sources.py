"""The installer sources and the Group Policy template agree with the app on every registry value name and type,
and the release installer has none of the patterns Windows Installer's validation (ICE) rejects."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import platformdirs.windows
import pytest
import yaml
from lxml import etree

from consent_desktop.config import APP_AUTHOR, APP_NAME, SPECS, load_settings
from consent_desktop.config.registry import (
    INSTALLER_PROPERTIES,
    MACHINE_KEY,
    POLICY_KEY,
    POLICY_SETTINGS,
    POLICY_SOURCE,
    REG_DWORD,
    REG_SZ,
    registry_sources,
    registry_value_names,
    value_name,
)
from consent_desktop.controller.assembly import AUDIT_FOLDER
from consent_desktop.domain.errors import ConfigError
from consent_desktop.spine.safe_xml import parse_untrusted
from tests.packaging.conftest import REPO

POLICY = REPO / "packaging" / "windows" / "policy"
GP = "{http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions}"
WIX5 = "{http://wixtoolset.org/schemas/v4/wxs}"
WIX3 = "{http://schemas.microsoft.com/wix/2006/wi}"
RELEASE_WXS = REPO / "packaging" / "windows" / "consent-desktop.wxs"
SMOKE_WXS = REPO / "packaging" / "linux-smoke" / "consent-desktop.wxs"
WORKFLOW = REPO / ".github" / "workflows" / "windows-msi.yml"
PACKAGING_DOC = REPO / "docs" / "packaging.md"
INSTALLERS = pytest.mark.parametrize(("path", "ns"), [(RELEASE_WXS, WIX5), (SMOKE_WXS, WIX3)], ids=["release", "smoke"])
# Folders Windows Installer counts as the user's profile (ICE38): the Start menu even in a per-machine install.
PER_USER_FOLDERS = {
    "AppDataFolder",
    "DesktopFolder",
    "FavoritesFolder",
    "LocalAppDataFolder",
    "PersonalFolder",
    "ProgramMenuFolder",
    "SendToFolder",
    "StartMenuFolder",
    "StartupFolder",
    "TemplateFolder",
}


def parse(path: Path) -> etree._Element:
    return parse_untrusted(path.read_bytes(), what=str(path))


def setting_of(name: str) -> str:
    by_name = {value: key for key, value in registry_value_names().items()}
    assert name in by_name, f"{name} is not the registry value name of any machine-level setting"
    return by_name[name]


# --- Group Policy template ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def admx() -> etree._Element:
    return parse(POLICY / "ConsentDesktop.admx")


@pytest.fixture(scope="module")
def adml() -> etree._Element:
    return parse(POLICY / "en-GB" / "ConsentDesktop.adml")


def policy_value_names(policy: etree._Element) -> list[str]:
    names = [policy.get("valueName")] if policy.get("valueName") else []
    return names + [element.get("valueName", "") for element in policy.iterfind(f"{GP}elements/*")]


@pytest.mark.hazard("HAZ-012")
def test_every_policy_writes_a_known_setting_under_the_policy_key(admx: etree._Element) -> None:
    policies = admx.findall(f"{GP}policies/{GP}policy")
    assert policies
    written: list[str] = []
    for policy in policies:
        assert policy.get("key") == POLICY_KEY
        assert policy.get("class") == "Machine"  # never per user
        names = policy_value_names(policy)
        assert len(names) == 1, policy.get("name")
        written.append(setting_of(names[0]))
    assert len(written) == len(set(written))
    assert set(written) == POLICY_SETTINGS  # every setting Group Policy may set has exactly one policy


def read_from_group_policy(key: str) -> bool:
    """Whether the app takes this setting from a Group Policy value: the real registry layers over a stand-in key."""
    spec = SPECS[key]
    # A value each type accepts: a number for REG_DWORD settings, a full path (fine as text too) for the rest.
    sample = (1, REG_DWORD) if spec.type in (bool, int, float) else (r"C:\ProgramData\NHS", REG_SZ)
    registry = SimpleNamespace(values=lambda wanted: {value_name(key): sample} if wanted == POLICY_KEY else {})
    try:
        settings = load_settings(registry_sources(registry))
    except ConfigError:
        return False
    return settings.source_of(key) == POLICY_SOURCE


@pytest.mark.hazard("HAZ-012")
def test_every_setting_the_app_reads_from_group_policy_has_a_policy_and_no_other(admx: etree._Element) -> None:
    readable = {key for key in SPECS if read_from_group_policy(key)}
    offered = {
        setting_of(name) for policy in admx.iterfind(f"{GP}policies/{GP}policy") for name in policy_value_names(policy)
    }
    assert {"cis2.issuer", "cis2.client_id", "cis2.scopes"} <= readable
    assert readable == offered


@pytest.mark.hazard("HAZ-012")
def test_policy_types_match_the_settings(admx: etree._Element) -> None:
    for policy in admx.findall(f"{GP}policies/{GP}policy"):
        [name] = policy_value_names(policy)
        spec = SPECS[setting_of(name)]
        elements = policy.findall(f"{GP}elements/*")
        if spec.type is bool:  # REG_DWORD 1 / 0
            assert not elements
            assert policy.find(f"{GP}enabledValue/{GP}decimal").get("value") == "1"
            assert policy.find(f"{GP}disabledValue/{GP}decimal").get("value") == "0"
        elif spec.type in (int, float):  # REG_DWORD
            assert [element.tag for element in elements] == [f"{GP}decimal"], name
        else:  # REG_SZ
            [element] = elements
            assert element.tag in (f"{GP}text", f"{GP}enum"), name
            assert element.get("expandable") in (None, "false"), name  # REG_EXPAND_SZ is refused
            if element.tag == f"{GP}enum":
                values = [value.text for value in element.iterfind(f"{GP}item/{GP}value/{GP}string")]
                assert spec.default in values, name
                assert element.findall(f"{GP}item/{GP}value/*") == element.findall(f"{GP}item/{GP}value/{GP}string")


def test_every_string_and_presentation_is_in_the_en_gb_resources(admx: etree._Element, adml: etree._Element) -> None:
    strings = {string.get("id") for string in adml.iterfind(f"{GP}resources/{GP}stringTable/{GP}string")}
    presentations = {
        presentation.get("id"): presentation
        for presentation in adml.iterfind(f"{GP}resources/{GP}presentationTable/{GP}presentation")
    }
    text = etree.tostring(admx, encoding="unicode")
    assert set(re.findall(r"\$\(string\.([^)]+)\)", text)) <= strings
    for policy in admx.findall(f"{GP}policies/{GP}policy"):
        element_ids = {element.get("id") for element in policy.iterfind(f"{GP}elements/*")}
        reference = policy.get("presentation")
        if not element_ids:
            assert reference is None
            continue
        match = re.fullmatch(r"\$\(presentation\.([^)]+)\)", reference or "")
        assert match, policy.get("name")
        presentation = presentations[match.group(1)]
        assert {control.get("refId") for control in presentation} == element_ids
    categories = {category.get("name") for category in admx.iterfind(f"{GP}categories/{GP}category")}
    assert {ref.get("ref") for ref in admx.iter(f"{GP}parentCategory")} <= categories


# --- installers ---------------------------------------------------------------------------------------------------


@INSTALLERS
def test_installer_properties_are_secure_remembered_and_written_under_their_setting_names(path: Path, ns: str) -> None:
    wxs = parse(path)
    secure = {prop.get("Id"): prop for prop in wxs.iter(f"{ns}Property") if prop.get("Secure") == "yes"}
    assert set(secure) == set(INSTALLER_PROPERTIES)
    for prop, key in INSTALLER_PROPERTIES.items():
        [search] = secure[prop].findall(f"{ns}RegistrySearch")
        assert (search.get("Root"), search.get("Key"), search.get("Name")) == ("HKLM", MACHINE_KEY, value_name(key))
    values = list(wxs.iter(f"{ns}RegistryValue"))
    shortcut_key_paths = [value for value in values if value.getparent().find(f"{ns}Shortcut") is not None]
    assert {value.get("Root") for value in values if value not in shortcut_key_paths} == {"HKLM"}
    machine = {value.get("Name"): value for value in values if value.get("Key") == MACHINE_KEY}
    assert {name: value.get("Value") for name, value in machine.items()} == {
        value_name(key): f"[{prop}]" for prop, key in INSTALLER_PROPERTIES.items()
    }
    for name, value in machine.items():
        spec = SPECS[setting_of(name)]
        assert value.get("Type") == ("integer" if spec.type in (bool, int, float) else "string")


def test_both_installers_are_the_same_product() -> None:
    release, smoke = parse(RELEASE_WXS), parse(SMOKE_WXS)
    package = release.find(f"{WIX5}Package")
    product = smoke.find(f"{WIX3}Product")
    assert package.get("Scope") == "perMachine"
    assert product.find(f"{WIX3}Package").get("InstallScope") == "perMachine"
    assert package.get("UpgradeCode") == product.get("UpgradeCode")
    assert package.get("Manufacturer") == product.get("Manufacturer") == "NHS"
    message = "A newer version of Consent Desktop is already installed."
    assert release.find(f".//{WIX5}MajorUpgrade").get("DowngradeErrorMessage") == message
    assert release.find(f".//{WIX5}MajorUpgrade").get("AllowSameVersionUpgrades") == "yes"
    assert smoke.find(f".//{WIX3}MajorUpgrade").get("DowngradeErrorMessage") == message
    [files] = release.iter(f"{WIX5}Files")
    assert files.get("Include") == r"$(var.AppDir)\**"
    shortcuts = [(s.get("Name"), s.get("Target")) for s in release.iter(f"{WIX5}Shortcut")]
    assert shortcuts == [("Consent Desktop", "[INSTALLDIR]ConsentDesktop.exe")]


def test_the_release_installer_keeps_command_line_values_over_remembered_ones_and_clears_on_request() -> None:
    release = parse(RELEASE_WXS)
    set_properties = {(item.get("Id"), item.get("Value")): item for item in release.iter(f"{WIX5}SetProperty")}
    assert not [item for item in release.iter(f"{WIX5}Property") if item.get("Id") == "ClearedValue"]  # formats empty
    for prop in INSTALLER_PROPERTIES:
        saved = f"CMDLINE_{prop}"
        save = set_properties[saved, f"[{prop}]"]
        restore = set_properties[prop, f"[{saved}]"]
        clear = set_properties[prop, "[ClearedValue]"]
        assert save.get("Before") == "AppSearch"
        assert (restore.get("After"), restore.get("Condition")) == ("AppSearch", f'{saved} AND {saved} ~<> "CLEAR"')
        assert (clear.get("After"), clear.get("Condition")) == ("AppSearch", f'{saved} ~= "CLEAR"')
        assert save.get("Sequence") == restore.get("Sequence") == clear.get("Sequence") == "both"


def component_folder(component: etree._Element, ns: str) -> str | None:
    if component.get("Directory"):
        return component.get("Directory")
    for ancestor in component.iterancestors():
        if ancestor.tag in (f"{ns}Directory", f"{ns}DirectoryRef", f"{ns}StandardDirectory"):
            return ancestor.get("Id")
    return None


@INSTALLERS
def test_no_ice38_ice43_or_ice57_pattern(path: Path, ns: str) -> None:
    wxs = parse(path)
    shortcuts = list(wxs.iter(f"{ns}Shortcut"))
    assert shortcuts
    assert all(shortcut.get("Advertise", "no") == "no" for shortcut in shortcuts)  # advertised ones repair per user
    per_user = [c for c in wxs.iter(f"{ns}Component") if component_folder(c, ns) in PER_USER_FOLDERS]
    assert {shortcut.getparent() for shortcut in shortcuts} <= set(per_user)
    for component in per_user:
        # ICE38/ICE43: the key path is an HKCU value; ICE57: nothing per-machine (no file, no HKLM value) beside it.
        assert component.get("KeyPath") != "yes", component.get("Id")
        assert not component.findall(f"{ns}File"), component.get("Id")
        [key_path] = [value for value in component.iter(f"{ns}RegistryValue") if value.get("KeyPath") == "yes"]
        assert {value.get("Root") for value in component.iter(f"{ns}RegistryValue")} == {"HKCU"}, component.get("Id")
        assert key_path.getparent() is component


@INSTALLERS
def test_add_remove_programs_entry(path: Path, ns: str) -> None:
    wxs = parse(path)
    properties = {item.get("Id"): item.get("Value") for item in wxs.iter(f"{ns}Property")}
    assert properties["ARPNOMODIFY"] == "1"  # no features or UI to change
    assert "ARPNOREPAIR" not in properties  # repair rewrites files and remembered settings
    assert properties["ARPHELPLINK"] == properties["ARPURLINFOABOUT"] == "$(var.HelpUrl)"
    if ns == WIX5:
        [location] = [item for item in wxs.iter(f"{ns}SetProperty") if item.get("Id") == "ARPINSTALLLOCATION"]
        assert (location.get("Value"), location.get("After")) == ("[INSTALLDIR]", "CostFinalize")
    else:  # wixl: a set-property action with an explicit sequence number after CostFinalize (1000)
        [action] = [item for item in wxs.iter(f"{ns}CustomAction") if item.get("Property") == "ARPINSTALLLOCATION"]
        assert action.get("Value") == "[INSTALLDIR]"
        [step] = [item for item in wxs.iter(f"{ns}Custom") if item.get("Action") == action.get("Id")]
        assert 1000 < int(step.get("Sequence", "0")) < 1400  # after CostFinalize, before InstallValidate


# --- the release workflow -------------------------------------------------------------------------------------


def test_the_release_workflow_validates_the_msi_and_fails_on_undocumented_ice_messages() -> None:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["msi"]["steps"]
    names = [step.get("name", "") for step in steps]
    build = names.index("Build the MSI")
    [validate] = [index for index, step in enumerate(steps) if "wix msi validate" in step.get("run", "")]
    upload = names.index("Upload the MSI")
    assert build < validate < upload
    script = steps[validate]["run"]
    assert "ConsentDesktop-${{ steps.version.outputs.version }}.msi" in script
    assert "$LASTEXITCODE" in script  # an ICE error fails the step
    accepted = re.findall(r"'(ICE\d+)'\s*=", script)  # the ICE warnings the step lets through
    doc = PACKAGING_DOC.read_text()
    for ice in accepted:
        assert re.search(rf"\b{ice}\b", doc), (
            f"{ice} is accepted by the workflow but not explained in docs/packaging.md"
        )
    assert not {"ICE38", "ICE43", "ICE57"} & set(accepted)


# --- the audit folder ---------------------------------------------------------------------------------------------

DELETE, WRITE_DAC, WRITE_OWNER, FILE_DELETE_CHILD = 0x10000, 0x40000, 0x80000, 0x40


def folder_path(wxs: etree._Element, ns: str, directory_id: str) -> list[str]:
    """A directory's names from the standard folder it sits in down to it."""
    parents = {child: parent for parent in wxs.iter() for child in parent}
    names: list[str] = []
    element = next(d for d in wxs.iter(f"{ns}Directory") if d.get("Id") == directory_id)
    while element.tag in (f"{ns}Directory", f"{ns}StandardDirectory") and element.get("Id") != "TARGETDIR":
        names.insert(0, element.get("Name") or element.get("Id", ""))
        element = parents[element]
    return names


@pytest.mark.hazard("HAZ-014")
@pytest.mark.parametrize(("path", "ns"), [(RELEASE_WXS, WIX5), (SMOKE_WXS, WIX3)], ids=["release", "smoke"])
def test_both_installers_make_the_audit_folder_where_the_app_looks_for_it(path: Path, ns: str) -> None:
    # platformdirs' site data folder on Windows is <CommonAppData>\<author>\<name>; the app adds AUDIT_FOLDER
    assert folder_path(parse(path), ns, "AUDITDIR") == ["CommonAppDataFolder", APP_AUTHOR, APP_NAME, AUDIT_FOLDER]


def folder_access_rights(directory_id: str) -> dict[str, tuple[str, int]]:
    """The release installer's protected DACL for one folder: trustee -> (inheritance flags, access mask)."""
    wxs = parse(RELEASE_WXS)
    [folder] = (d for d in wxs.iter(f"{WIX5}Directory") if d.get("Id") == directory_id)
    [permission] = (p for p in folder.iter(f"{WIX5}PermissionEx") if p.getparent().getparent().getparent() is folder)
    sddl = permission.get("Sddl", "")
    assert sddl.startswith("D:PAI(")  # protected: nothing inherited from ProgramData (CREATOR OWNER, Users' rights)
    aces = re.findall(r"\(A;([A-Z]*);([^;]+);;;([A-Z]+)\)", sddl)
    assert "".join(f"(A;{f};{r};;;{t})" for f, r, t in aces) == sddl.removeprefix("D:PAI")  # allow entries only
    return {trustee: (flags, int(rights, 16) if rights.startswith("0x") else -1) for flags, rights, trustee in aces}


@pytest.mark.hazard("HAZ-014")
def test_the_release_installer_gives_the_audit_folder_its_own_protected_access_rights() -> None:
    aces = folder_access_rights("AUDITDIR")
    assert set(aces) == {"SY", "BA", "BU", "OW"}  # OWNER RIGHTS: a file's creator gets no more than the rest
    assert aces["SY"] == aces["BA"] == ("OICI", -1)  # FA: full control
    for trustee in ("BU", "OW"):
        flags, mask = aces[trustee]
        assert flags == "OICI" and mask & 0x7  # read, write and append: the audit is appended to by every user
        assert not mask & (DELETE | WRITE_DAC | WRITE_OWNER | FILE_DELETE_CHILD), (
            trustee
        )  # nor replaced, nor re-permitted


@pytest.mark.hazard("HAZ-012")
def test_only_administrators_can_write_the_per_machine_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # Where platformdirs puts the machine config.toml on Windows (CSIDL_COMMON_APPDATA is ProgramData there)
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda csidl: "ProgramData")
    config_dir = Path(platformdirs.windows.Windows(APP_NAME, APP_AUTHOR).site_config_dir)
    assert config_dir.parts == ("ProgramData", APP_AUTHOR, APP_NAME)
    wxs = parse(RELEASE_WXS)
    assert folder_path(wxs, WIX5, "DataDir") == ["CommonAppDataFolder", APP_AUTHOR, APP_NAME]
    [component] = (c for c in wxs.iter(f"{WIX5}ComponentRef") if c.get("Id") == "MachineConfigFolder")
    assert component.getparent().get("Id") == "Main"
    aces = folder_access_rights("DataDir")
    assert set(aces) == {"SY", "BA", "BU"}  # no CREATOR OWNER: a file a user made would be theirs to rewrite
    assert aces["SY"] == aces["BA"] == ("OICI", -1)
    flags, mask = aces["BU"]
    write = 0x2 | 0x4 | 0x10 | 0x100 | DELETE | WRITE_DAC | WRITE_OWNER | FILE_DELETE_CHILD  # data, append, EA, attrs
    assert flags == "OICI" and mask & 0x1 and not mask & write  # users read config.toml and nothing more

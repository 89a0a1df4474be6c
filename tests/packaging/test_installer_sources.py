"""The installer sources and the Group Policy template agree with the app on every registry value name and type."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from consent_desktop.config import APP_AUTHOR, APP_NAME, SPECS
from consent_desktop.config.registry import (
    INSTALLER_PROPERTIES,
    MACHINE_KEY,
    POLICY_KEY,
    POLICY_SETTINGS,
    registry_value_names,
    value_name,
)
from consent_desktop.controller.assembly import AUDIT_FOLDER
from consent_desktop.spine.safe_xml import parse_untrusted
from tests.packaging.conftest import REPO

POLICY = REPO / "packaging" / "windows" / "policy"
GP = "{http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions}"
WIX5 = "{http://wixtoolset.org/schemas/v4/wxs}"
WIX3 = "{http://schemas.microsoft.com/wix/2006/wi}"
RELEASE_WXS = REPO / "packaging" / "windows" / "consent-desktop.wxs"
SMOKE_WXS = REPO / "packaging" / "linux-smoke" / "consent-desktop.wxs"


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


@pytest.mark.parametrize(("path", "ns"), [(RELEASE_WXS, WIX5), (SMOKE_WXS, WIX3)], ids=["release", "smoke"])
def test_installer_properties_are_secure_remembered_and_written_under_their_setting_names(path: Path, ns: str) -> None:
    wxs = parse(path)
    secure = {prop.get("Id"): prop for prop in wxs.iter(f"{ns}Property") if prop.get("Secure") == "yes"}
    assert set(secure) == set(INSTALLER_PROPERTIES)
    for prop, key in INSTALLER_PROPERTIES.items():
        [search] = secure[prop].findall(f"{ns}RegistrySearch")
        assert (search.get("Root"), search.get("Key"), search.get("Name")) == ("HKLM", MACHINE_KEY, value_name(key))
    values = list(wxs.iter(f"{ns}RegistryValue"))
    assert {value.get("Root") for value in values} == {"HKLM"}  # nothing per user
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


def test_the_release_installer_keeps_command_line_values_over_remembered_ones() -> None:
    release = parse(RELEASE_WXS)
    set_properties = {(item.get("Id"), item.get("Value")): item for item in release.iter(f"{WIX5}SetProperty")}
    for prop in INSTALLER_PROPERTIES:
        save = set_properties[f"CMDLINE_{prop}", f"[{prop}]"]
        restore = set_properties[prop, f"[CMDLINE_{prop}]"]
        assert save.get("Before") == "AppSearch"
        assert (restore.get("After"), restore.get("Condition")) == ("AppSearch", f"CMDLINE_{prop}")


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


@pytest.mark.hazard("HAZ-014")
def test_the_release_installer_gives_the_audit_folder_its_own_protected_access_rights() -> None:
    [permission] = parse(RELEASE_WXS).iter(f"{WIX5}PermissionEx")
    sddl = permission.get("Sddl", "")
    assert sddl.startswith("D:PAI(")  # protected: nothing inherited from ProgramData (CREATOR OWNER, Users' rights)
    aces = dict(
        (trustee, (flags, rights)) for flags, rights, trustee in re.findall(r"\(A;([A-Z]*);([^;]+);;;([A-Z]+)\)", sddl)
    )
    assert set(aces) == {"SY", "BA", "BU", "OW"}  # OWNER RIGHTS: a file's creator gets no more than the rest
    assert aces["SY"] == aces["BA"] == ("OICI", "FA")
    for trustee in ("BU", "OW"):
        flags, rights = aces[trustee]
        mask = int(rights, 16)
        assert flags == "OICI" and mask & 0x7  # read, write and append: the audit is appended to by every user
        assert not mask & (DELETE | WRITE_DAC | WRITE_OWNER | FILE_DELETE_CHILD), (
            trustee
        )  # nor replaced, nor re-permitted

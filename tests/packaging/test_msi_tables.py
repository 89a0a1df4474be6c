"""The Linux smoke MSI (wixl), built from the session's frozen app: its tables, read back with ``msiinfo export``.

The release MSI is built from packaging/windows/ with WiX v5 on Windows; this one mirrors it so that Linux CI can
check what a release depends on: per-machine install, upgrade codes, public properties, HKLM values, the
shortcut, the Add/Remove Programs entry and the files. tests/packaging/test_wine_install.py installs it.
"""

from __future__ import annotations

import re
import sys

import pytest

from consent_desktop.config.registry import INSTALLER_PROPERTIES, MACHINE_KEY, registry_value_names, value_name
from tests.packaging.conftest import FREEZE_TIMEOUT, HELP_URL, NEXT_VERSION, VERSION, Msi

pytestmark = [
    pytest.mark.timeout(FREEZE_TIMEOUT + 300),
    pytest.mark.skipif(sys.platform != "linux", reason="the smoke MSI is built with wixl on Linux"),
]
GUID = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$")
ROOT_HKCU = "1"
ROOT_HKLM = "2"


def test_per_machine_with_a_stable_upgrade_code(msi: Msi) -> None:
    properties = msi.properties()
    assert properties["ALLUSERS"] == "1"
    assert properties["UpgradeCode"] == "{F605E6E6-F6EE-46D4-A675-1CD4EFA6F99E}"
    assert GUID.match(properties["ProductCode"])
    assert properties["ProductVersion"] == VERSION
    assert properties["Manufacturer"] == "NHS"
    assert properties["ARPNOMODIFY"] == "1"
    assert properties["ARPPRODUCTICON"] == "ConsentDesktop.exe"
    assert {row["Name"] for row in msi.table("Icon")} == {"ConsentDesktop.exe"}


def test_add_remove_programs_shows_the_install_location_and_support_links(msi: Msi) -> None:
    properties = msi.properties()
    assert properties["ARPHELPLINK"] == properties["ARPURLINFOABOUT"] == HELP_URL
    assert "ARPNOREPAIR" not in properties  # repair is supported: it rewrites files and remembered settings
    # ARPINSTALLLOCATION comes from INSTALLDIR, which is known only once CostFinalize has run.
    [action] = [row for row in msi.table("CustomAction") if row["Source"] == "ARPINSTALLLOCATION"]
    assert (int(action["Type"]) & 0x3F, action["Target"]) == (51, "[INSTALLDIR]")
    execute = {row["Action"]: int(row["Sequence"]) for row in msi.table("InstallExecuteSequence")}
    assert execute["CostFinalize"] < execute[action["Action"]] < execute["InstallValidate"]


def test_public_properties_are_secure(msi: Msi) -> None:
    secure = msi.properties()["SecureCustomProperties"].split(";")
    assert set(INSTALLER_PROPERTIES) <= set(secure)
    assert {"WIX_UPGRADE_DETECTED", "WIX_DOWNGRADE_DETECTED"} <= set(secure)


def test_upgrades_replace_older_and_same_versions_and_downgrades_are_refused(msi: Msi) -> None:
    upgrade_code = msi.properties()["UpgradeCode"]
    rows = {row["ActionProperty"]: row for row in msi.table("Upgrade")}
    assert set(rows) == {"WIX_UPGRADE_DETECTED", "WIX_DOWNGRADE_DETECTED"}
    older = rows["WIX_UPGRADE_DETECTED"]
    assert (older["UpgradeCode"], older["VersionMin"], older["VersionMax"]) == (upgrade_code, "", VERSION)
    assert int(older["Attributes"]) & 0x200  # VersionMaxInclusive: a rebuilt same version replaces the old one
    newer = rows["WIX_DOWNGRADE_DETECTED"]
    assert (newer["UpgradeCode"], newer["VersionMin"], newer["VersionMax"]) == (upgrade_code, VERSION, "")
    assert int(newer["Attributes"]) & 0x2  # OnlyDetect
    conditions = {row["Condition"]: row["Description"] for row in msi.table("LaunchCondition")}
    assert conditions == {"NOT WIX_DOWNGRADE_DETECTED": "A newer version of Consent Desktop is already installed."}
    execute = {row["Action"]: int(row["Sequence"]) for row in msi.table("InstallExecuteSequence")}
    assert execute["InstallValidate"] < execute["RemoveExistingProducts"] < execute["InstallInitialize"]


def test_each_property_is_written_to_hklm_under_its_setting_name(msi: Msi) -> None:
    rows = [row for row in msi.table("Registry") if row["Component_"] == "MachineSettings"]
    assert {row["Root"] for row in rows} == {ROOT_HKLM}
    settings = {row["Name"]: row["Value"] for row in rows if row["Key"] == MACHINE_KEY}
    assert settings == {value_name(key): f"[{prop}]" for prop, key in INSTALLER_PROPERTIES.items()}
    assert set(settings) <= set(registry_value_names().values())
    install = {row["Name"]: row["Value"] for row in rows if row["Key"] == MACHINE_KEY + r"\Install"}
    assert install == {"Version": "[ProductVersion]", "Path": "[INSTALLDIR]"}


def test_each_property_is_remembered_for_upgrades_and_repairs_and_can_be_cleared(msi: Msi) -> None:
    searches = {row["Property"]: row["Signature_"] for row in msi.table("AppSearch")}
    locators = {row["Signature_"]: row for row in msi.table("RegLocator")}
    assert set(searches) == set(INSTALLER_PROPERTIES)
    for prop, key in INSTALLER_PROPERTIES.items():
        locator = locators[searches[prop]]
        assert (locator["Root"], locator["Key"], locator["Name"]) == (ROOT_HKLM, MACHINE_KEY, value_name(key))
    actions = {row["Action"]: row for row in msi.table("CustomAction")}
    setting = {(row["Source"], row["Target"]): name for name, row in actions.items()}  # (property, value) → action
    assert "ClearedValue" not in msi.properties()  # never defined, so "[ClearedValue]" formats as empty
    for table in ("InstallExecuteSequence", "InstallUISequence"):
        sequence = {row["Action"]: row for row in msi.table(table)}
        app_search = int(sequence["AppSearch"]["Sequence"])
        launch_conditions = int(sequence["LaunchConditions"]["Sequence"])
        for prop in INSTALLER_PROPERTIES:
            saved = f"CMDLINE_{prop}"
            save, restore = setting[saved, f"[{prop}]"], setting[prop, f"[{saved}]"]
            clear = setting[prop, "[ClearedValue]"]
            assert all(int(actions[action]["Type"]) & 0x3F == 51 for action in (save, restore, clear))  # set property
            assert int(sequence[save]["Sequence"]) < app_search, (table, save)
            for action in (restore, clear):
                assert app_search < int(sequence[action]["Sequence"]) < launch_conditions, (table, action)
            assert sequence[restore]["Condition"] == f'{saved} AND {saved} ~<> "CLEAR"'
            assert sequence[clear]["Condition"] == f'{saved} ~= "CLEAR"'


def test_start_menu_shortcut_starts_the_installed_program(msi: Msi) -> None:
    [shortcut] = msi.table("Shortcut")
    assert (shortcut["Directory_"], shortcut["Name"]) == ("ProgramMenuFolder", "Consent Desktop")
    executable = "ConsentDesktop.exe" if (msi.onedir / "ConsentDesktop.exe").is_file() else "ConsentDesktop"
    assert shortcut["Target"] == f"[INSTALLDIR]{executable}"  # a path, not a feature: not advertised
    assert shortcut["WkDir"] == "INSTALLDIR"
    # The target is a file the MSI installs into INSTALLDIR itself.
    directories = {row["Directory"]: row for row in msi.table("Directory")}
    components = {row["Component"]: row for row in msi.table("Component")}
    [exe] = [row for row in msi.table("File") if row["FileName"] == executable]
    folder = directories[components[exe["Component_"]]["Directory_"]]
    assert (folder["Directory_Parent"], folder["DefaultDir"]) == ("INSTALLDIR", ".")
    install_dir = directories["INSTALLDIR"]
    assert install_dir["DefaultDir"] == "Consent Desktop"
    assert directories[install_dir["Directory_Parent"]]["Directory_Parent"] == "ProgramFiles64Folder"


def test_the_shortcut_component_holds_only_the_shortcut_and_its_hkcu_key_path(msi: Msi) -> None:
    # ICE38 and ICE43: a component in the (per-user) Start menu is kept by an HKCU value; ICE57: nothing
    # per-machine beside it.
    [shortcut] = msi.table("Shortcut")
    [component] = [row for row in msi.table("Component") if row["Component"] == shortcut["Component_"]]
    registry = [row for row in msi.table("Registry") if row["Component_"] == component["Component"]]
    assert [(row["Root"], row["Registry"]) for row in registry] == [(ROOT_HKCU, component["KeyPath"])]
    assert not [row for row in msi.table("File") if row["Component_"] == component["Component"]]


def test_every_file_of_the_frozen_app_is_installed_64_bit(msi: Msi) -> None:
    files = msi.table("File")
    # Linux builds link some Qt libraries into _internal; a Windows build has no links, and the MSI none either.
    on_disk = [path for path in msi.onedir.rglob("*") if path.is_file() and not path.is_symlink()]
    assert len(files) == len(on_disk)
    assert sorted(row["FileName"] for row in files) == sorted(path.name for path in on_disk)
    components = {row["Component"]: int(row["Attributes"]) for row in msi.table("Component")}
    assert all(components[row["Component_"]] & 0x100 for row in files)  # msidbComponentAttributes64bit
    assert components["MachineSettings"] == components["StartMenuShortcut"] == 0x100 | 0x4  # 64-bit, registry key path


def test_each_build_has_a_new_product_code_and_the_same_upgrade_code(msi: Msi, next_msi: Msi) -> None:
    later, first = next_msi.properties(), msi.properties()
    assert later["UpgradeCode"] == first["UpgradeCode"]
    assert GUID.match(later["ProductCode"])
    assert later["ProductCode"] != first["ProductCode"]
    assert later["ProductVersion"] == NEXT_VERSION

r"""The smoke MSI installed as an IT team would, under Wine in a throwaway prefix: a silent install with properties,
the files, the HKLM values, the shortcut and the Add/Remove Programs entry, the installed copy's self-test, a
major upgrade that keeps, replaces and clears remembered values, a refused downgrade, and an uninstall that leaves
nothing behind.

Wine's msiexec runs the MSI's tables as Windows Installer does. The payload is the Linux-frozen app, so the
installed copy's self-test runs natively from the prefix's install folder. What only Windows can show (the
windowed .exe, the app reading the real registry, repair, ICE validation, signing) the Windows workflow checks
(packaging/windows/test-install.ps1).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import LnkParse3
import pytest

from consent_desktop.config.registry import INSTALLER_PROPERTIES, MACHINE_KEY, value_name
from tests.packaging.conftest import FREEZE_TIMEOUT, HELP_URL, NEXT_VERSION, VERSION, Msi

pytestmark = [
    pytest.mark.timeout(FREEZE_TIMEOUT + 600),
    pytest.mark.skipif(sys.platform != "linux", reason="Wine runs the MSI on Linux; Windows runs test-install.ps1"),
]
INSTALL_DIR = "C:\\Program Files\\NHS\\Consent Desktop\\"
PRODUCT = "Consent Desktop"
UNINSTALL_KEY = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall"
ERROR_INSTALL_FAILURE = 1603 % 256  # msiexec's exit code, as Wine hands it on: a Unix exit status has 8 bits
WINE_TIMEOUT = 300

# msiexec stores each value as given (what it means is the app's business): spaces and backslashes must survive.
GIVEN = {prop: f"C:\\Example Folder\\{prop.lower()}" for prop in INSTALLER_PROPERTIES}
NOT_GIVEN = list(INSTALLER_PROPERTIES)[-1]  # left off the first install: written as empty, "not set"
NEW_ENDPOINT = "https://spine2.example.nhs.uk/sync"
UPGRADE_ARGUMENTS = {"SPINE_ENDPOINT": NEW_ENDPOINT, "CLIENT_CERT": "CLEAR", "CIS2_ISSUER": "clear", NOT_GIVEN: "late"}


def windows_path(path: Path) -> str:
    return "Z:" + str(path).replace("/", "\\")  # Wine maps Z: to /


class WinePrefix:
    """A Wine prefix of its own, headless, with its wineserver kept running until ``close``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "prefix"
        self.env = {
            **{name: value for name, value in os.environ.items() if name not in ("DISPLAY", "WAYLAND_DISPLAY")},
            "WINEPREFIX": str(self.path),
            "WINEARCH": "win64",
            "WINEDEBUG": "-all",
            "WINEDLLOVERRIDES": "mscoree,mshtml=",  # no Mono or Gecko: nothing offers to download them
        }

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        # Output goes to files, not pipes: Wine's helper processes may outlive a command and would hold a pipe open.
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            done = subprocess.run(
                command, env=self.env, stdout=out, stderr=err, timeout=WINE_TIMEOUT, check=False, cwd=self.root
            )
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(command, done.returncode, out.read(), err.read())

    def boot(self) -> None:
        self.path.mkdir()
        # One server for the whole run (each Wine command would otherwise start its own): started first, so
        # that it is this run's and no other.
        started = self.run("wineserver", "--persistent")
        assert started.returncode == 0, started.stderr
        booted = self.run("wine", "wineboot", "--init")
        assert booted.returncode == 0, booted.stderr

    def close(self) -> None:
        self.run("wineserver", "--kill")  # this prefix's server and its processes only
        shutil.rmtree(self.path, ignore_errors=True)

    def msiexec(self, *arguments: str, log: str) -> int:
        return self.run("wine", "msiexec", *arguments, "/qn", "/l*v", windows_path(self.root / log)).returncode

    def registry(self, key: str) -> dict[str, dict[str, tuple[str, str]]]:
        """Every key under ``key`` (itself included) → its values, name → (REG_* type, data); {} if absent."""
        found = self.run("wine", "reg", "query", key, "/s")
        if found.returncode != 0:  # absent, and nothing else: a broken Wine must not pass for a clean uninstall
            assert "Unable to find the specified registry key" in found.stdout + found.stderr, found
            return {}
        keys: dict[str, dict[str, tuple[str, str]]] = {}
        values: dict[str, tuple[str, str]] = {}
        for line in found.stdout.splitlines():
            if line.startswith("HKEY_"):
                values = keys.setdefault(line.strip(), {})
            elif line.startswith("    ") and line.strip():
                name, kind, *data = line.strip().split("    ", 2)
                values[name] = (kind, data[0] if data else "")
        return keys

    def windows(self, path: str) -> Path:
        """The file behind a C:\\ path."""
        return self.path / "drive_c" / path.removeprefix("C:\\").replace("\\", "/")


@dataclass(frozen=True)
class State:
    """What an IT team would look at after one msiexec run."""

    exit_code: int
    machine: Mapping[str, tuple[str, str]]  # HKLM\Software\NHS\ConsentDesktop
    bookkeeping: Mapping[str, tuple[str, str]]  # ...\Install
    per_user: Mapping[str, tuple[str, str]]  # HKCU\Software\NHS\ConsentDesktop\Install: the shortcut's key path
    vendor_keys: tuple[str, ...]  # every key under HKLM\Software\NHS and HKCU\Software\NHS
    entries: tuple[Mapping[str, tuple[str, str]], ...]  # Add/Remove Programs entries for the product
    files: frozenset[str]  # under the install folder, relative, with /
    shortcuts: tuple[Path, ...]


def state_after(wine: WinePrefix, exit_code: int) -> State:
    machine = wine.registry(r"HKLM\Software\NHS")
    per_user = wine.registry(r"HKCU\Software\NHS")
    install_dir = wine.windows(INSTALL_DIR)
    # Wine puts ProgramMenuFolder in the installing user's Start menu even when ALLUSERS=1 (a FIXME in its msi
    # package.c); Windows uses the all-users one (ProgramData), which test-install.ps1 checks.
    start_menus = [
        *wine.path.glob("drive_c/users/*/AppData/Roaming/Microsoft/Windows/Start Menu/Programs"),
        wine.path / "drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs",
    ]
    return State(
        exit_code=exit_code,
        machine=machine.get(rf"HKEY_LOCAL_MACHINE\{MACHINE_KEY}", {}),
        bookkeeping=machine.get(rf"HKEY_LOCAL_MACHINE\{MACHINE_KEY}\Install", {}),
        per_user=per_user.get(rf"HKEY_CURRENT_USER\{MACHINE_KEY}\Install", {}),
        vendor_keys=(*machine, *per_user),
        entries=tuple(
            values
            for values in wine.registry(UNINSTALL_KEY).values()
            if values.get("DisplayName", ("", ""))[1] == PRODUCT
        ),
        files=frozenset(path.relative_to(install_dir).as_posix() for path in install_dir.rglob("*") if path.is_file()),
        shortcuts=tuple(shortcut for folder in start_menus for shortcut in folder.glob(f"{PRODUCT}.lnk")),
    )


def properties(values: Mapping[str, str]) -> list[str]:
    return [f"{prop}={value}" for prop, value in values.items()]


def settings_written(values: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    return {value_name(key): ("REG_SZ", values.get(prop, "")) for prop, key in INSTALLER_PROPERTIES.items()}


def onedir_files(msi: Msi) -> frozenset[str]:
    # Regular files only: the MSI carries no links (a Linux build links some Qt libraries into _internal).
    return frozenset(
        path.relative_to(msi.onedir).as_posix()
        for path in msi.onedir.rglob("*")
        if path.is_file() and not path.is_symlink()
    )


# --- one prefix, taken through install, upgrade, downgrade and uninstall ---------------------------------------


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WinePrefix]:
    for tool in ("wine", "wineserver"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (Debian packages wine and wine64; see scripts/bootstrap.sh)")
    prefix = WinePrefix(tmp_path_factory.mktemp("wine"))
    try:
        prefix.boot()
        yield prefix
    finally:
        prefix.close()


@dataclass(frozen=True)
class Installed:
    state: State
    selftest: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def installed(wine: WinePrefix, msi: Msi) -> Installed:
    first = {prop: value for prop, value in GIVEN.items() if prop != NOT_GIVEN}
    state = state_after(wine, wine.msiexec("/i", windows_path(msi.path), *properties(first), log="install.log"))
    executable = wine.windows(INSTALL_DIR) / "ConsentDesktop"
    # A Linux ELF: Windows files have no execute bit, so Wine writes none. Everything else only needs reading.
    executable.chmod(0o755)
    selftest = subprocess.run(
        [str(executable), "--selftest"],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Installed(state, selftest)


@pytest.fixture(scope="module")
def upgraded(wine: WinePrefix, installed: Installed, next_msi: Msi) -> State:
    upgrade = wine.msiexec("/i", windows_path(next_msi.path), *properties(UPGRADE_ARGUMENTS), log="upgrade.log")
    return state_after(wine, upgrade)


@pytest.fixture(scope="module")
def downgraded(wine: WinePrefix, upgraded: State, msi: Msi) -> State:
    return state_after(wine, wine.msiexec("/i", windows_path(msi.path), log="downgrade.log"))


@pytest.fixture(scope="module")
def uninstalled(wine: WinePrefix, downgraded: State, next_msi: Msi) -> State:
    return state_after(wine, wine.msiexec("/x", windows_path(next_msi.path), log="uninstall.log"))


# --- install ----------------------------------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-012")
def test_a_silent_install_writes_each_property_to_hklm_as_given(installed: Installed) -> None:
    state = installed.state
    assert state.exit_code == 0
    assert state.machine == settings_written({prop: value for prop, value in GIVEN.items() if prop != NOT_GIVEN})
    assert state.bookkeeping == {"Version": ("REG_SZ", VERSION), "Path": ("REG_SZ", INSTALL_DIR)}


def test_every_file_of_the_frozen_app_is_installed(installed: Installed, msi: Msi) -> None:
    assert installed.state.files == onedir_files(msi)


def test_the_start_menu_shortcut_starts_the_installed_program(installed: Installed) -> None:
    [shortcut] = installed.state.shortcuts
    with shortcut.open("rb") as link:
        target = LnkParse3.lnk_file(link).get_json()
    assert target["link_info"]["local_base_path"] == INSTALL_DIR + "ConsentDesktop"
    assert target["data"]["working_directory"] == INSTALL_DIR
    assert "IsUnicode" in target["header"]["link_flags"]
    assert installed.state.per_user == {"StartMenuShortcut": ("REG_DWORD", "0x1")}  # its component's key path


def test_add_remove_programs_shows_the_product_its_location_and_support(installed: Installed) -> None:
    [entry] = installed.state.entries
    assert entry["Publisher"] == ("REG_SZ", "NHS")
    assert entry["DisplayVersion"] == ("REG_SZ", VERSION)
    assert entry["InstallLocation"] == ("REG_SZ", INSTALL_DIR)
    assert entry["HelpLink"] == entry["URLInfoAbout"] == ("REG_SZ", HELP_URL)
    assert entry["NoModify"] == ("REG_DWORD", "0x1")  # no Change button: there is nothing to change
    assert "NoRepair" not in entry  # Repair stays: it puts back files and remembered settings


def test_the_installed_copy_passes_its_self_test(installed: Installed) -> None:
    result = installed.selftest
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Consent Desktop self-test (frozen build, Python 3.")
    assert lines[-1].startswith("self-test passed: ")


# --- upgrade, downgrade, uninstall --------------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-012")
def test_an_upgrade_keeps_remembered_values_takes_new_ones_and_clears_on_request(upgraded: State, msi: Msi) -> None:
    assert upgraded.exit_code == 0
    expected = {**GIVEN, "SPINE_ENDPOINT": NEW_ENDPOINT, "CLIENT_CERT": "", "CIS2_ISSUER": "", NOT_GIVEN: "late"}
    assert upgraded.machine == settings_written(expected)
    assert upgraded.bookkeeping["Version"] == ("REG_SZ", NEXT_VERSION)
    assert [entry["DisplayVersion"] for entry in upgraded.entries] == [("REG_SZ", NEXT_VERSION)]  # replaced
    assert upgraded.files == onedir_files(msi)
    assert len(upgraded.shortcuts) == 1


def test_a_downgrade_is_refused_and_changes_nothing(upgraded: State, downgraded: State) -> None:
    assert downgraded.exit_code == ERROR_INSTALL_FAILURE  # "A newer version ... is already installed."
    assert downgraded == State(**{**vars(upgraded), "exit_code": ERROR_INSTALL_FAILURE})


def test_an_uninstall_leaves_no_files_keys_shortcut_or_entry(wine: WinePrefix, uninstalled: State) -> None:
    assert uninstalled.exit_code == 0
    assert not wine.windows(INSTALL_DIR).parent.exists()  # ...\NHS, not just ...\NHS\Consent Desktop
    # The audit folder goes while it is empty (nothing was audited here); Wine leaves its empty parents.
    assert not wine.windows("C:\\ProgramData\\NHS\\consent-desktop\\audit").exists()
    assert uninstalled.vendor_keys == ()  # HKLM and HKCU Software\NHS are gone, not just emptied
    assert uninstalled.entries == ()
    assert uninstalled.shortcuts == ()

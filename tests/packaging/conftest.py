"""One PyInstaller build per test session, and the smoke MSIs built from it, shared by the frozen-app, MSI-table and
Wine install tests (a build takes tens of seconds)."""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import consent_desktop

REPO = Path(__file__).resolve().parents[2]
FREEZE_TIMEOUT = 900  # seconds; a build takes about 25 s on an idle 2-core machine
BUILD_MSI = REPO / "packaging" / "linux-smoke" / "build-msi.sh"
VERSION = "0.1.0"  # the smoke MSI's version; NEXT_VERSION is a later build of the same app, for upgrades
NEXT_VERSION = "0.1.1"
HELP_URL = "https://support.example.nhs.uk/consent-desktop"  # what Add/Remove Programs links to


@dataclass(frozen=True)
class FrozenApp:
    folder: Path  # the onedir
    executable: Path
    expected_modules: int  # modules of the app in the source tree when it was frozen


def app_module_count() -> int:
    names = [info.name for info in pkgutil.walk_packages(consent_desktop.__path__, "consent_desktop.")]
    return 1 + sum(1 for name in names if not name.endswith(".__main__"))  # 1: the package itself


@pytest.fixture(scope="session")
def frozen_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrozenApp]:
    root = tmp_path_factory.mktemp("freeze")
    expected = app_module_count()
    env = {**os.environ, "DIST_DIR": str(root / "dist"), "BUILD_DIR": str(root / "build"), "PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", str(REPO / "packaging" / "freeze.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=FREEZE_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"freezing failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    folder = root / "dist" / "ConsentDesktop"
    yield FrozenApp(folder, folder / ("ConsentDesktop.exe" if sys.platform == "win32" else "ConsentDesktop"), expected)


@dataclass(frozen=True)
class Msi:
    path: Path
    onedir: Path

    def table(self, name: str) -> list[dict[str, str]]:
        # msiinfo writes a table's binary streams (the Icon table's icons) into the working directory.
        exported = subprocess.run(
            ["msiinfo", "export", str(self.path), name],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            cwd=self.path.parent,
        ).stdout
        lines = exported.replace("\r\n", "\n").rstrip("\n").split("\n")
        columns = lines[0].split("\t")
        # Line 2 holds the column types, line 3 the table name and its key columns.
        return [dict(zip(columns, line.split("\t"), strict=True)) for line in lines[3:]]

    def properties(self) -> dict[str, str]:
        return {row["Property"]: row["Value"] for row in self.table("Property")}


def build_msi(onedir: Path, output: Path, version: str) -> Msi:
    for tool in ("wixl", "wixl-heat", "msiinfo", "msibuild"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed (Debian packages wixl and msitools; see scripts/bootstrap.sh)")
    result = subprocess.run(
        ["bash", str(BUILD_MSI), str(onedir), str(output), version],
        env={**os.environ, "HELP_URL": HELP_URL},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return Msi(output, onedir)


@pytest.fixture(scope="session")
def msi(frozen_app: FrozenApp, tmp_path_factory: pytest.TempPathFactory) -> Msi:
    return build_msi(frozen_app.folder, tmp_path_factory.mktemp("msi") / "ConsentDesktop.msi", VERSION)


@pytest.fixture(scope="session")
def next_msi(frozen_app: FrozenApp, tmp_path_factory: pytest.TempPathFactory) -> Msi:
    return build_msi(frozen_app.folder, tmp_path_factory.mktemp("msi") / "ConsentDesktop-next.msi", NEXT_VERSION)

"""One PyInstaller build per test session, shared by the frozen-app and MSI tests (a build takes tens of seconds)."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import consent_desktop

REPO = Path(__file__).resolve().parents[2]
FREEZE_TIMEOUT = 900  # seconds; a build takes about 25 s on an idle 2-core machine


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

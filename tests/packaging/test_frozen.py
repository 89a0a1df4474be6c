"""The PyInstaller build: the frozen program's self-test passes, with every module of the app inside it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from consent_desktop import selftest
from consent_desktop.spine import schemas
from tests.packaging.conftest import FREEZE_TIMEOUT, FrozenApp

pytestmark = [
    pytest.mark.timeout(FREEZE_TIMEOUT + 120),
    pytest.mark.skipif(sys.platform != "linux", reason="the Windows workflow checks the Windows build"),
]


def run_frozen(app: FrozenApp, *args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **environ}
    return subprocess.run(
        [str(app.executable), *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


@pytest.mark.hazard("HAZ-012")
def test_the_frozen_self_test_passes(frozen_app: FrozenApp) -> None:
    result = run_frozen(frozen_app, "--selftest")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Consent Desktop self-test (frozen build, Python 3.")
    assert lines[-1] == "self-test passed: 6 checks"
    assert f"ok    schemas    {len(schemas.message_names())} Spine schemas compiled" in lines
    assert f"ok    libraries  {len(selftest.RUNTIME_LIBRARIES)} imported" in lines
    assert any(line.startswith("ok    pdf        printed a ") for line in lines)
    resources = Path(selftest.__file__).parent / "resources"
    packaged = sum(1 for path in resources.rglob("*") if path.is_file()) if resources.is_dir() else 0
    assert (f"ok    resources  {packaged} loaded" if packaged else "ok    resources  none packaged") in lines


@pytest.mark.hazard("HAZ-012")
def test_every_module_of_the_app_was_frozen(frozen_app: FrozenApp) -> None:
    result = run_frozen(frozen_app, "--selftest")
    imported = re.search(r"^ok    modules    (\d+) imported$", result.stdout, re.MULTILINE)
    assert imported is not None, result.stdout
    assert int(imported.group(1)) == frozen_app.expected_modules


def test_the_frozen_program_runs_diagnose(frozen_app: FrozenApp, tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "user"), "XDG_CONFIG_DIRS": str(tmp_path / "machine")}
    result = run_frozen(frozen_app, "--diagnose", CONSENT_DESKTOP__AUTH__ODS_CODE="A12345", **env)
    assert result.returncode == 1, result.stdout + result.stderr  # unconfigured: the checks fail and say so
    lines = result.stdout.splitlines()
    assert lines[0] == "Settings (value, and where it came from):"
    assert any(line.split() == ["auth.ods_code", "A12345", "[environment]"] for line in lines), lines
    assert "Checks:" in lines


def test_the_build_carries_its_data_and_leaves_out_the_gtk_theme(frozen_app: FrozenApp) -> None:
    internal = frozen_app.folder / "_internal"
    xsds = list((internal / "consent_desktop" / "spine" / "schemas" / "omvt").rglob("*.xsd"))
    source_xsds = list((Path(schemas.__file__).parent / "schemas" / "omvt").rglob("*.xsd"))
    assert len(xsds) == len(source_xsds) > 0
    plugins = internal / "PySide6" / "Qt" / "plugins"
    assert (plugins / "platforms" / "libqoffscreen.so").is_file()
    assert (plugins / "printsupport").is_dir()
    assert not list(internal.rglob("libqgtk3.so"))
    assert not list(internal.glob("libgtk-3.so*"))

"""The frozen program's own checks, run from source: the self-test (what it prints and when it fails) and
``--diagnose`` (the frozen build's runs are in test_frozen.py)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from consent_desktop import selftest
from consent_desktop.spine import schemas
from tests.packaging.conftest import REPO

ENTRY = REPO / "packaging" / "entry.py"


def run_python(*args: str, cwd: Path | None = None, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **environ}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd, check=False
    )


def one_pixel_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def test_every_check_passes_from_source() -> None:
    result = run_python(str(ENTRY), "--selftest")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Consent Desktop self-test (from source, Python 3.")
    for check in ("modules", "libraries", "schemas", "qt", "resources", "pdf"):
        assert any(line.startswith(f"ok    {check}") for line in lines), result.stdout
    assert f"{len(schemas.message_names())} Spine schemas compiled" in result.stdout
    assert "platform offscreen" in result.stdout
    assert lines[-1] == "self-test passed: 6 checks"


@pytest.mark.hazard("HAZ-012")
def test_a_missing_library_fails_the_self_test_and_is_named() -> None:
    script = (
        "import sys; from consent_desktop import selftest; "
        "selftest.RUNTIME_LIBRARIES += ('consent_desktop_no_such_library',); sys.exit(selftest.run())"
    )
    result = run_python("-c", script)
    assert result.returncode == 1
    total = len(selftest.RUNTIME_LIBRARIES) + 1
    assert f"FAIL  libraries  1 of {total} libraries failed to import" in result.stdout
    assert "consent_desktop_no_such_library: ModuleNotFoundError" in result.stdout
    assert result.stdout.splitlines()[-1] == "self-test FAILED: libraries"


def test_resources_are_loaded_and_a_broken_image_is_reported(tmp_path: Path) -> None:
    resources = tmp_path / "resources"
    (resources / "icons").mkdir(parents=True)
    (resources / "icons" / "app.png").write_bytes(one_pixel_png())
    (resources / "icons" / "broken.svg").write_text("this is not an image", encoding="utf-8")
    (resources / "about.txt").write_text("Consent Desktop", encoding="utf-8")
    script = (
        "import pathlib, sys; from consent_desktop import selftest; "
        "selftest.files = lambda package: pathlib.Path(sys.argv[1]); sys.exit(selftest.run())"
    )
    result = run_python("-c", script, str(tmp_path))
    assert result.returncode == 1
    assert "FAIL  resources  1 of 3 resources failed to load" in result.stdout
    assert "broken.svg: " in result.stdout
    (resources / "icons" / "broken.svg").unlink()
    result = run_python("-c", script, str(tmp_path))
    assert result.returncode == 0, result.stdout
    assert "ok    resources  2 loaded" in result.stdout


def test_the_report_can_go_to_a_file(tmp_path: Path) -> None:
    report = tmp_path / "selftest.txt"
    result = run_python(str(ENTRY), "--selftest", str(report))
    assert result.returncode == 0
    assert result.stdout == ""
    assert report.read_text(encoding="utf-8").splitlines()[-1] == "self-test passed: 6 checks"


@pytest.mark.parametrize("check", ["--selftest", "--diagnose"])
def test_unexpected_arguments_are_refused(check: str) -> None:
    result = run_python(str(ENTRY), check, "a", "b")
    assert result.returncode == 2
    assert f"usage: ConsentDesktop {check} [REPORT-FILE]" in result.stderr


def isolated_settings(tmp_path: Path) -> dict[str, str]:
    """No per-user or per-machine file but the test's own (platformdirs reads the XDG variables)."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "user"), "XDG_CONFIG_DIRS": str(tmp_path / "machine")}


@pytest.mark.hazard("HAZ-012")
def test_diagnose_reports_every_setting_and_where_it_came_from_to_a_file(tmp_path: Path) -> None:
    report = tmp_path / "diagnose.txt"
    result = run_python(
        str(ENTRY), "--diagnose", str(report), CONSENT_DESKTOP__AUTH__ODS_CODE="A12345", **isolated_settings(tmp_path)
    )
    assert result.returncode == 1  # nothing else is configured: the checks fail, and say so
    assert result.stdout == ""
    lines = report.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Settings (value, and where it came from):"
    assert any(line.split() == ["auth.ods_code", "A12345", "[environment]"] for line in lines), lines
    assert any(line.split() == ["spine.read_timeout", "30.0", "[default]"] for line in lines), lines
    assert "  FAIL  client certificate (tls.client_cert): not configured" in lines

"""The traceability check itself (tests/hazards.py), run as CI runs it: pytest in a fresh process, on a small
project with its own hazard log, so every verdict below is what a real run would print and exit with."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
LOG = """\
# Hazard log (test copy)

## Risk matrix
Text that mentions HAZ-003 is not a hazard: only headings are.

### HAZ-001 — Wrong patient shown
### HAZ-002: Consent shown wrongly
"""


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def project(tmp_path: Path, tests: str, *, log: str | None = LOG) -> Path:
    root = tmp_path / "project"
    (root / "checks").mkdir(parents=True)
    (root / "pytest.ini").write_text(
        "[pytest]\ntestpaths = checks\naddopts = --strict-markers -p no:cacheprovider\n"
        "markers =\n    hazard(*ids): hazards\n"
    )
    (root / "checks" / "test_controls.py").write_text("import pytest\n\n" + textwrap.dedent(tests))
    if log is not None:
        (root / "docs" / "safety").mkdir(parents=True)
        (root / "docs" / "safety" / "hazard-log.md").write_text(log, encoding="utf-8")
    return root


def pytest_in(root: Path, *args: str) -> Run:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    environment.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.hazards", *args],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


BOTH_PROVEN = """
@pytest.mark.hazard("HAZ-001")
@pytest.mark.parametrize("case", [1, 2])
def test_number_checked(case):
    pass

@pytest.mark.hazard("HAZ-001", "HAZ-002")
def test_answer_about_someone_else_refused():
    pass
"""


def test_whole_suite_with_every_hazard_proven_passes_and_prints_the_table(tmp_path: Path) -> None:
    run = pytest_in(project(tmp_path, BOTH_PROVEN))
    assert run.code == 0, run.out
    assert "HAZ-001 Wrong patient shown \u2014 3 of 3 passed" in run.out
    assert "PASSED (2 cases)       checks/test_controls.py::test_number_checked" in run.out
    assert "HAZ-002 Consent shown wrongly \u2014 1 of 1 passed" in run.out
    assert "Every hazard in hazard-log.md has at least one passing test." in run.out


def test_a_hazard_whose_tests_were_only_skipped_or_xfailed_fails_the_run(tmp_path: Path) -> None:
    tests = """
    @pytest.mark.hazard("HAZ-001")
    def test_passes():
        pass

    @pytest.fixture
    def broken():
        raise RuntimeError("set-up failed")

    @pytest.mark.hazard("HAZ-002")
    class TestUnproven:
        def test_needs_a_card(self):
            pytest.skip("no reader")

        @pytest.mark.xfail(reason="known gap")
        def test_known_gap(self):
            assert False

        def test_with_broken_setup(self, broken):
            pass
    """
    run = pytest_in(project(tmp_path, tests))
    assert run.code == 1
    last = run.out.strip().splitlines()[-1]
    assert "1 untested hazard" in last and "1 error" in last
    assert "HAZ-002 Consent shown wrongly \u2014 0 of 3 passed" in run.out  # the class marker reaches each test
    assert "HAZ-002 Consent shown wrongly: no test marked for it passed in this run" in run.out
    for status, name in (("SKIPPED", "test_needs_a_card"), ("SKIPPED", "test_known_gap"), ("ERROR", "test_with")):
        assert any(line.split()[:1] == [status] and name in line for line in run.out.splitlines()), status


def test_a_hazard_with_no_test_at_all_fails_the_whole_suite(tmp_path: Path) -> None:
    tests = """
    @pytest.mark.hazard("HAZ-001")
    def test_passes():
        pass
    """
    run = pytest_in(project(tmp_path, tests))
    assert run.code == 1
    assert "HAZ-002 Consent shown wrongly \u2014 NO TEST" in run.out
    assert run.out.strip().splitlines()[-1].startswith("=") and "1 passed, 1 untested hazard" in run.out


def test_markers_that_do_not_match_the_log_stop_the_run_before_any_test(tmp_path: Path) -> None:
    tests = """
    @pytest.mark.hazard("HAZ-009")
    def test_unknown():
        open("ran", "w").close()

    @pytest.mark.hazard("HAZ-1", 3)
    def test_malformed():
        pass

    @pytest.mark.hazard()
    def test_empty():
        pass
    """
    root = project(tmp_path, tests)
    run = pytest_in(root, "-k", "unknown")  # a narrower selection changes nothing: the marker is still wrong
    assert run.code == pytest.ExitCode.USAGE_ERROR
    assert not (root / "ran").exists()
    assert f"test_unknown: HAZ-009 is not in {root / 'docs' / 'safety' / 'hazard-log.md'}" in run.err
    assert "test_malformed: 'HAZ-1' is not a hazard id (HAZ-nnn)" in run.err
    assert "test_malformed: 3 is not a hazard id (HAZ-nnn)" in run.err
    assert "test_empty: @pytest.mark.hazard() names no hazard" in run.err


def test_a_partial_run_is_judged_only_with_hazards_strict(tmp_path: Path) -> None:
    root = project(tmp_path, BOTH_PROVEN)
    for selection in (["-k", "number_checked"], ["checks/test_controls.py::test_number_checked"]):
        run = pytest_in(root, *selection)
        assert run.code == 0, run.out
        assert "1 hazard not tested by this selection; completeness is judged only when" in run.out
        assert "HAZ-002" not in run.out
        strict = pytest_in(root, *selection, "--hazards-strict")
        assert strict.code == 1
        assert "HAZ-002 Consent shown wrongly \u2014 NO TEST" in strict.out


def test_a_log_that_is_missing_or_repeats_an_id_stops_the_run(tmp_path: Path) -> None:
    missing = pytest_in(project(tmp_path / "a", BOTH_PROVEN, log=None))
    assert missing.code == pytest.ExitCode.USAGE_ERROR and "hazard-log.md cannot be read" in missing.err
    repeated = pytest_in(project(tmp_path / "b", BOTH_PROVEN, log=LOG + "### HAZ-002 — again\n"))
    assert repeated.code == pytest.ExitCode.USAGE_ERROR and "lists HAZ-002 twice" in repeated.err
    elsewhere = tmp_path / "other-log.md"
    elsewhere.write_text("### HAZ-001 — Only this one\n", encoding="utf-8")
    chosen = pytest_in(project(tmp_path / "c", BOTH_PROVEN, log=None), "--hazard-log", str(elsewhere))
    assert chosen.code == pytest.ExitCode.USAGE_ERROR and "HAZ-002 is not in" in chosen.err

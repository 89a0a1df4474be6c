"""Clinical-safety traceability: every hazard in the hazard log is proven by tests that passed in this run.

A test names the hazards it proves with ``@pytest.mark.hazard("HAZ-003", ...)`` (on the test, its class or its
module's ``pytestmark``). This plugin is registered from ``tests/conftest.py`` (``pytest_plugins =
["tests.hazards"]``). It:

- reads the hazard ids from the headings of ``docs/safety/hazard-log.md`` (``### HAZ-003 — title``), or from the
  file given with ``--hazard-log``; a missing log, a log without hazards or a repeated id stops the run;
- stops the run before any test runs (a usage error, exit code 4) when a marker names no hazard, an id not
  shaped ``HAZ-nnn``, or a hazard that is not in the log — whatever ``-k`` or file selection is in force;
- counts a test towards a hazard only when it was collected, selected and passed: its set-up, call and tear-down
  all passed. Skipped, xfailed, xpassed, failed and erroring tests prove nothing;
- prints the hazard → tests table, with each test's result, in the terminal summary;
- fails the run (exit code 1, and "N untested hazards" in the last line) when a hazard in the log has no passing
  test — but only when completeness can be judged: when the whole suite ran, or when ``--hazards-strict`` is
  given.

The whole suite ran when pytest collected its configured ``testpaths`` (no file, directory or node id on the
command line) and nothing was deselected (no ``-k``, ``-m``, ``--deselect``, ``--lf`` or ``--sw`` narrowing) and
tests actually ran (not ``--collect-only``). That is exactly what ``make test`` does (``scripts/test.sh`` runs
``pytest`` with no arguments), so CI enforces completeness without any option. A narrower run prints the table
for the hazards it touched and says that completeness was not judged; add ``--hazards-strict`` to judge it anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DEFAULT_LOG = Path("docs") / "safety" / "hazard-log.md"
HAZARD_ID = re.compile(r"HAZ-\d{3}")
# A hazard is a heading whose first word is its id: "### HAZ-003 — Change reported saved but not saved".
_HEADING = re.compile(r"^#{2,4}\s+(HAZ-\d{3})\b[\s:\u2014\u2013-]*(.*?)\s*$")


@dataclass(frozen=True)
class Hazard:
    id: str
    title: str


def read_hazard_log(path: Path) -> list[Hazard]:
    """The hazards in the log, in the order it lists them. Raises :class:`pytest.UsageError` for a bad log."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise pytest.UsageError(f"hazard log {path} cannot be read ({exc.strerror})") from None
    hazards: list[Hazard] = []
    seen: set[str] = set()
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match is None:
            continue
        hazard_id, title = match.groups()
        if hazard_id in seen:
            raise pytest.UsageError(f"hazard log {path} lists {hazard_id} twice")
        seen.add(hazard_id)
        hazards.append(Hazard(hazard_id, title))
    if not hazards:
        raise pytest.UsageError(f"hazard log {path} has no hazard headings (e.g. '### HAZ-001 \u2014 title')")
    return hazards


@dataclass
class _TestResult:
    hazards: tuple[str, ...]
    phases: dict[str, str] = field(default_factory=dict)  # setup/call/teardown -> passed/failed/skipped

    @property
    def status(self) -> str:
        """passed, failed, error, skipped or not run."""
        if self.phases.get("setup") == "failed" or self.phases.get("teardown") == "failed":
            return "error"
        call = self.phases.get("call")
        if call is None:
            return "skipped" if self.phases.get("setup") == "skipped" else "not run"
        return call


class HazardTraceability:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        option = config.getoption("hazard_log")
        self.log_path = Path(option) if option else config.rootpath / DEFAULT_LOG
        self.strict = bool(config.getoption("hazards_strict"))
        self.hazards: list[Hazard] = []
        self.checked = False  # the log was read and every marker names a hazard in it
        self.results: dict[str, _TestResult] = {}
        self.deselected = 0
        self.judged = False  # whether completeness was enforced in this run
        self.untested: list[Hazard] = []

    # --- collection -------------------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Before any deselection: every marker in the collected files must name hazards in the log."""
        self.hazards = read_hazard_log(self.log_path)
        known = {hazard.id for hazard in self.hazards}
        problems = [problem for item in items for problem in _marker_problems(item, known, self.log_path)]
        if problems:
            raise pytest.UsageError("hazard markers that do not match the hazard log:\n" + "\n".join(problems))
        self.checked = True

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """After deselection: the tests that will run, and the hazards each proves."""
        if not self.checked:
            return
        for item in session.items:
            ids = _hazard_ids(item)
            if ids:
                self.results[item.nodeid] = _TestResult(ids)

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        self.deselected += len(items)

    # --- running ----------------------------------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = self.results.get(report.nodeid)
        if result is None:
            return
        outcome = report.outcome
        if hasattr(report, "wasxfail"):  # an expected failure, or an unexpected pass: neither proves a control
            outcome = "skipped"
        result.phases[report.when] = outcome

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.checked or exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.USAGE_ERROR):
            return
        self.judged = self.strict or self._whole_suite_ran()
        if not self.judged:
            return
        proven = {h for result in self.results.values() if result.status == "passed" for h in result.hazards}
        self.untested = [hazard for hazard in self.hazards if hazard.id not in proven]
        if self.untested:
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                noun = "untested hazard" if len(self.untested) == 1 else "untested hazards"
                reporter.stats.setdefault(noun, []).extend(self.untested)  # named in pytest's last line

    def _whole_suite_ran(self) -> bool:
        option = self.config.option
        return (
            self.config.args_source is pytest.Config.ArgsSource.TESTPATHS
            and self.deselected == 0
            and not option.collectonly
            and not getattr(option, "lf", False)
            and not getattr(option, "stepwise", False)
        )

    # --- reporting --------------------------------------------------------------------------------------------

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
        if not self.checked or self.config.option.collectonly or exitstatus == pytest.ExitCode.USAGE_ERROR:
            return
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", "clinical-safety hazards: the tests that prove them")
        touched = {h for result in self.results.values() for h in result.hazards}
        for hazard in self.hazards:
            if hazard.id not in touched and not self.judged:
                continue
            tests = [(node, r) for node, r in self.results.items() if hazard.id in r.hazards]
            passed = sum(1 for _, r in tests if r.status == "passed")
            verdict = f"{passed} of {len(tests)} passed" if tests else "NO TEST"
            write(f"{hazard.id} {hazard.title} \u2014 {verdict}", red=passed == 0, bold=True)
            for function, statuses in _by_function(tests):
                write(f"    {_describe(statuses):<22} {function}")
        skipped = [h for h in self.hazards if h.id not in touched]
        if not self.judged:
            if skipped:
                write(
                    f"{_plural(len(skipped), 'hazard')} not tested by this selection; completeness is judged only "
                    "when the whole suite runs, or with --hazards-strict."
                )
            return
        if self.untested:
            terminalreporter.write_sep("-", "hazards without a passing test", red=True)
            for hazard in self.untested:
                write(f"{hazard.id} {hazard.title}: no test marked for it passed in this run", red=True)
        else:
            write(f"Every hazard in {self.log_path.name} has at least one passing test.", green=True)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _hazard_ids(item: pytest.Item) -> tuple[str, ...]:
    ids: list[str] = []
    for marker in item.iter_markers("hazard"):
        ids += [arg for arg in marker.args if isinstance(arg, str) and arg not in ids]
    return tuple(ids)


def _marker_problems(item: pytest.Item, known: set[str], log: Path) -> Iterable[str]:
    for marker in item.iter_markers("hazard"):
        if not marker.args:
            yield f"  {item.nodeid}: @pytest.mark.hazard() names no hazard"
        if marker.kwargs:
            yield f"  {item.nodeid}: @pytest.mark.hazard takes hazard ids only, not {sorted(marker.kwargs)}"
        for arg in marker.args:
            if not isinstance(arg, str) or not HAZARD_ID.fullmatch(arg):
                yield f"  {item.nodeid}: {arg!r} is not a hazard id (HAZ-nnn)"
            elif arg not in known:
                yield f"  {item.nodeid}: {arg} is not in {log}"


def _by_function(tests: list[tuple[str, _TestResult]]) -> list[tuple[str, list[str]]]:
    """Parametrised cases folded into their test function, in collection order."""
    grouped: dict[str, list[str]] = {}
    for node, result in tests:
        grouped.setdefault(node.split("[", 1)[0], []).append(result.status)
    return list(grouped.items())


def _describe(statuses: list[str]) -> str:
    if len(statuses) == 1:
        return statuses[0].upper()
    passed = statuses.count("passed")
    if passed == len(statuses):
        return f"PASSED ({passed} cases)"
    others = sorted({s for s in statuses if s != "passed"})
    return f"{passed}/{len(statuses)} passed, {'/'.join(others)}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hazards", "clinical-safety traceability")
    group.addoption(
        "--hazards-strict",
        action="store_true",
        help="fail when a hazard in the log has no passing test, even in a partial run",
    )
    group.addoption("--hazard-log", default=None, help=f"the hazard log to check against (default: {DEFAULT_LOG})")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(HazardTraceability(config), "hazard-traceability")

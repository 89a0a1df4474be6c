"""No quiet skips: a test run fails on any skip that ``tests/allowed-skips.toml`` does not list, with its reason.

Registered from ``tests/conftest.py``. A test whose real component is missing fails naming the package (see
``tests/real_components.py``); what may still skip (a test for another platform, say) is listed in one file, each
entry with why. The summary names every skip, allowed or not.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ALLOW_LIST = Path(__file__).resolve().parent / "allowed-skips.toml"


@dataclass(frozen=True)
class AllowedSkip:
    test: str  # a node id, or an fnmatch pattern of node ids
    reason: str


def read_allow_list(path: Path) -> list[AllowedSkip]:
    """The entries, each with a test and a reason; a malformed file stops the run before any test."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise pytest.UsageError(f"skip allow-list {path} cannot be read: {exc}") from None
    entries: list[AllowedSkip] = []
    for number, entry in enumerate(document.get("skip", []), 1):
        if set(entry) != {"test", "reason"} or not all(isinstance(v, str) and v.strip() for v in entry.values()):
            raise pytest.UsageError(f"skip allow-list {path}, entry {number}: needs exactly a test and a reason")
        entries.append(AllowedSkip(entry["test"], entry["reason"]))
    return entries


@dataclass(eq=False)  # a plugin must be hashable
class SkipAllowList:
    allowed: list[AllowedSkip]
    skips: dict[str, str] = field(default_factory=dict)  # node id -> the skip's own reason

    def allows(self, nodeid: str) -> AllowedSkip | None:
        return next((entry for entry in self.allowed if fnmatch.fnmatchcase(nodeid, entry.test)), None)

    @property
    def unlisted(self) -> list[str]:
        return [nodeid for nodeid in self.skips if self.allows(nodeid) is None]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            self.skips[report.nodeid] = reason.removeprefix("Skipped: ")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.unlisted and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.skips:
            return
        unlisted = self.unlisted
        terminalreporter.write_sep("=", "skips", red=bool(unlisted))
        for nodeid, reason in self.skips.items():
            entry = self.allows(nodeid)
            verdict = f"allowed: {entry.reason}" if entry else f"NOT ALLOWED (not in {ALLOW_LIST.name})"
            terminalreporter.write_line(f"{nodeid}: {reason} \N{EM DASH} {verdict}", red=entry is None)
        if unlisted:
            terminalreporter.write_line(
                f"{len(unlisted)} skipped tests are not in {ALLOW_LIST}: the run fails. Install what they need, or "
                "list them there with the reason.",
                red=True,
            )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipAllowList(read_allow_list(ALLOW_LIST)), "skip-allow-list")

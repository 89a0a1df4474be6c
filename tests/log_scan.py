"""No PIN, ticket or patient-identifiable data in any log: checked over the whole test run.

Registered from ``tests/conftest.py`` (``pytest_plugins``). For the whole session it

- keeps every log record any logger emits, tracebacks included (crash reports are log records too), with the test
  that was running; the root logger is held at DEBUG before every test, so nothing is dropped unseen;
- notes every sign-in ticket the sandbox's CIS service issued and every ticket the app's CIS client received;
- at the end, scans those records and every log file the tests wrote (``*.log`` and its rotations, and the local
  audit ``*audit.jsonl``, under pytest's temporary folder and the platform log folder) for the training PIN, the
  tickets, and the synthetic patients' NHS numbers (any spacing), family names, street lines, towns and
  postcodes. The local audit may hold NHS numbers (it is the record of who did what to which patient); nothing
  else on the list may appear anywhere;
- prints what it scanned, and each finding and where it was; any finding fails the run.

A test that logs patient data on purpose (to prove the diagnostic log masks it) is marked
``@pytest.mark.logs_patient_data_on_purpose``: its log records are not scanned; the files it writes still are.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from consent_desktop import logs
from consent_desktop.auth.cis import CisClient
from consent_desktop.sandbox import patients
from consent_desktop.sandbox.cis_service import CisService
from consent_desktop.sandbox.users import TRAINING_PIN

_LOG_FILE = re.compile(r"\.log(\.\d+)?$")
_AUDIT_FILE = re.compile(r"audit\.jsonl$")
_POSTCODE = r"(?<![A-Za-z0-9])QQ\d ?\d[A-Z]{2}(?![A-Za-z0-9])"  # the sandbox's invented postcode area


@dataclass(frozen=True)
class Secret:
    kind: str  # what it is: "NHS number", "patient name", ...
    label: str  # which one, for the report
    pattern: str

    @property
    def allowed_in_audit(self) -> bool:
        return self.kind == "NHS number"


@dataclass(frozen=True)
class Finding:
    where: str
    secret: Secret
    excerpt: str


def _nhs_number(digits: str) -> str:
    return rf"(?<!\d){digits[:3]}[ -]?{digits[3:6]}[ -]?{digits[6:]}(?!\d)"


def _words(text: str) -> str:
    """The text as whole words, in any case (PDS writes family names in capitals)."""
    return r"(?i:(?<!\w)" + re.escape(text) + r"(?!\w))"


def patient_secrets() -> list[Secret]:
    """What identifies the sandbox's synthetic patients."""
    secrets = [
        Secret("training PIN", "the software cards' passcode", rf"(?<![0-9A-Za-z]){TRAINING_PIN}(?![0-9A-Za-z])")
    ]
    numbers = {p.nhs_number for p in patients.PATIENTS} | set(patients.SUPERSEDED) | set(patients.INVALIDATED)
    numbers.add(patients.UNKNOWN_EXAMPLE)
    secrets += [Secret("NHS number", n, _nhs_number(n)) for n in sorted(numbers)]
    secrets += [Secret("patient name", p.family, _words(p.family)) for p in patients.PATIENTS]
    lines = {line for p in patients.PATIENTS for line in p.address if not re.fullmatch(r"Flat \d+", line)}
    secrets += [Secret("address", line, _words(line)) for line in sorted(lines)]
    secrets.append(Secret("postcode", "a synthetic patient's postcode", f"(?i:{_POSTCODE})"))
    return secrets


class _Keep(logging.Handler):
    def __init__(self, scan: LogScan) -> None:
        super().__init__(logging.DEBUG)
        self._scan = scan
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if self._scan.exempt:
            self._scan.exempted += 1
            return
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted is still looked at, raw
            text = f"{record.msg!r} {record.args!r}"
        self._scan.records.append((self._scan.running, text))


@dataclass
class LogScan:
    started: float = field(default_factory=time.time)
    running: str = "(between tests)"
    exempt: bool = False  # the running test logs patient data on purpose
    exempted: int = 0
    records: list[tuple[str, str]] = field(default_factory=list)  # (test, formatted record)
    tickets: set[str] = field(default_factory=set)
    folders: set[Path] = field(default_factory=set)
    files: int = 0
    findings: list[Finding] = field(default_factory=list)
    _restore: list[Callable[[], None]] = field(default_factory=list)

    # --- watching ------------------------------------------------------------------------------------------------

    def install(self) -> None:
        handler = _Keep(self)
        root = logging.getLogger()
        level = root.level
        root.addHandler(handler)
        self._restore.append(lambda: (root.removeHandler(handler), root.setLevel(level)))
        self._wrap(CisService, "issue_ticket", self._issued)
        self._wrap(CisClient, "sign_in", self._received)

    def uninstall(self) -> None:
        while self._restore:
            self._restore.pop()()

    def _wrap(self, owner: type, name: str, note: Callable[[Any], None]) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            note(result)
            return result

        setattr(owner, name, wrapper)
        self._restore.append(lambda: setattr(owner, name, original))

    def _issued(self, ticket: Any) -> None:
        if isinstance(ticket, str) and ticket:
            self.tickets.add(ticket)

    def _received(self, signed_in: Any) -> None:
        self.tickets.add(signed_in.ticket.value)

    # --- scanning ------------------------------------------------------------------------------------------------

    def scan(self) -> None:
        secrets = patient_secrets() + [
            Secret("CIS ticket", "a sign-in ticket", f"{re.escape(t)}|{re.escape(quote(t, safe=''))}")
            for t in self.tickets  # as is, and as the SSB lookups' query strings carry it
        ]
        every = re.compile("|".join(f"(?:{s.pattern})" for s in secrets))
        for test, text in self.records:
            self.findings += _search(f"log record during {test}", text, secrets, every)
        for path in self._log_files():
            self.files += 1
            text = path.read_text(encoding="utf-8", errors="replace")
            audit = bool(_AUDIT_FILE.search(path.name))
            kept = [s for s in secrets if not (audit and s.allowed_in_audit)]
            self.findings += _search(str(path), text, kept, re.compile("|".join(f"(?:{s.pattern})" for s in kept)))

    def _log_files(self) -> Iterator[Path]:
        for folder in sorted(self.folders):
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if not (_LOG_FILE.search(path.name) or _AUDIT_FILE.search(path.name)) or not path.is_file():
                    continue
                if folder == logs.log_dir() and path.stat().st_mtime < self.started:
                    continue  # written before this run: not the tests'
                yield path


def _search(where: str, text: str, secrets: Iterable[Secret], every: re.Pattern[str]) -> list[Finding]:
    if not every.search(text):
        return []
    found = []
    for secret in secrets:
        match = re.search(secret.pattern, text)
        if match is not None:
            start, end = max(0, match.start() - 40), min(len(text), match.end() + 40)
            found.append(Finding(where, secret, text[start:end].replace("\n", " ")))
    return found


_KEY = pytest.StashKey[LogScan]()


MARKER = "logs_patient_data_on_purpose"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: the test logs synthetic patient data deliberately (to prove it is masked); the log scan "
        "skips its log records, never the files it writes",
    )
    scan = LogScan()
    scan.install()
    scan.folders.add(logs.log_dir())
    config.stash[_KEY] = scan


def pytest_unconfigure(config: pytest.Config) -> None:
    scan = config.stash.get(_KEY, None)
    if scan is not None:
        scan.uninstall()


@pytest.fixture(scope="session", autouse=True)
def _scan_temporary_folder(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> None:
    pytestconfig.stash[_KEY].folders.add(tmp_path_factory.getbasetemp())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    scan = item.config.stash[_KEY]
    scan.running = item.nodeid
    scan.exempt = item.get_closest_marker(MARKER) is not None
    logging.getLogger().setLevel(logging.DEBUG)  # the app's own set-up may have raised it; every record counts
    try:
        return (yield)
    finally:
        scan.running, scan.exempt = f"(after {item.nodeid})", False


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    scan = session.config.stash[_KEY]
    scan.scan()
    if scan.findings and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and scan.findings:
        reporter.stats.setdefault("log leaks", []).extend(scan.findings)  # named in pytest's last line


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    scan = terminalreporter.config.stash[_KEY]
    terminalreporter.write_sep("=", "log scan: PINs, tickets and patient data in logs")
    terminalreporter.write_line(
        f"{len(scan.records)} log records and {scan.files} log files scanned for the training PIN, "
        f"{len(scan.tickets)} sign-in tickets and the synthetic patients' NHS numbers, names, addresses and "
        f"postcodes: {len(scan.findings)} found"
        + (f" ({scan.exempted} records of tests that log patient data on purpose not scanned)" if scan.exempted else "")
    )
    for finding in scan.findings:
        terminalreporter.write_line(
            f"  {finding.secret.kind} ({finding.secret.label}) in {finding.where}: ...{finding.excerpt}...", red=True
        )

"""The workstation's own audit: every lookup, consent read and consent change made here, sealed so that an edit
shows.

One JSON object per line, only ever appended. Each is sealed with HMAC-SHA256 under a key kept beside the log
(protected as :mod:`consent_desktop.audit_protection` describes), over its own content and the previous line's
seal; so editing, inserting or deleting an entry breaks the chain from that point on, and an edited file cannot be
re-sealed without the key. Cutting entries off the end is not detectable without an external anchor, which this
local log does not have. Unlike the diagnostic log, this file does hold NHS numbers: it is the record of who did
what to which patient. It never holds an address, a PIN or a ticket.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from consent_desktop.audit_protection import (
    PRIVATE_FILE,
    append_private,
    create_seal_key,
    private_folder,
    read_seal_key,
)
from consent_desktop.domain.errors import AuditAltered, AuditUnavailable
from consent_desktop.domain.patient import cui_date
from consent_desktop.domain.uk_time import UK, uk_clock_time

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    event: str  # "lookup", "trace", "consent-read", "consent-change", "sign-in", "lock", "unlock", "sign-out"
    user_id: str
    role_profile_id: str = ""
    org_code: str = ""
    nhs_number: str = ""
    old: str = ""
    new: str = ""
    expressed_by: str = ""
    note: str = ""
    outcome: str = ""
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))


@dataclass(frozen=True)
class ChainProblem:
    line: int
    reason: str
    since: str = ""  # when the last intact entry before the break was written (ISO 8601); empty: from the start

    def error(self, path: Path) -> AuditAltered:
        """The problem as the user is told it."""
        return AuditAltered(_since(self.since), f"audit {path}: line {self.line}: {self.reason}")


@dataclass(frozen=True)
class PatientHistory:
    """The consent changes made here for one patient, and whether the audit they come from is intact."""

    nhs_number: str
    changes: list[AuditEntry]
    altered: AuditAltered | None = None


def seal(key: bytes, record: dict[str, object]) -> str:
    """A record's seal: HMAC-SHA256 under ``key`` of its canonical JSON (``prev`` included, ``mac`` not)."""
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


class AuditLog:
    """Append-only; safe across threads (a lock) and processes (a lock file beside the log)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.Lock()
        self._file_lock = FileLock(str(path) + ".lock", timeout=10, mode=PRIVATE_FILE)
        self._key: bytes | None = None

    @property
    def key_path(self) -> Path:
        """The seal key, beside the log: ``audit.key`` for ``audit.jsonl``."""
        return self.path.with_suffix(".key")

    def append(self, entry: AuditEntry) -> None:
        """Raises :class:`AuditUnavailable` when the log cannot be written."""
        try:
            with self._thread_lock:
                private_folder(self.path.parent)
                with self._file_lock:
                    key = self._seal_key(create=True)
                    previous = self._last_seal()
                    record: dict[str, object] = {**asdict(entry), "prev": previous}
                    record["mac"] = seal(key, record)
                    with append_private(self.path) as log:
                        log.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                        log.flush()
        except (OSError, ValueError, Timeout) as error:
            raise AuditUnavailable(f"audit log {self.path}: {type(error).__name__}: {error}") from error

    def entries(self, nhs_number: str | None = None) -> list[AuditEntry]:
        """Entries in order, optionally for one patient (the history view). A damaged line is left out rather than
        stopping the whole history; :meth:`verify` is what reports it. Raises :class:`AuditUnavailable`."""
        names = set(AuditEntry.__dataclass_fields__)
        found = []
        for _, record in self._records():
            readable = {"event", "user_id"} <= record.keys()
            if not readable or (nhs_number is not None and record.get("nhs_number") != nhs_number):
                continue
            found.append(AuditEntry(**{k: str(v) for k, v in record.items() if k in names}))
        return found

    def verify(self) -> ChainProblem | None:
        """The first place the chain is broken, or None when every entry is intact. Raises
        :class:`AuditUnavailable` when the log or its key cannot be read."""
        previous, since = GENESIS, ""
        key: bytes | None = None
        for number, record in self._records():
            key = key or self._key_to_check()
            if key is None:
                return ChainProblem(number, "the key that seals it is missing, so no entry can be checked")
            stored = record.pop("mac", None)
            if record.get("prev") != previous:
                return ChainProblem(number, "an entry before this one was removed or changed", since)
            if not isinstance(stored, str) or not hmac.compare_digest(stored, seal(key, record)):
                return ChainProblem(number, "this entry was changed after it was written", since)
            previous, since = stored, str(record.get("at", ""))
        return None

    def _key_to_check(self) -> bytes | None:
        try:
            with self._thread_lock:
                return self._key or read_seal_key(self.key_path)
        except (OSError, ValueError) as error:
            raise AuditUnavailable(f"audit key {self.key_path}: {type(error).__name__}: {error}") from error

    def _seal_key(self, *, create: bool) -> bytes:
        """Read once, then kept. A new key only comes with a new log: one that already holds entries is never
        continued under a key that did not seal them."""
        if self._key is None:
            self._key = read_seal_key(self.key_path)
        if self._key is None and create:
            if self.path.exists() and self.path.stat().st_size:
                raise FileNotFoundError(
                    f"no seal key {self.key_path} for the entries already in this log (written by an earlier "
                    "version, or the key was removed): move the log aside, keeping it, to start a new one"
                )
            self._key = create_seal_key(self.key_path)
        if self._key is None:
            raise FileNotFoundError(f"no seal key {self.key_path}")
        return self._key

    def _last_seal(self) -> str:
        """The seal on the last line, read from the end of the file (the log only grows)."""
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return GENESIS
        with handle:
            end = handle.seek(0, 2)
            block = b""
            position = end
            while position > 0 and block.count(b"\n") < 2:
                step = min(4096, position)
                position -= step
                handle.seek(position)
                block = handle.read(step) + block
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            return GENESIS
        try:
            return str(json.loads(lines[-1])["mac"])
        except (ValueError, KeyError, TypeError):
            return GENESIS  # a damaged last line: the chain check will report it

    def _records(self) -> Iterator[tuple[int, dict[str, object]]]:
        for number, line in enumerate(self._lines(), 1):
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    record = None
                if not isinstance(record, dict):
                    record = {"mac": None, "prev": None, "event": "unreadable"}
                yield number, record

    def _lines(self) -> list[str]:
        """Read under the lock file, so a line another process is still appending is never half read (and taken
        for an altered one)."""
        try:
            if not self.path.exists():
                return []
            with self._file_lock, self.path.open(encoding="utf-8", errors="replace") as handle:
                return handle.readlines()  # damaged bytes fail the seal, not the read
        except (OSError, Timeout) as error:
            raise AuditUnavailable(f"audit log {self.path}: {type(error).__name__}: {error}") from error


def _since(at: str) -> str:
    """``10:42 GMT on 25-Nov-2026``, or empty when the time is not known."""
    try:
        moment = datetime.fromisoformat(at)
        return f"{uk_clock_time(moment)} on {cui_date(moment.astimezone(UK).date())}"
    except ValueError:
        return ""

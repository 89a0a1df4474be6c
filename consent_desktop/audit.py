"""The workstation's own audit: every lookup and consent change made here, in a tamper-evident log.

One JSON object per line; each carries the SHA-256 of the previous line's record, so editing or deleting an
entry breaks the chain from that point on (cutting entries off the end is not detectable without an external
anchor, which this local log does not have). Unlike the diagnostic log, this file does hold NHS numbers: it is
the record of who did what to which patient. It never holds an address, a PIN or a ticket.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from consent_desktop.domain.errors import AuditUnavailable

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


def _digest(previous: str, record: dict[str, object]) -> str:
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()


class AuditLog:
    """Append-only; safe across threads (a lock) and processes (a lock file beside the log)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.Lock()
        self._file_lock = FileLock(str(path) + ".lock", timeout=10)

    def append(self, entry: AuditEntry) -> None:
        """Raises :class:`AuditUnavailable` when the log cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._thread_lock, self._file_lock:
                previous = self._last_hash()
                record: dict[str, object] = {**asdict(entry), "prev": previous}
                record["hash"] = _digest(previous, record)
                with self.path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                    log.flush()
        except (OSError, Timeout) as error:
            raise AuditUnavailable(f"audit log {self.path}: {type(error).__name__}: {error}") from error

    def entries(self, nhs_number: str | None = None) -> list[AuditEntry]:
        """Entries in order, optionally for one patient (the history view). A damaged line is left out rather than
        stopping the whole history; :meth:`verify` is what reports it."""
        names = set(AuditEntry.__dataclass_fields__)
        found = []
        for _, record in self._records():
            readable = {"event", "user_id"} <= record.keys()
            if not readable or (nhs_number is not None and record.get("nhs_number") != nhs_number):
                continue
            found.append(AuditEntry(**{k: str(v) for k, v in record.items() if k in names}))
        return found

    def verify(self) -> ChainProblem | None:
        """The first place the chain is broken, or None when every entry is intact."""
        previous = GENESIS
        for number, record in self._records():
            stored = record.pop("hash", None)
            if record.get("prev") != previous:
                return ChainProblem(number, "an entry before this one was removed or changed")
            if stored != _digest(previous, record):
                return ChainProblem(number, "this entry was changed after it was written")
            previous = str(stored)
        return None

    def _last_hash(self) -> str:
        """The hash on the last line, read from the end of the file (the log only grows)."""
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
            return str(json.loads(lines[-1])["hash"])
        except (ValueError, KeyError):
            return GENESIS  # a damaged last line: the chain check will report it

    def _records(self) -> Iterator[tuple[int, dict[str, object]]]:
        try:
            handle = self.path.open(encoding="utf-8", errors="replace")  # damaged bytes fail the hash, not the read
        except FileNotFoundError:
            return
        with handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        record = None
                    if not isinstance(record, dict):
                        record = {"hash": None, "prev": None, "event": "unreadable"}
                    yield number, record

"""The sandbox's persistent state in SQLite: consent assertions, who changed what, faults, seen message ids.

One connection guarded by a lock: the sandbox serves a handful of concurrent requests at most, and a single
writer keeps "committed before the connection dropped" exact.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS assertion (
    nhs_number TEXT NOT NULL,
    function   TEXT NOT NULL,            -- View | Store
    permission TEXT NOT NULL,            -- Yes | No
    updated_at TEXT NOT NULL,
    PRIMARY KEY (nhs_number, function)
);
CREATE TABLE IF NOT EXISTS change_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    nhs_number      TEXT NOT NULL,
    function        TEXT NOT NULL,
    old_permission  TEXT,                -- NULL: no assertion (the default)
    new_permission  TEXT,
    sds_user_id     TEXT NOT NULL,
    role_profile_id TEXT NOT NULL,
    job_role_code   TEXT NOT NULL,
    sender_asid     TEXT NOT NULL,
    message_id      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fault (
    name      TEXT PRIMARY KEY,
    value     TEXT NOT NULL DEFAULT '',
    scope     TEXT NOT NULL DEFAULT 'all',
    remaining INTEGER                    -- NULL: until cleared
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_message (
    message_id TEXT PRIMARY KEY,
    at         TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Change:
    at: str
    nhs_number: str
    function: str
    old_permission: str | None
    new_permission: str | None
    sds_user_id: str
    role_profile_id: str
    job_role_code: str
    sender_asid: str
    message_id: str


@dataclass(frozen=True)
class Fault:
    name: str
    value: str
    scope: str
    remaining: int | None


class Store:
    def __init__(self, path: Path) -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- consent ---------------------------------------------------------------------------------------------

    def assertions(self, nhs_number: str) -> dict[str, str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT function, permission FROM assertion WHERE nhs_number = ? ORDER BY function", (nhs_number,)
            ).fetchall()
        return {function: permission for function, permission in rows}

    def apply(self, nhs_number: str, changes: dict[str, str], who: dict[str, str]) -> None:
        """Set (Yes/No) or remove (Clear) each function's assertion and log every change, atomically."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction() as db:
            for function, permission in changes.items():
                row = db.execute(
                    "SELECT permission FROM assertion WHERE nhs_number = ? AND function = ?", (nhs_number, function)
                ).fetchone()
                old = row[0] if row else None
                new = None if permission == "Clear" else permission
                if new is None:
                    db.execute("DELETE FROM assertion WHERE nhs_number = ? AND function = ?", (nhs_number, function))
                else:
                    db.execute(
                        "INSERT INTO assertion VALUES (?, ?, ?, ?) ON CONFLICT (nhs_number, function) "
                        "DO UPDATE SET permission = excluded.permission, updated_at = excluded.updated_at",
                        (nhs_number, function, new, now),
                    )
                db.execute(
                    "INSERT INTO change_log (at, nhs_number, function, old_permission, new_permission, sds_user_id,"
                    " role_profile_id, job_role_code, sender_asid, message_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        now,
                        nhs_number,
                        function,
                        old,
                        new,
                        who["user"],
                        who["role_profile"],
                        who["job_role"],
                        who["asid"],
                        who["message_id"],
                    ),
                )

    def seed_once(self, assertions: list[tuple[str, str, str]]) -> None:
        """Fixture assertions (nhs number, function, permission), written at the very first start only, so a
        change made later survives every restart."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM meta WHERE key = 'seeded'").fetchone():
                return
            db.executemany("INSERT OR IGNORE INTO assertion VALUES (?, ?, ?, ?)", [(*a, now) for a in assertions])
            db.execute("INSERT INTO meta VALUES ('seeded', ?)", (now,))

    def changes(self, nhs_number: str | None = None) -> list[Change]:
        query = (
            "SELECT at, nhs_number, function, old_permission, new_permission, sds_user_id, role_profile_id,"
            " job_role_code, sender_asid, message_id FROM change_log"
        )
        params: tuple[str, ...] = ()
        if nhs_number is not None:
            query += " WHERE nhs_number = ?"
            params = (nhs_number,)
        with self._lock:
            return [Change(*row) for row in self._db.execute(query + " ORDER BY id", params).fetchall()]

    def first_use_of(self, message_id: str) -> bool:
        """Record a message id; False when Spine has seen it before (a re-sent message)."""
        with self.transaction() as db:
            seen = db.execute("SELECT 1 FROM seen_message WHERE message_id = ?", (message_id,)).fetchone()
            if seen:
                return False
            db.execute("INSERT INTO seen_message VALUES (?, ?)", (message_id, datetime.now(UTC).isoformat()))
            return True

    # --- faults ----------------------------------------------------------------------------------------------

    def set_fault(self, name: str, value: str = "", scope: str = "all", times: int | None = None) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO fault VALUES (?, ?, ?, ?)", (name, value, scope, times))

    def clear_faults(self) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM fault")

    def faults(self) -> list[Fault]:
        with self._lock:
            return [Fault(*row) for row in self._db.execute("SELECT name, value, scope, remaining FROM fault")]

    def take_fault(self, name: str) -> bool:
        """Whether the fault ``name`` is on, counting it down (for faults that are not about one request)."""
        return any(f.name == name for f in self.take_faults("all", only=name))

    def take_faults(self, scope: str, *, only: str | None = None) -> list[Fault]:
        """Faults that apply to a request of ``scope``, counting down the ones armed a number of times."""
        taken: list[Fault] = []
        with self.transaction() as db:
            rows = db.execute("SELECT name, value, scope, remaining FROM fault").fetchall()
            for row in rows:
                fault = Fault(*row)
                if fault.scope not in ("all", scope) or (only is not None and fault.name != only):
                    continue
                taken.append(fault)
                if fault.remaining is not None:
                    if fault.remaining <= 1:
                        db.execute("DELETE FROM fault WHERE name = ?", (fault.name,))
                    else:
                        db.execute("UPDATE fault SET remaining = remaining - 1 WHERE name = ?", (fault.name,))
        return taken

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from consent_desktop.audit import AuditEntry, AuditLog


def entry(n: int, nhs: str = "9434765919") -> AuditEntry:
    return AuditEntry(
        event="consent-change",
        user_id="555000000001",
        role_profile_id="555254240101",
        nhs_number=nhs,
        old="ask",
        new="no",
        expressed_by="in person",
        note=f"note {n}",
        outcome="saved",
    )


@pytest.mark.hazard("HAZ-014")
def test_entries_read_back_in_order_and_by_patient(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    for n in range(3):
        log.append(entry(n))
    log.append(entry(9, nhs="9990000018"))
    assert [e.note for e in log.entries()] == ["note 0", "note 1", "note 2", "note 9"]
    assert [e.note for e in log.entries("9990000018")] == ["note 9"]
    assert log.verify() is None


@pytest.mark.hazard("HAZ-014")
def test_an_edited_entry_breaks_the_chain_there(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for n in range(4):
        log.append(entry(n))
    lines = path.read_text().splitlines()
    record = json.loads(lines[1])
    record["new"] = "ask"
    lines[1] = json.dumps(record, sort_keys=True)
    path.write_text("\n".join(lines) + "\n")
    problem = log.verify()
    assert problem is not None and problem.line == 2 and "changed" in problem.reason


@pytest.mark.hazard("HAZ-014")
def test_a_removed_entry_breaks_the_chain_after_it(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for n in range(4):
        log.append(entry(n))
    lines = path.read_text().splitlines()
    del lines[1]
    path.write_text("\n".join(lines) + "\n")
    problem = log.verify()
    assert problem is not None and problem.line == 2 and "removed" in problem.reason


@pytest.mark.hazard("HAZ-014")
def test_concurrent_writers_keep_one_unbroken_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    logs = [AuditLog(path), AuditLog(path)]  # two instances, as two windows or processes would have

    def write(log: AuditLog, base: int) -> None:
        for n in range(25):
            log.append(entry(base + n))

    threads = [threading.Thread(target=write, args=(log, i * 100)) for i, log in enumerate(logs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(AuditLog(path).entries()) == 50
    assert AuditLog(path).verify() is None


@pytest.mark.hazard("HAZ-014")
def test_appending_continues_the_chain_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append(entry(1))
    AuditLog(path).append(entry(2))
    assert AuditLog(path).verify() is None

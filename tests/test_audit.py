from __future__ import annotations

import dataclasses
import json
import os
import stat
import threading
from pathlib import Path

import pytest
from filelock import FileLock

from consent_desktop.audit import AuditEntry, AuditLog, seal
from consent_desktop.domain.errors import AuditUnavailable


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


def log_with(path: Path, count: int) -> AuditLog:
    log = AuditLog(path)
    for n in range(count):
        log.append(entry(n))
    return log


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
    log = log_with(path, 4)
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
    log = log_with(path, 4)
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


def reseal_without_the_key(path: Path, line: int, change: dict[str, str]) -> None:
    """What someone who can edit the file and knows how it is sealed, but has not got the key, can do: change an
    entry and seal it, and the rest of the chain after it, again under a key of their own."""
    lines = path.read_text().splitlines()
    previous = json.loads(lines[line - 2])["mac"] if line > 1 else "0" * 64
    for number in range(line, len(lines) + 1):
        record = json.loads(lines[number - 1])
        record.update(change if number == line else {})
        record.pop("mac")
        record["prev"] = previous
        record["mac"] = previous = seal(b"a guess at the key", record)
        lines[number - 1] = json.dumps(record, sort_keys=True)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.hazard("HAZ-014")
def test_an_edit_sealed_again_without_the_key_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = log_with(path, 3)
    reseal_without_the_key(path, 2, {"new": "ask"})
    problem = AuditLog(path).verify()
    assert problem is not None and problem.line == 2 and "changed" in problem.reason
    assert problem.since == log.entries()[0].at  # altered since the last entry that is still intact


@pytest.mark.hazard("HAZ-014")
def test_one_byte_changed_anywhere_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append(entry(1))
    AuditLog(path).append(entry(2))
    original = path.read_bytes()
    for offset in range(0, len(original) - 1, 7):  # every seventh byte, the seal included; not the final newline
        flipped = bytearray(original)
        flipped[offset] ^= 0x01
        path.write_bytes(bytes(flipped))
        assert AuditLog(path).verify() is not None, f"byte {offset} changed unnoticed"
    path.write_bytes(original)
    assert AuditLog(path).verify() is None


@pytest.mark.hazard("HAZ-014")
def test_the_audit_its_key_and_its_lock_are_this_accounts_only(tmp_path: Path) -> None:
    folder = tmp_path / "machine" / "consent-desktop"
    previous = os.umask(0)  # a permissive umask must not make them readable by others
    try:
        AuditLog(folder / "audit.jsonl").append(entry(1))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("audit.jsonl", "audit.key", "audit.jsonl.lock"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name


@pytest.mark.hazard("HAZ-014")
def test_a_folder_or_file_opened_to_others_is_closed_again(tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    log = AuditLog(folder / "audit.jsonl")
    log.append(entry(1))
    folder.chmod(0o755)
    (folder / "audit.jsonl").chmod(0o644)
    (folder / "audit.key").chmod(0o644)
    AuditLog(folder / "audit.jsonl").append(entry(2))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "audit.jsonl").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "audit.key").stat().st_mode) == 0o600


@pytest.mark.hazard("HAZ-014")
def test_a_log_whose_key_is_gone_is_reported_and_never_continued_under_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append(entry(1))
    (tmp_path / "audit.key").unlink()
    before = path.read_bytes()
    with pytest.raises(AuditUnavailable) as refused:
        AuditLog(path).append(entry(2))
    assert "no seal key" in refused.value.details
    assert path.read_bytes() == before and not (tmp_path / "audit.key").exists()
    problem = AuditLog(path).verify()
    assert problem is not None and problem.line == 1 and "key" in problem.reason


@pytest.mark.hazard("HAZ-014")
def test_an_earlier_versions_unsealed_log_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    earlier = {**dataclasses.asdict(entry(1)), "prev": "0" * 64, "hash": "1" * 64}
    path.write_text(json.dumps(earlier) + "\n")
    with pytest.raises(AuditUnavailable) as refused:
        AuditLog(path).append(entry(2))
    assert "earlier version" in refused.value.details
    assert path.read_text() == json.dumps(earlier) + "\n"
    problem = AuditLog(path).verify()
    assert problem is not None and "key" in problem.reason


@pytest.mark.hazard("HAZ-010", "HAZ-014")
def test_training_seals_its_own_audit_with_its_own_key(tmp_path: Path) -> None:
    live, training = AuditLog(tmp_path / "audit.jsonl"), AuditLog(tmp_path / "training-audit.jsonl")
    live.append(entry(1))
    training.append(entry(2))
    assert live.key_path.read_bytes() != training.key_path.read_bytes()
    assert live.verify() is None and training.verify() is None


@pytest.mark.hazard("HAZ-014")
def test_a_check_never_reads_a_line_still_being_appended(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log_with(path, 3)
    whole = path.read_bytes()
    last = whole.rstrip(b"\n").rfind(b"\n") + 1
    found: list[object] = []
    with FileLock(str(path) + ".lock"):  # as another process appending the third line holds it
        path.write_bytes(whole[: last + 40])
        checking = threading.Thread(target=lambda: found.append(AuditLog(path).verify()))
        checking.start()
        checking.join(0.3)
        path.write_bytes(whole)
    checking.join()
    assert found == [None]

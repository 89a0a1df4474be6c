"""One damaged line in the audit neither hides the rest of the history nor goes unreported."""

from __future__ import annotations

from pathlib import Path

import pytest

from consent_desktop.audit import AuditEntry, AuditLog

NHS = "9434765919"


def change(note: str) -> AuditEntry:
    return AuditEntry("consent-change", "555000000001", nhs_number=NHS, old="ask", new="no", note=note)


@pytest.mark.hazard("HAZ-014")
@pytest.mark.parametrize(
    "damage",
    [b"{not json", b'{"event": "consent-change"}', b"[1, 2, 3]", b'"user_id"', b'{"user_id": "\xff\xfe"}'],
    ids=["not-json", "fields-missing", "a-list", "a-string", "bad-bytes"],
)
def test_the_history_survives_a_damaged_line_and_verify_names_it(tmp_path: Path, damage: bytes) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for note in ("first", "second", "third"):
        log.append(change(note))
    lines = path.read_bytes().splitlines()
    lines[1] = damage
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert [e.note for e in log.entries(NHS)] == ["first", "third"]
    assert [e.note for e in log.entries()] == ["first", "third"]
    problem = log.verify()
    assert problem is not None and problem.line == 2

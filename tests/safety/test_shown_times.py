"""Times are unambiguous wherever they appear: UK time with its zone on screen, UTC with its offset in the audit,
whatever time zone the workstation itself is set to."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consent_desktop.audit import AuditEntry, AuditLog
from consent_desktop.domain.consent import ConsentChoice, ConsentRecord, SaveOutcome, SaveResult
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.uk_time import uk_clock_time

NHS = NhsNumber.parse("9434765919")
WINTER = datetime(2026, 11, 25, 10, 42, tzinfo=UTC)  # GMT: UK time is UTC
SUMMER = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)  # BST: UK time is an hour ahead


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Kolkata"])
def workstation_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The workstation's own time zone, as a misconfigured virtual desktop might have it."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def saved_at(moment: datetime) -> SaveResult:
    return SaveResult(SaveOutcome.SAVED, NHS, ConsentChoice.OPTED_OUT, moment, None)


@pytest.mark.hazard("HAZ-011")
def test_saved_headline_is_uk_time_with_its_zone_named(workstation_zone: str) -> None:
    assert saved_at(WINTER).headline == "Saved on Spine at 10:42 GMT"
    assert saved_at(SUMMER).headline == "Saved on Spine at 10:30 BST"
    assert uk_clock_time(SUMMER.astimezone()) == "10:30 BST"  # the same moment, whichever zone it arrives in


@pytest.mark.hazard("HAZ-011")
def test_the_hour_the_clocks_go_back_is_told_apart() -> None:
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST, then an hour later 01:30 GMT
    assert uk_clock_time(first) == "01:30 BST"
    assert uk_clock_time(first + timedelta(hours=1)) == "01:30 GMT"


@pytest.mark.hazard("HAZ-011")
def test_a_time_without_a_zone_is_refused_where_it_is_made() -> None:
    naive = datetime(2026, 11, 25, 10, 42)
    with pytest.raises(ValueError, match="time zone"):
        saved_at(naive)
    with pytest.raises(ValueError, match="time zone"):
        ConsentRecord(NHS, (), naive)


@pytest.mark.hazard("HAZ-011", "HAZ-014")
def test_audit_times_are_utc_with_the_offset_written(tmp_path: Path, workstation_zone: str) -> None:
    path = tmp_path / "audit.jsonl"
    before = datetime.now(UTC)
    AuditLog(path).append(AuditEntry("consent-change", "555000000001", nhs_number=NHS.digits, old="ask", new="no"))
    written = json.loads(path.read_text(encoding="utf-8"))["at"]
    assert written.endswith("+00:00")
    moment = datetime.fromisoformat(written)
    assert moment.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= moment <= datetime.now(UTC)

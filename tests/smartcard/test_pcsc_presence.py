"""PC/SC card presence against a real pcscd, vsmartcard's virtual reader and its virtual card (vicc)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from smartcard import scard

from consent_desktop.auth import presence as presence_module
from consent_desktop.auth.card import CardEvent
from consent_desktop.auth.presence import PcscPresence
from consent_desktop.domain.errors import NoReader
from tests.smartcard.conftest import VIRTUAL_READER, EventLog, PcscDaemon, VirtualCard

pytestmark = pytest.mark.smartcard


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def watching(pcscd: PcscDaemon, events: EventLog) -> Iterator[PcscPresence]:
    presence = PcscPresence(allow_virtual_readers=True)
    presence.start(events)
    try:
        yield presence
    finally:
        presence.stop()


def _presence_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in ("pcsc-presence", "pcsc-watchdog", "pcsc-events")]


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not true within {timeout} s")
        time.sleep(0.02)


@pytest.mark.hazard("HAZ-007")
def test_insertion_and_removal_are_reported_within_a_second(
    watching: PcscPresence, events: EventLog, vicc: VirtualCard
) -> None:
    started = vicc.insert()  # when vicc connected to vpcd: the card going in
    inserted_at, inserted = events.wait_for("inserted")
    assert inserted.reader == VIRTUAL_READER
    assert inserted_at - started < 1.0
    assert watching.card_present()
    mark = len(events)

    gone = vicc.remove()
    removed_at, removed = events.wait_for("removed", after=mark)
    assert removed.reader == VIRTUAL_READER
    assert removed_at - gone < 1.0
    assert not watching.card_present()
    assert events.kinds() == ["inserted", "removed"]


def test_presence_reports_on_its_own_thread(watching: PcscPresence, events: EventLog, vicc: VirtualCard) -> None:
    vicc.insert()
    events.wait_for("inserted")
    assert events.events[0][2] == "pcsc-events"


@pytest.mark.hazard("HAZ-007")
def test_a_slow_listener_neither_delays_the_reader_nor_looks_like_a_hung_one(
    pcscd: PcscDaemon, vicc: VirtualCard
) -> None:
    """A listener that takes 3 s (the audit on a slow disk) over the insertion: the removal after it is still
    reported, in order, and nothing claims the reader stopped answering (the watchdog calls 2 s silence a hang)."""
    events = EventLog()

    def slow(event: CardEvent) -> None:
        if event.kind == "inserted":
            time.sleep(3)
        events(event)

    presence = PcscPresence(allow_virtual_readers=True)
    presence.start(slow)
    try:
        vicc.insert()
        _wait_until(presence.card_present)
        vicc.remove()
        events.wait_for("removed", timeout=10.0)
    finally:
        presence.stop()
    assert events.kinds() == ["inserted", "removed"]


def test_a_card_already_in_the_reader_is_reported_at_start(
    pcscd: PcscDaemon, events: EventLog, vicc: VirtualCard
) -> None:
    presence = PcscPresence(allow_virtual_readers=True)
    vicc.insert()
    _wait_until(presence.card_present)

    presence.start(events)
    try:
        _, event = events.wait_for("inserted")
    finally:
        presence.stop()
    assert event.reader == VIRTUAL_READER


@pytest.mark.hazard("HAZ-010")
def test_a_virtual_reader_is_refused_unless_allowed(pcscd: PcscDaemon, events: EventLog, vicc: VirtualCard) -> None:
    strict = PcscPresence(allow_virtual_readers=False)
    strict.start(events)
    try:
        vicc.insert()
        _, failed = events.wait_for("failed")
        assert failed.reader == VIRTUAL_READER
        assert failed.detail == f"virtual reader refused: {VIRTUAL_READER}"
        assert PcscPresence(allow_virtual_readers=True).card_present()  # the card is there...
        assert not strict.card_present()  # ...but not in a reader this presence accepts
    finally:
        strict.stop()
    assert events.kinds() == ["failed"]


def test_stop_ends_every_thread(pcscd: PcscDaemon, events: EventLog) -> None:
    presence = PcscPresence(allow_virtual_readers=True)
    presence.start(events)
    assert len(_presence_threads()) == 3
    presence.stop()
    assert _presence_threads() == []


@pytest.mark.hazard("HAZ-007")
def test_a_dead_monitor_thread_is_reported_and_replaced(
    watching: PcscPresence, events: EventLog, vicc: VirtualCard, monkeypatch: pytest.MonkeyPatch
) -> None:
    vicc.insert()
    events.wait_for("inserted")
    real = scard.SCardGetStatusChange
    calls = {"n": 0}

    def dies_once(*args: object) -> object:
        if threading.current_thread().name == "pcsc-presence" and calls["n"] == 0:
            calls["n"] += 1
            raise SystemError("simulated crash inside the PC/SC binding")
        return real(*args)

    monkeypatch.setattr(presence_module.scard, "SCardGetStatusChange", dies_once)
    mark = len(events)
    _, failed = events.wait_for("failed", after=mark, timeout=2.0)
    assert "monitor thread stopped" in failed.detail
    _, again = events.wait_for("inserted", after=mark, timeout=2.0)  # the new monitor sees the card still there
    assert again.reader == VIRTUAL_READER


@pytest.mark.hazard("HAZ-007")
def test_pcscd_dying_is_reported_within_a_second_and_recovery_is_seen(
    own_pcscd: PcscDaemon, watching: PcscPresence, events: EventLog, vicc: VirtualCard
) -> None:
    vicc.insert()
    events.wait_for("inserted")
    mark = len(events)

    own_pcscd.kill()
    killed = time.monotonic()
    failed_at, failed = events.wait_for("failed", after=mark)
    assert failed_at - killed < 1.0
    assert "0x" in failed.detail  # the PC/SC error code, for IT
    with pytest.raises(NoReader):
        watching.card_present()

    own_pcscd.start()
    vicc.close()  # vicc exits when its reader goes away; a fresh one is the card going back in
    vicc.insert()
    _, back = events.wait_for("inserted", after=mark, timeout=10.0)
    assert back.reader == VIRTUAL_READER
    assert watching.card_present()

"""The training-mode software card's on-screen reader: the same events as a real one, no hardware."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from consent_desktop.auth.training_presence import TRAINING_READER, TrainingPresence
from consent_desktop.sandbox.users import GP, RECEPTIONIST
from tests.smartcard.conftest import EventLog


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
def reader(events: EventLog) -> Iterator[TrainingPresence]:
    presence = TrainingPresence()
    presence.start(events)
    try:
        yield presence
    finally:
        presence.stop()


def test_inserting_and_removing_the_software_card_fires_card_events(reader: TrainingPresence, events: EventLog) -> None:
    assert not reader.card_present()

    reader.insert(RECEPTIONIST.token_label)
    _, inserted = events.wait_for("inserted", timeout=1.0)
    assert (inserted.reader, inserted.token_label) == (TRAINING_READER, RECEPTIONIST.token_label)
    assert reader.card_present()

    reader.remove()
    _, removed = events.wait_for("removed", timeout=1.0)
    assert removed.token_label == RECEPTIONIST.token_label
    assert not reader.card_present()


def test_events_arrive_on_the_presence_thread_not_the_callers(reader: TrainingPresence, events: EventLog) -> None:
    reader.insert(GP.token_label)
    events.wait_for("inserted", timeout=1.0)
    assert events.events[0][2] == "training-presence"
    assert events.events[0][2] != threading.current_thread().name


def test_inserting_another_card_takes_the_first_one_out(reader: TrainingPresence, events: EventLog) -> None:
    reader.insert(RECEPTIONIST.token_label)
    reader.insert(GP.token_label)
    events.wait_for("inserted", after=2, timeout=1.0)

    assert [(e.kind, e.token_label) for _, e, _ in events.events] == [
        ("inserted", RECEPTIONIST.token_label),
        ("removed", RECEPTIONIST.token_label),
        ("inserted", GP.token_label),
    ]


def test_a_card_inserted_before_start_is_reported_at_start(events: EventLog) -> None:
    presence = TrainingPresence()
    presence.insert(GP.token_label)
    presence.start(events)
    try:
        _, inserted = events.wait_for("inserted", timeout=1.0)
    finally:
        presence.stop()
    assert inserted.token_label == GP.token_label


def test_removing_when_no_card_is_in_changes_nothing(reader: TrainingPresence, events: EventLog) -> None:
    reader.remove()
    reader.insert(GP.token_label)
    events.wait_for("inserted", timeout=1.0)
    assert events.kinds() == ["inserted"]


def test_stop_ends_the_presence_thread(events: EventLog) -> None:
    presence = TrainingPresence()
    presence.start(events)
    presence.stop()
    assert "training-presence" not in [t.name for t in threading.enumerate()]

"""Every fault the sandbox can inject, through the object the GUI uses: is the user told the truth?

Each case drives the real :class:`Controller` (``assemble(settings)``, software cards, the training card reader)
against the sandbox over mutual TLS, injects one fault, and compares what the controller reported (a save
result's headline, a record, a patient, or an error) with what the sandbox's store holds afterwards:

- a change is "saved" only if the store holds it, "not saved" only if the store is untouched, and "could not
  confirm" always says "check again"; the local audit has one entry for every change that reached Spine;
- where Spine applies a change late (after its answer timed out, or before reads see it), the user is first told
  "could not confirm" and then, read again in place, "saved" — never "not saved";
- a read shows the patient asked about, as the store holds them, or a plain error — never a wrong record;
- afterwards, with the fault gone, a read shows the truth.

Every case is counted; the counts and any disagreement are printed at the end of the run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from consent_desktop.config import Settings
from consent_desktop.domain.consent import ConsentRecord, SaveResult
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Patient
from consent_desktop.sandbox import patients
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.store import Store
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.pds_client import PdsClient
from consent_desktop.spine.transport import SpineTransport
from tests.conftest import ActiveGate
from tests.resilience.conftest import READ_TIMEOUT
from tests.resilience.desk import (
    CHANGE,
    ERROR,
    LOOK_UP,
    NOT_SAVED,
    PATIENT,
    READ,
    RECHECK,
    RECORD,
    SAVED_ACKNOWLEDGED,
    SAVED_CONFIRMED,
    UNCONFIRMED,
    Desk,
    Stored,
    Told,
    audit_agrees,
    change_agrees,
    client_settings,
    look_up_agrees,
    open_desk,
    other_choice,
    read_agrees,
    stored,
)
from tests.resilience.desk import told as what_is_told
from tests.resilience.figures import FIGURES, MatrixCase
from tests.resilience.sandbox_process import SandboxProcess

NHS = patients.README_EXAMPLE
NUMBER = NhsNumber(NHS)
SCOPE = {LOOK_UP: "pds", READ: "get", CHANGE: "set"}


@dataclass(frozen=True)
class Fault:
    name: str
    value: str = ""
    times: int | None = 1  # None: until cleared


FAULTS = {
    "latency past the timeout": Fault("latency", str(READ_TIMEOUT + 0.6)),
    "HTTP 503 page, nothing stored": Fault("http-503"),
    "HTTP 503 page after Spine processed it": Fault("http-503-after-commit"),
    "HTML error page, nothing stored": Fault("html"),
    "SOAP fault 200": Fault("soap-fault-200"),
    "SOAP fault 206": Fault("soap-fault-206"),
    "SOAP fault 208": Fault("soap-fault-208"),
    "AE 400/35160, Spine's template RelatesTo": Fault("reject-35160"),
    "malformed XML": Fault("malformed"),
    "empty body": Fault("empty"),
    "dropped before commit": Fault("drop-before-commit"),
    "dropped after commit": Fault("drop-after-commit"),
    "answer to another message": Fault("other-message"),
    "answer about another patient": Fault("other-patient"),
    "TLS handshake refused": Fault("tls-refuse", times=None),
    "answer trickled a byte at a time": Fault("trickle", "0.05"),
    "committed late, after the re-read": Fault("late-commit", "1"),
    "stored, but reads see it late": Fault("hold-write", "2.5"),
}
CHANGES_ONLY = {"committed late, after the re-read", "stored, but reads see it late"}
THEN = " \N{RIGHTWARDS ARROW} "  # what the user is told first, then when the change is read again in place

# What each operation must end in, fault by fault, from what Spine would have stored and when. Reads are
# retried only when that is safe (a SOAP fault Spine marks retriable); a change is never re-sent. It is "not
# saved" only when Spine refused it or it never left; otherwise an unknown outcome is settled by reading Spine
# again — "saved" if Spine already holds it, "could not confirm" if not (Spine may yet apply it) — and read again
# in place a few times while the patient is open.
EXPECTED: dict[str, dict[str, str]] = {
    LOOK_UP: {
        "SOAP fault 200": PATIENT,
        "SOAP fault 206": PATIENT,
        "SOAP fault 208": PATIENT,
    },
    READ: {
        "SOAP fault 200": RECORD,
        "SOAP fault 206": RECORD,
        "SOAP fault 208": RECORD,
    },
    CHANGE: {
        "latency past the timeout": SAVED_CONFIRMED,  # the sandbox commits, then answers late
        "HTTP 503 page, nothing stored": UNCONFIRMED,  # sent: a web page is not Spine saying it did nothing
        "HTTP 503 page after Spine processed it": SAVED_CONFIRMED,
        "HTML error page, nothing stored": UNCONFIRMED,
        "SOAP fault 200": NOT_SAVED,  # Spine's messaging layer: the message was not processed
        "SOAP fault 206": NOT_SAVED,
        "SOAP fault 208": NOT_SAVED,
        "AE 400/35160, Spine's template RelatesTo": NOT_SAVED,  # Spine's refusal, tied by its messageRef
        "malformed XML": SAVED_CONFIRMED,
        "empty body": SAVED_CONFIRMED,
        "dropped before commit": UNCONFIRMED,  # the connection died after sending: Spine may have it
        "dropped after commit": SAVED_CONFIRMED,
        "answer to another message": SAVED_CONFIRMED,
        "TLS handshake refused": NOT_SAVED,  # refused before any byte of the request was sent
        "answer trickled a byte at a time": SAVED_CONFIRMED,  # stored; the deadline ends the answer; read back
        "committed late, after the re-read": UNCONFIRMED + THEN + SAVED_CONFIRMED,
        "stored, but reads see it late": UNCONFIRMED + THEN + SAVED_CONFIRMED,
    },
}
# What each case proves (docs/safety/hazard-log.md): the patient and the consent shown are the truth, a change's
# outcome is never overstated or understated, Spine being unavailable is said plainly, and an answer that is not
# Spine's own is never believed.
HAZARDS = {
    LOOK_UP: ("HAZ-001", "HAZ-009"),
    READ: ("HAZ-002", "HAZ-009"),
    CHANGE: ("HAZ-003", "HAZ-004", "HAZ-009", "HAZ-016"),
}
NOT_SPINES_OWN = {
    "HTML error page, nothing stored",
    "malformed XML",
    "answer to another message",
    "answer about another patient",
}
CASES = [
    pytest.param(
        operation,
        fault,
        id=f"{operation}-{fault}",
        marks=pytest.mark.hazard(*HAZARDS[operation], *(("HAZ-013",) if fault in NOT_SPINES_OWN else ())),
    )
    for operation in (LOOK_UP, READ, CHANGE)
    for fault in FAULTS
    if (fault in EXPECTED[CHANGE] if operation == CHANGE else fault not in CHANGES_ONLY)
]


def expected(operation: str, fault: str) -> str:
    return EXPECTED[operation].get(fault, ERROR)


def describe(before: Stored, after: Stored) -> str:
    if after == before:
        return "unchanged"
    return "changed" if after.choice is not before.choice else "rewritten"


def record(operation: str, fault: str, told: Told, store: str, agrees: bool) -> None:
    FIGURES.matrix.append(MatrixCase(operation, fault, told.kind, store, agrees, round(told.seconds, 3)))


def arm(store: Store, fault: Fault, scope: str) -> None:
    # A refused handshake happens before any request can be told apart, so that fault covers every request.
    store.set_fault(fault.name, fault.value, "all" if fault.name == "tls-refuse" else scope, fault.times)


def found_elsewhere(settings: Settings, nhs: str) -> Patient:
    """The patient as the user found them earlier: read by a client of its own, so the workstation under test
    has opened no connection to Spine yet."""
    transport = SpineTransport(settings.spine, settings.tls)
    try:
        return PdsClient(transport, SpineEndpoint.for_pds(settings.spine), ActiveGate()).retrieve(NhsNumber(nhs))
    finally:
        transport.close()


def judge_change(desk: Desk, store: Store, before: Stored, audited: int, told: Told) -> tuple[Stored, bool]:
    """What the store holds after a change, and whether what the user was told agrees with it and the audit."""
    after = stored(store, NHS)
    agrees = change_agrees(told, before, after, other_choice(before.choice)) and audit_agrees(
        audited, desk.consent_changes(), told
    )
    return after, agrees


def sandbox_store(sandbox: Sandbox) -> Store:
    assert sandbox.store is not None
    return sandbox.store


def ready_to_change(desk: Desk, store: Store) -> tuple[Patient, Stored, int]:
    """The patient looked up, what the store holds for them, and how many changes the audit holds: before a change."""
    patient = desk.look_up(NHS).value
    assert isinstance(patient, Patient)
    return patient, stored(store, NHS), len(desk.consent_changes())


def run_case(desk: Desk, store: Store, operation: str, fault_label: str, patient: Patient) -> tuple[Told, bool]:
    """One operation under one fault; what the user was told, and whether it agrees with the store."""
    before, audited = stored(store, NHS), len(desk.consent_changes())
    arm(store, FAULTS[fault_label], SCOPE[operation])
    try:
        if operation == LOOK_UP:
            told = desk.look_up(NHS)
            agrees = look_up_agrees(told, NHS)
        elif operation == READ:
            told = desk.read_consent(NUMBER)
            agrees = read_agrees(told, NUMBER, stored(store, NHS))
        else:
            shown = desk.read_consent(NUMBER) if fault_label != "TLS handshake refused" else None
            record_shown = shown.value if shown is not None and isinstance(shown.value, ConsentRecord) else None
            marks = (len(desk.outcomes[RECHECK]), len(desk.rechecks()))
            told = desk.change(patient, record_shown, other_choice(before.choice))
            agrees = judge_change(desk, store, before, audited, told)[1]
            if THEN in expected(operation, fault_label) and told.kind == UNCONFIRMED:
                told, settled = read_again_in_place(desk, store, before, told, marks)
                agrees = agrees and settled
    finally:
        store.clear_faults()
    after = stored(store, NHS)
    truth = desk.read_consent(NUMBER)  # the fault gone, the app shows what Spine holds
    agrees = agrees and read_agrees(truth, NUMBER, after) and truth.kind == RECORD and not desk.crashes
    if operation != CHANGE:
        agrees = agrees and after == before  # a read never changes anything
    record(operation, fault_label, told, describe(before, after), agrees)
    return told, agrees


def read_again_in_place(
    desk: Desk, store: Store, before: Stored, first: Told, marks: tuple[int, int]
) -> tuple[Told, bool]:
    """The change the user was told "could not confirm" about, read again by the app while the patient is open
    (``marks``: the app's readings and their audit entries before the change): what the user is told then, after
    the first telling, and whether that agrees with the store and with the audit of each reading."""
    started = time.perf_counter()
    later = what_is_told(desk.wait(RECHECK, marks[0], timeout_ms=30_000))
    after = stored(store, NHS)
    readings = desk.rechecks()[marks[1] :]
    agrees = (
        change_agrees(later, before, after, other_choice(before.choice))
        and bool(readings)
        and isinstance(later.value, SaveResult)
        and readings[-1].outcome.startswith(later.value.outcome.value)
    )
    seconds = first.seconds + time.perf_counter() - started
    return Told(first.kind + THEN + later.kind, f"{first.text}{THEN}{later.text}", later.value, seconds), agrees


@pytest.mark.parametrize(("operation", "fault"), CASES)
def test_what_the_user_is_told_agrees_with_the_store(
    operation: str, fault: str, card_sandbox: Sandbox, qtbot: QtBot, tmp_path: Path
) -> None:
    store = sandbox_store(card_sandbox)
    with open_desk(card_sandbox.data.client_config, tmp_path / "app", qtbot, read_timeout=READ_TIMEOUT) as desk:
        desk.sign_in()
        if FAULTS[fault].name == "tls-refuse":
            # Only a new connection has a handshake: the workstation must not have one to Spine open already.
            settings = client_settings(card_sandbox.data.client_config, tmp_path / "other")
            patient = found_elsewhere(settings, NHS)
        else:
            looked_up = desk.look_up(NHS)  # the connection in use when the fault strikes, as at a real desk
            assert isinstance(looked_up.value, Patient)
            patient = looked_up.value
        told, agrees = run_case(desk, store, operation, fault, patient)
    assert agrees, f"{operation} under {fault}: told {told.kind!r} ({told.text})"
    assert told.kind == expected(operation, fault), told.text


# --- unknown outcomes, and what settles them ---------------------------------------------------------------------


@pytest.mark.hazard("HAZ-004", "HAZ-009")
def test_dropped_after_commit_with_spine_unreadable_is_could_not_confirm(desk: Desk, card_sandbox: Sandbox) -> None:
    store = sandbox_store(card_sandbox)
    patient, before, audited = ready_to_change(desk, store)
    store.set_fault("drop-after-commit", scope="set", times=1)
    store.set_fault("http-503", scope="get")  # the check read finds Spine down
    try:
        told = desk.change(patient, None, other_choice(before.choice))
    finally:
        store.clear_faults()
    after, agrees = judge_change(desk, store, before, audited, told)
    record(CHANGE, "dropped after commit, check read fails", told, describe(before, after), agrees)
    assert agrees and told.kind == UNCONFIRMED, told.text
    assert after.choice is other_choice(before.choice)  # it was saved: "could not confirm" was the honest answer


@pytest.mark.hazard("HAZ-001", "HAZ-002", "HAZ-003")
def test_acknowledged_change_whose_check_read_is_about_another_patient(desk: Desk, card_sandbox: Sandbox) -> None:
    store = sandbox_store(card_sandbox)
    patient, before, audited = ready_to_change(desk, store)
    store.set_fault("other-patient", scope="get", times=1)
    try:
        told = desk.change(patient, None, other_choice(before.choice))
    finally:
        store.clear_faults()
    after, agrees = judge_change(desk, store, before, audited, told)
    record(CHANGE, "check read about another patient", told, describe(before, after), agrees)
    # Spine's AA is authoritative; the wrong record from the check read is never shown as this patient's.
    assert agrees and told.kind == SAVED_ACKNOWLEDGED, told.text
    assert told.value.record is None  # type: ignore[union-attr]


# --- the smartcard leaves during a save ----------------------------------------------------------------------------


def until_consumed(desk: Desk, store: Store) -> None:
    """Until the sandbox has taken the armed faults: the request is at Spine, its answer not yet sent."""
    desk.qtbot.waitUntil(lambda: store.faults() == [], timeout=5000)


CARD_CASES = {
    # label: faults on the change, and what the user must be told once they unlock
    "card pulled during the save": ([("latency", "0.8")], SAVED_ACKNOWLEDGED),
    "card pulled, then dropped after commit": ([("latency", "0.8"), ("drop-after-commit", "")], UNCONFIRMED),
    "card pulled, then dropped before commit": ([("drop-before-commit", ""), ("latency", "0.8")], UNCONFIRMED),
}


@pytest.mark.hazard("HAZ-004", "HAZ-007")
@pytest.mark.parametrize("label", list(CARD_CASES))
def test_card_pulled_during_a_save(label: str, desk: Desk, card_sandbox: Sandbox) -> None:
    """The lock wins: nothing about the patient is shown while locked, and the change's outcome is held, then
    shown to the same user after unlocking. With the session locked the change cannot be checked by re-reading:
    Spine's acknowledgement still counts as saved; an unknown outcome is "could not confirm"."""
    store = sandbox_store(card_sandbox)
    faults, kind = CARD_CASES[label]
    patient, before, audited = ready_to_change(desk, store)
    for name, value in faults:
        store.set_fault(name, value, "set", 1)
    mark = desk.start_change(patient, None, other_choice(before.choice))
    until_consumed(desk, store)
    desk.pull_card()
    desk.qtbot.waitUntil(lambda: desk.controller.runner.pending == 0, timeout=5000)  # the answer is back
    shown_while_locked = len(desk.outcomes[CHANGE]) > mark
    desk.unlock()
    told = desk.finish(CHANGE, mark)
    after, agrees = judge_change(desk, store, before, audited, told)
    agrees = agrees and not shown_while_locked
    record(CHANGE, label, told, describe(before, after), agrees)
    assert agrees and told.kind == kind, told.text


@pytest.mark.hazard("HAZ-003", "HAZ-007")
def test_card_pulled_just_before_the_save(desk: Desk, card_sandbox: Sandbox) -> None:
    store = sandbox_store(card_sandbox)
    patient, before, audited = ready_to_change(desk, store)
    desk.card.remove()  # the lock reaches the session on the presence thread; the save is asked for at once
    told = desk.change(patient, None, other_choice(before.choice))
    after, agrees = judge_change(desk, store, before, audited, told)
    record(CHANGE, "card pulled just before the save", told, describe(before, after), agrees)
    assert agrees and told.kind == ERROR, told.text  # refused before sending: nothing changed
    assert "smartcard" in told.text


# --- Spine restarted mid-request -----------------------------------------------------------------------------------


@pytest.fixture
def spawned_desk(spawned: SandboxProcess, qtbot: QtBot, tmp_path: Path) -> Iterator[Desk]:
    with open_desk(spawned.data.client_config, tmp_path / "app", qtbot, read_timeout=5.0) as desk:
        desk.sign_in()
        yield desk


RESTARTS = {
    # label: the operation, the faults that hold the request at Spine, what may be told
    "look up": (LOOK_UP, [("latency", "5")], {ERROR}),
    "read consent": (READ, [("latency", "5")], {ERROR}),
    "change, killed before committing": (CHANGE, [("drop-before-commit", ""), ("latency", "5")], {UNCONFIRMED}),
    "change, killed after committing": (CHANGE, [("latency", "5")], {SAVED_CONFIRMED, UNCONFIRMED}),
}


@pytest.mark.hazard("HAZ-003", "HAZ-004", "HAZ-009")
@pytest.mark.parametrize("label", list(RESTARTS))
def test_spine_restarted_mid_request(label: str, spawned: SandboxProcess, spawned_desk: Desk) -> None:
    """The sandbox is killed while it holds the request and started again on the same ports. Whether a change can
    be settled depends on how soon Spine is back; either way the user is told the truth, and once Spine is back
    the app shows what it holds."""
    operation, faults, allowed = RESTARTS[label]
    desk = spawned_desk
    store = spawned.store()
    try:
        looked_up = desk.look_up(NHS)
        assert isinstance(looked_up.value, Patient)
        before, audited = stored(store, NHS), len(desk.consent_changes())
        for name, value in faults:
            store.set_fault(name, value, SCOPE[operation], 1)
        if operation == LOOK_UP:
            mark = desk.start(LOOK_UP, lambda: desk.controller.look_up(NHS))
        elif operation == READ:
            mark = desk.start(READ, lambda: desk.controller.load_consent(NUMBER))
        else:
            mark = desk.start_change(looked_up.value, None, other_choice(before.choice))
        until_consumed(desk, store)
        if label.endswith("after committing"):
            desk.qtbot.waitUntil(lambda: stored(store, NHS).changes > before.changes, timeout=5000)
        spawned.kill()
        spawned.start()
        told = desk.finish(operation, mark)
        after = stored(store, NHS)
        truth = desk.read_consent(NUMBER)
        if operation == CHANGE:
            agrees = judge_change(desk, store, before, audited, told)[1]
        else:
            agrees = told.kind == ERROR and after == before
        agrees = agrees and read_agrees(truth, NUMBER, after) and truth.kind == RECORD and not desk.crashes
        record(operation, f"Spine restarted mid-request ({label})", told, describe(before, after), agrees)
    finally:
        store.close()
    assert agrees, told.text
    assert told.kind in allowed, told.text
    if label.endswith("after committing"):
        assert after.choice is other_choice(before.choice)  # committed before the kill: it survived the restart

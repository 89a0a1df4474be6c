"""Drive the GUI's controller the way the screen does, and put what the user was told next to what Spine stored.

A :class:`Desk` is one workstation: the real :class:`Controller` built by ``assemble(settings)`` against a sandbox
with software cards and the training card reader. Each use case returns a :class:`Told`: the one thing the screen
would show (a save result's headline, a record, a patient, or an error's message) and how long it took.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pytestqt.qtbot import QtBot

from consent_desktop.audit import AuditEntry, AuditLog
from consent_desktop.auth.session import SessionState
from consent_desktop.auth.training_presence import TrainingPresence
from consent_desktop.config import Settings, TomlFileSource, load_settings
from consent_desktop.controller.assembly import assemble
from consent_desktop.controller.controller import Controller
from consent_desktop.domain.consent import ConsentChoice, ConsentRecord, ExpressedBy, SaveOutcome, SaveResult
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Patient
from consent_desktop.sandbox import patients
from consent_desktop.sandbox.store import Store
from consent_desktop.sandbox.users import RECEPTIONIST, TRAINING_PIN

# What a user can be told. A change: exactly one of the first four (an error for a change means nothing was
# sent). A read: the record or the patient, or a plain error.
SAVED_CONFIRMED = "saved (confirmed by re-read)"
SAVED_ACKNOWLEDGED = "saved (on Spine's acknowledgement)"
NOT_SAVED = "not saved, nothing changed"
UNCONFIRMED = "could not confirm, check again"
RECORD = "record shown"
PATIENT = "patient shown"
ERROR = "plain error"
SAVED = frozenset({SAVED_CONFIRMED, SAVED_ACKNOWLEDGED})

OPERATION_TIMEOUT_MS = 20_000
LOOK_UP, READ, CHANGE = "look up", "read consent", "change consent"  # the controller's names for them
RECHECK = "read the change again"  # a later reading of a change that could not be confirmed
RECHECK_AFTER_MS = (1_500, 3_000, 6_000)  # the app's schedule (about a minute), shortened


@dataclass(frozen=True)
class Told:
    kind: str
    text: str  # the headline, the record in plain English, the patient's name, or the error's message
    value: SaveResult | ConsentRecord | Patient | ConsentDesktopError
    seconds: float


@dataclass(frozen=True)
class Stored:
    """One patient's consent as the sandbox's store holds it, and how many changes it has logged for them."""

    assertions: dict[str, str]
    changes: int

    @property
    def choice(self) -> ConsentChoice:
        return ConsentChoice.OPTED_OUT if "No" in self.assertions.values() else ConsentChoice.ASK_PERMISSION


def stored(store: Store, nhs: str) -> Stored:
    return Stored(store.assertions(nhs), len(store.changes(nhs)))


def other_choice(choice: ConsentChoice) -> ConsentChoice:
    return ConsentChoice.ASK_PERMISSION if choice is ConsentChoice.OPTED_OUT else ConsentChoice.OPTED_OUT


def client_settings(config: Path, data_dir: Path, *, read_timeout: float | None = None) -> Settings:
    """The sandbox's client configuration, with the audit under ``data_dir`` and, if given, a shorter timeout (and
    deadlines of twice that)."""
    settings = load_settings([TomlFileSource(config, "sandbox client.toml")])
    spine = settings.spine
    if read_timeout is not None:
        deadline = 2 * read_timeout
        spine = dataclasses.replace(spine, read_timeout=read_timeout, read_deadline=deadline, change_deadline=deadline)
    return dataclasses.replace(settings, spine=spine, app=dataclasses.replace(settings.app, data_dir=data_dir))


def plain(error: ConsentDesktopError) -> bool:
    """A message a receptionist can read: a sentence, with no exception names or stack traces in it."""
    message = error.user_message
    return (
        bool(message)
        and message[0].isupper()
        and message.rstrip().endswith((".", "?"))
        and "Traceback" not in message
        and "Exception" not in message
        and type(error).__name__ not in message
    )


def told_about_save(result: SaveResult) -> str:
    """The kind of message a save result's headline gives; a headline that does not say what the outcome is
    (a "could not confirm" without "check again", say) is reported as itself, so it never counts as agreeing."""
    headline = result.headline
    if result.outcome is SaveOutcome.SAVED and headline.startswith("Saved on Spine at "):
        return SAVED_CONFIRMED if result.confirmed_by_reread else SAVED_ACKNOWLEDGED
    says = headline.startswith(("NOT saved", "Could not confirm")) and bool(result.reason)
    if result.outcome is SaveOutcome.NOT_SAVED and says and headline.endswith("nothing changed"):
        return NOT_SAVED
    if result.outcome is SaveOutcome.UNCONFIRMED and says and headline.endswith("check again"):
        return UNCONFIRMED
    return f"unclear headline: {headline}"


class Desk:
    """A signed-in workstation's controller, with every outcome it reports kept in order, per use case."""

    def __init__(self, controller: Controller, qtbot: QtBot) -> None:
        self.controller = controller
        self.qtbot = qtbot
        self.audit: AuditLog = controller.workstation.parts.audit
        # action -> what the controller reported for it, in order: a result, or the error it emitted instead
        self.outcomes: dict[str, list[object]] = {LOOK_UP: [], READ: [], CHANGE: [], RECHECK: []}
        self.crashes: list[object] = []
        self._started: dict[tuple[str, int], float] = {}
        controller.patient_shown.connect(self.outcomes[LOOK_UP].append)
        controller.consent_loaded.connect(self.outcomes[READ].append)
        controller.save_finished.connect(self.outcomes[CHANGE].append)
        controller.save_rechecked.connect(self.outcomes[RECHECK].append)
        controller.failed.connect(self._failed)
        controller.crashed.connect(self.crashes.append)

    @property
    def card(self) -> TrainingPresence:
        presence = self.controller.training_card
        assert presence is not None, "the sandbox's client configuration uses the training card reader"
        return presence

    def sign_in(self) -> None:
        self._until_session(SessionState.ACTIVE, lambda: self.controller.sign_in(bytearray(TRAINING_PIN.encode())))

    def pull_card(self) -> None:
        self._until_session(SessionState.LOCKED, self.card.remove)

    def unlock(self) -> None:
        """Card back in and the passcode typed: the session is active again."""
        self.card.insert(RECEPTIONIST.token_label)
        self._until_session(SessionState.ACTIVE, lambda: self.controller.unlock(bytearray(TRAINING_PIN.encode())))

    # --- the use cases -------------------------------------------------------------------------------------------

    def look_up(self, nhs: str) -> Told:
        return self._timed(LOOK_UP, lambda: self.controller.look_up(nhs))

    def read_consent(self, nhs: NhsNumber) -> Told:
        return self._timed(READ, lambda: self.controller.load_consent(nhs))

    def change(self, patient: Patient, shown: ConsentRecord | None, choice: ConsentChoice) -> Told:
        return self._timed(CHANGE, lambda: self._change(patient, shown, choice))

    def start_change(self, patient: Patient, shown: ConsentRecord | None, choice: ConsentChoice) -> int:
        return self.start(CHANGE, lambda: self._change(patient, shown, choice))

    def finish(self, action: str, mark: int) -> Told:
        """What the user was told for the operation started at ``mark``, timed from its start."""
        outcome = self.wait(action, mark)
        return told(outcome, time.perf_counter() - self._started.pop((action, mark)))

    def start(self, action: str, begin: Callable[[], None]) -> int:
        mark = len(self.outcomes[action])
        self._started[(action, mark)] = time.perf_counter()
        begin()
        return mark

    def wait(self, action: str, mark: int, timeout_ms: int = OPERATION_TIMEOUT_MS) -> object:
        """The first outcome reported for ``action`` after ``mark``."""
        outcomes = self.outcomes[action]
        self.qtbot.waitUntil(lambda: len(outcomes) > mark, timeout=timeout_ms)
        return outcomes[mark]

    def forget(self) -> None:
        """Drop the outcomes kept so far (nothing may be in flight), so a long run holds no more than one."""
        for outcomes in self.outcomes.values():
            outcomes.clear()
        self._started.clear()

    def consent_changes(self) -> list[AuditEntry]:
        return [entry for entry in self.audit.entries() if entry.event == "consent-change"]

    def rechecks(self) -> list[AuditEntry]:
        return [entry for entry in self.audit.entries() if entry.event == "consent-recheck"]

    # --- internals ---------------------------------------------------------------------------------------------

    def _change(self, patient: Patient, shown: ConsentRecord | None, choice: ConsentChoice) -> None:
        self.controller.change_consent(patient, shown, choice, ExpressedBy.IN_PERSON, "resilience suite")

    def _timed(self, action: str, begin: Callable[[], None]) -> Told:
        return self.finish(action, self.start(action, begin))

    def _failed(self, error: ConsentDesktopError, action: str) -> None:
        self.outcomes.setdefault(action, []).append(error)

    def _until_session(self, state: SessionState, act: Callable[[], None]) -> None:
        with self.qtbot.waitSignal(
            self.controller.session_changed,
            timeout=OPERATION_TIMEOUT_MS,
            check_params_cb=lambda change: change.state is state,
        ):
            act()


def told(outcome: object, seconds: float = 0.0) -> Told:
    """What the screen shows for an outcome the controller reported. An error reported for a change means it was
    refused before anything was sent: "not saved, nothing changed"."""
    if isinstance(outcome, SaveResult):
        return Told(told_about_save(outcome), outcome.headline, outcome, seconds)
    if isinstance(outcome, ConsentRecord):
        return Told(RECORD, outcome.plain_english, outcome, seconds)
    if isinstance(outcome, Patient):
        return Told(PATIENT, outcome.display_name, outcome, seconds)
    assert isinstance(outcome, ConsentDesktopError), f"the controller reported {type(outcome).__name__}"
    kind = ERROR if plain(outcome) else f"unplain error: {outcome.user_message!r}"
    return Told(kind, outcome.user_message, outcome, seconds)


@contextmanager
def open_desk(
    config: Path,
    data_dir: Path,
    qtbot: QtBot,
    *,
    read_timeout: float | None = None,
    recheck_after_ms: tuple[int, ...] = RECHECK_AFTER_MS,
) -> Iterator[Desk]:
    """A started workstation for a sandbox's client configuration (not yet signed in); shut down afterwards."""
    settings = client_settings(config, data_dir, read_timeout=read_timeout)
    controller = Controller(assemble(settings), progress_delay_ms=50, recheck_after_ms=recheck_after_ms)
    desk = Desk(controller, qtbot)
    with qtbot.waitSignal(controller.card_status, timeout=OPERATION_TIMEOUT_MS):
        controller.start()
    try:
        yield desk
    finally:
        controller.shutdown()


# --- does what the user was told agree with the store? -------------------------------------------------------------


def change_agrees(told: Told, before: Stored, after: Stored, requested: ConsentChoice) -> bool:
    """Saved: the store holds the change. Not saved: the store is untouched. Could not confirm: either, but said."""
    if told.kind in SAVED:
        return after.choice is requested and after.changes > before.changes
    if told.kind in (NOT_SAVED, ERROR):  # an error for a change: refused before anything was sent
        return after == before
    return told.kind == UNCONFIRMED


def read_agrees(told: Told, nhs: NhsNumber, now: Stored) -> bool:
    """The record of the patient asked about, as the store holds it, or a plain error: never a wrong record."""
    if isinstance(told.value, ConsentRecord):
        return told.kind == RECORD and told.value.nhs_number == nhs and told.value.choice is now.choice
    return told.kind == ERROR


def look_up_agrees(told: Told, nhs: str) -> bool:
    """The patient asked for (or the record their old number was merged into), or a plain error."""
    if isinstance(told.value, Patient):
        expected = patients.SUPERSEDED.get(nhs, nhs)
        record = patients.BY_NUMBER.get(expected)
        return (
            told.kind == PATIENT
            and record is not None
            and told.value.nhs_number.digits == expected
            and (told.value.family_name or "").casefold() == record.family.casefold()
            and told.value.birth_date == record.born
        )
    return told.kind == ERROR


def audit_agrees(entries_before: int, entries: list[AuditEntry], told: Told) -> bool:
    """One consent-change entry per change that reached Spine, with the outcome the user was told."""
    if isinstance(told.value, SaveResult):
        return len(entries) == entries_before + 1 and entries[-1].outcome.startswith(told.value.outcome.value)
    return len(entries) == entries_before

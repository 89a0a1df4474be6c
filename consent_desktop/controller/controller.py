"""The GUI's controller: each use case of the workstation, run off the GUI thread, reported by Qt signals.

Widgets call these methods and listen to these signals; they never see a thread, a socket or the card. A lock
wins every race: when the card leaves, the session locks on the presence thread, the screen is told to hide
patient details, and only then are pending results discarded; a result that arrives later is dropped unless the
session is active. A consent change is the exception: its outcome is never dropped — it is always in the audit,
and it is held and shown to the same user when they unlock or next sign in (never to anyone else). A change
that could not be confirmed is read again a few times over about a minute, off the GUI thread and never re-sent,
and its result is updated in place when Spine shows the change.
"""

from __future__ import annotations

import importlib
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from consent_desktop.auth.card import CardEvent, CardPresence, CardStatus
from consent_desktop.auth.providers import CIS, PROVIDERS
from consent_desktop.auth.session import ChangeConsentCheck, SessionChange, SessionState
from consent_desktop.auth.training_presence import TrainingPresence
from consent_desktop.controller.main_thread_gc import collect_on_gui_thread
from consent_desktop.controller.runner import Lane, OperationRunner
from consent_desktop.domain.consent import (
    RECHECK_AFTER,
    ConsentChoice,
    ConsentRecord,
    ExpressedBy,
    SaveOutcome,
    SaveResult,
)
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.domain.identity import RoleProfile
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Patient, TraceOutcome, TraceQuery

if TYPE_CHECKING:  # the workstation pulls in the network, card and XML libraries: loaded off the GUI thread
    from consent_desktop.config import Settings
    from consent_desktop.controller.workstation import Workstation

log = logging.getLogger(__name__)
T = TypeVar("T")
EXPIRY_CHECK_MS = 15_000
CRASHED = "something went wrong inside the app while saving"
RECHECK_AFTER_MS = tuple(round(seconds * 1000) for seconds in RECHECK_AFTER)
CHECK_AUDIT = "check the local record of changes"
_CARD_STATUS = {"inserted": CardStatus.READY, "removed": CardStatus.NO_CARD, "failed": CardStatus.NO_READER}


@dataclass
class _Recheck:
    """A change whose outcome could not be confirmed, being read again for its user. ``generation`` changes
    whenever a lock pauses it, so a timer or a read from before the pause is ignored."""

    result: SaveResult
    user_id: str
    step: int = 0
    generation: int = 0
    paused: bool = False


@dataclass(frozen=True)
class WorkstationRecipe:
    """A workstation to build off the GUI thread once the window is up, and what the screen needs before then."""

    settings: Settings
    presence: CardPresence
    build: Callable[[], Workstation]


class Controller(QObject):
    ready = Signal()  # the workstation behind the screen is built (a built one given at once needs no signal)
    card_status = Signal(object)  # CardStatus
    session_changed = Signal(object)  # SessionChange: the UI shows or hides everything from this
    patient_shown = Signal(object)  # Patient, from a lookup or a unique trace match
    trace_finished = Signal(object)  # TraceOutcome
    consent_loaded = Signal(object)  # ConsentRecord
    save_finished = Signal(object)  # SaveResult
    save_rechecked = Signal(object)  # SaveResult: a later reading of an unconfirmed change, replacing its result
    history_loaded = Signal(object)  # PatientHistory: the patient it is about, their changes, the audit's state
    failed = Signal(object, str)  # ConsentDesktopError, and what the user was doing ("look up", "sign in", ...)
    busy = Signal(str)
    idle = Signal()
    crashed = Signal(object)
    file_written = Signal(object, str)  # Path, and what was being saved ("save the confirmation slip", ...)
    pin_state = Signal(object)  # PinState of the card just inserted, before any passcode is typed

    _session_event = Signal(object)  # from whichever thread changed the session
    _card_event = Signal(object)  # from the presence thread

    def __init__(
        self,
        workstation: Workstation | WorkstationRecipe,
        parent: QObject | None = None,
        *,
        progress_delay_ms: int = 400,
        recheck_after_ms: Sequence[int] = RECHECK_AFTER_MS,
    ) -> None:
        """Given a workstation, ready at once (tests, the benchmarks). Given a recipe, :meth:`start` builds it on
        the card lane, so the window is on screen before the libraries behind it have loaded."""
        super().__init__(parent)
        collect_on_gui_thread()  # before any lane starts: a Qt object freed on a worker can hang the app
        self._recipe: WorkstationRecipe | None
        self._workstation: Workstation | None
        if isinstance(workstation, WorkstationRecipe):
            self._recipe, self._workstation = workstation, None
            self._settings, self._presence = workstation.settings, workstation.presence
        else:
            self._recipe, self._workstation = None, workstation
            self._settings, self._presence = workstation.parts.settings, workstation.parts.presence
        self.runner = OperationRunner(self, progress_delay_ms=progress_delay_ms)
        self.runner.busy.connect(self.busy)
        self.runner.idle.connect(self.idle)
        self.runner.crashed.connect(self.crashed)
        self._user_id: str | None = None  # who is signed in (also while locked)
        self._held: dict[str, list[SaveResult]] = {}  # user id -> outcomes that arrived while they were away
        self._rechecks: dict[str, _Recheck] = {}  # NHS number -> its unconfirmed change, being read again
        self._recheck_after_ms = tuple(recheck_after_ms)
        self._card_label: str | None = None  # the software card in the training reader, from its events
        self._session_event.connect(self._on_session_event, Qt.ConnectionType.QueuedConnection)
        self._card_event.connect(self._on_card_event, Qt.ConnectionType.QueuedConnection)
        self._hear_session = self._session_event.emit  # kept, so the very same callable can be removed
        self._closed = False
        self._expiry = QTimer(self)
        self._expiry.setInterval(EXPIRY_CHECK_MS)
        self._expiry.timeout.connect(self._check_expiry)

    # --- life cycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._workstation is not None:
            self._begin(self._workstation)
        elif self._recipe is not None:
            self._run(self._recipe.build, self._built, "start", lane=Lane.CARD, keep=True)
        self._expiry.start()

    def _built(self, workstation: Workstation) -> None:
        if self._closed:
            workstation.close()
            return
        self._workstation = workstation
        self._begin(workstation)
        self.ready.emit()

    def _begin(self, workstation: Workstation) -> None:
        workstation.session.add_listener(self._hear_session)
        self._run(
            lambda: workstation.start(self._card_event.emit),
            lambda _: self._refresh_card(),
            "start",
            lane=Lane.CARD,
        )
        self._run(workstation.check_audit, _ignore, CHECK_AUDIT, lane=Lane.DISK, keep=True)

    def shutdown(self) -> None:
        """Sign out and release the card and connections; blocks briefly, only when the app closes. Once."""
        if self._closed:
            return
        self._closed = True
        self._expiry.stop()
        workstation = self._workstation
        if workstation is not None:
            workstation.session.remove_listener(self._hear_session)
        self.runner.shutdown()
        if workstation is None:
            return
        try:
            workstation.sign_out()
        except ConsentDesktopError as error:
            log.warning("sign-out at exit incomplete: %s", error.details)
        workstation.close()

    @property
    def workstation(self) -> Workstation:
        if self._workstation is None:
            raise RuntimeError("the workstation is still being set up")
        return self._workstation

    @property
    def is_ready(self) -> bool:
        return self._workstation is not None

    @property
    def session_state(self) -> SessionState:
        return self._workstation.session.state if self._workstation is not None else SessionState.SIGNED_OUT

    @property
    def training_card(self) -> TrainingPresence | None:
        """The on-screen card reader of training mode, or None with real hardware."""
        return self._presence if isinstance(self._presence, TrainingPresence) else None

    @property
    def card_in_reader(self) -> str | None:
        """The token label of the training-mode software card in the reader; None for a real reader."""
        return self._card_label

    @property
    def offered_roles(self) -> tuple[RoleProfile, ...]:
        """The roles the signed-in user may choose from, while choosing."""
        return self._workstation.session.offered_roles if self._workstation is not None else ()

    def change_check(self) -> ChangeConsentCheck:
        if self._workstation is None:
            return ChangeConsentCheck(False, "Sign in and choose a role to change consent.")
        return self._workstation.change_check()

    # --- signing in -----------------------------------------------------------------------------------------

    @property
    def provider(self) -> str:
        """The identity provider in use: "cis" (smartcard) or "cis2" (OpenID Connect in the browser)."""
        return PROVIDERS.get(self._settings.auth.provider, CIS).key

    @property
    def provider_name(self) -> str:
        """The identity provider's name for the sign-in screen."""
        return PROVIDERS.get(self._settings.auth.provider, CIS).label

    @property
    def provider_notice(self) -> str:
        """What the sign-in screen must say about the route besides its name (the legacy route's end date)."""
        return PROVIDERS.get(self._settings.auth.provider, CIS).notice

    @property
    def sign_in_needs_pin(self) -> bool:
        """False for CIS2: the user signs in in the browser; unlocking always takes the card's PIN."""
        return PROVIDERS.get(self._settings.auth.provider, CIS).needs_pin

    def sign_in(self, pin: bytearray | None = None) -> None:
        """With the card's PIN (CIS), or without one (CIS2: the system browser opens)."""
        label = "Checking your smartcard" if pin is not None else "Waiting for you to sign in in the browser"
        self._card(lambda: self.workstation.sign_in(pin), "sign in", f"{label}\N{HORIZONTAL ELLIPSIS}")

    def cancel_sign_in(self) -> None:
        """Give up a CIS2 sign-in that is waiting for the browser; it then fails as cancelled."""
        self.workstation.cancel_sign_in()

    def choose_role(self, role_profile_id: str) -> None:
        self._card(
            lambda: self.workstation.choose_role(role_profile_id),
            "choose a role",
            "Starting your session\N{HORIZONTAL ELLIPSIS}",
        )

    def unlock(self, pin: bytearray) -> None:
        self._card(lambda: self.workstation.unlock(pin), "unlock", "Checking your smartcard\N{HORIZONTAL ELLIPSIS}")

    def sign_out(self) -> None:
        self._card(self.workstation.sign_out, "sign out", "")

    # --- patients and consent ---------------------------------------------------------------------------------

    def look_up(self, nhs_text: str) -> None:
        try:
            nhs_number = NhsNumber.parse(nhs_text)
        except ConsentDesktopError as error:
            self.failed.emit(error, "look up")
            return
        self._run(
            lambda: self.workstation.look_up(nhs_number),
            self._guarded(self._found),
            "look up",
            label="Finding the patient\N{HORIZONTAL ELLIPSIS}",
        )

    def trace(self, **fields: Any) -> None:
        """Fields as typed: family_name, given_name, gender, date_of_birth, postcode."""
        try:
            query = TraceQuery.parse(**fields)
        except ConsentDesktopError as error:
            self.failed.emit(error, "search")
            return
        self._run(
            lambda: self.workstation.trace(query),
            self._guarded(self._traced),
            "search",
            label="Searching PDS\N{HORIZONTAL ELLIPSIS}",
        )

    def load_consent(self, nhs_number: NhsNumber) -> None:
        self._run(
            lambda: self.workstation.load_consent(nhs_number),
            self._guarded(self.consent_loaded.emit),
            "read consent",
            label="Reading consent from Spine\N{HORIZONTAL ELLIPSIS}",
        )

    def change_consent(
        self, patient: Patient, shown: ConsentRecord | None, choice: ConsentChoice, expressed_by: ExpressedBy, note: str
    ) -> None:
        made_by = self._user_id
        self._rechecks.pop(patient.nhs_number.digits, None)  # a new change supersedes the check of an older one

        def broken() -> None:
            """A bug stopped the change: whether it reached Spine is not known, so it is settled as any unknown
            outcome is — "could not confirm", read again — and the screen lets go of it (the window can close)."""
            unknown = SaveResult(SaveOutcome.UNCONFIRMED, patient.nhs_number, choice, datetime.now(UTC), None, CRASHED)
            self._saved(unknown, made_by)

        if self._closed:
            return
        self.runner.submit(
            lambda: self.workstation.change_consent(patient, shown, choice, expressed_by, note),
            on_success=lambda result: self._saved(result, made_by),
            on_failure=lambda error: self.failed.emit(error, "change consent"),
            label="Saving to Spine\N{HORIZONTAL ELLIPSIS}",
            keep_on_cancel=True,
            on_crash=broken,
        )

    def load_history(self, nhs_number: NhsNumber) -> None:
        self._run(
            lambda: self.workstation.history(nhs_number),
            self._guarded(self.history_loaded.emit),
            "read history",
            lane=Lane.DISK,
        )

    def write_file(self, path: Path, content: bytes, action: str) -> None:
        """Save a file the user asked for (a confirmation slip, their preferences) off the GUI thread."""
        self._run(
            lambda: _write_file(path, content),
            lambda _: self.file_written.emit(path, action),
            action,
            lane=Lane.DISK,
            label="Saving\N{HORIZONTAL ELLIPSIS}",
        )

    def preload(self, module: str, then: Callable[[ModuleType], None]) -> None:
        """Import a module of screens the user meets later off the GUI thread, then hand it to ``then`` on the GUI
        thread (to build them while nobody waits), so that signing in does not stall the window while they load."""
        self._run(lambda: importlib.import_module(module), then, "prepare the screens", lane=Lane.DISK)

    def cancel(self) -> None:
        """The user gave up waiting: pending lookups and the reading again of unconfirmed changes are dropped (a
        change in flight is not)."""
        self._rechecks.clear()
        self.runner.cancel_all()

    # --- internals ---------------------------------------------------------------------------------------------

    def _run(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        action: str,
        *,
        lane: Lane = Lane.SPINE,
        label: str = "",
        keep: bool = False,
    ) -> None:
        if self._closed:
            return  # events still queued when the app closed start nothing new
        self.runner.submit(
            work,
            on_success=done,
            on_failure=lambda error: self.failed.emit(error, action),
            lane=lane,
            label=label,
            keep_on_cancel=keep,
        )

    def _card(self, work: Callable[[], object], action: str, label: str) -> None:
        """Card and session work: no patient data in its outcome, so a lock never discards it (an unlock
        refused because another card was used must still say why)."""
        self._run(work, _ignore, action, lane=Lane.CARD, label=label, keep=True)

    def _guarded(self, deliver: Callable[[T], None]) -> Callable[[T], None]:
        """Patient details reach the screen only while the session is active."""

        def guarded(value: T) -> None:
            if self.session_state is SessionState.ACTIVE:
                deliver(value)

        return guarded

    def _traced(self, outcome: TraceOutcome) -> None:
        self.trace_finished.emit(outcome)
        if outcome.patient is not None:
            self._found(outcome.patient)

    def _found(self, patient: Patient) -> None:
        """Another patient on screen: the changes of those no longer open are not read again."""
        for nhs in [nhs for nhs in self._rechecks if nhs != patient.nhs_number.digits]:
            del self._rechecks[nhs]
        self.patient_shown.emit(patient)

    def _saved(self, result: SaveResult, made_by: str | None) -> None:
        """Shown to the user who made the change: now, or when they unlock or next sign in — never to anyone else
        (it is in the audit either way)."""
        if made_by is None:  # nobody was signed in: the workstation refused before sending (a failure, not this)
            return
        if self.session_state is SessionState.ACTIVE and self._user_id == made_by:
            self._tell(result, made_by)
        else:
            self._held.setdefault(made_by, []).append(result)

    def _tell(self, result: SaveResult, user_id: str) -> None:
        self.save_finished.emit(result)
        if result.outcome is SaveOutcome.UNCONFIRMED and self._recheck_after_ms:
            recheck = self._rechecks[result.nhs_number.digits] = _Recheck(result, user_id)
            self._schedule(recheck)

    def _on_session_event(self, change: SessionChange) -> None:
        if change.state in (SessionState.LOCKED, SessionState.SIGNED_OUT):
            self.session_changed.emit(change)  # the screen hides patient details first...
            self.runner.cancel_all()  # ...then nothing pending may bring them back
            for recheck in self._rechecks.values():  # resumed when the same user is back
                recheck.generation += 1
                recheck.paused = True
            if change.state is SessionState.SIGNED_OUT:
                self._user_id = None
                if change.user_id:
                    self._run(self.workstation.parts.sign_in.sign_out, _ignore, "sign out", lane=Lane.CARD)
            return
        if change.state is SessionState.ACTIVE:
            self._user_id = change.user_id
        self.session_changed.emit(change)
        if change.state is SessionState.ACTIVE and change.user_id:
            for result in self._held.pop(change.user_id, []):
                self._tell(result, change.user_id)
                if result.record is None:  # not read again while they were away: show what Spine holds now
                    self.load_consent(result.nhs_number)
            for recheck in self._rechecks.values():
                if recheck.paused and recheck.user_id == change.user_id:
                    recheck.paused = False
                    self._schedule(recheck)

    # --- reading an unconfirmed change again ------------------------------------------------------------------

    def _schedule(self, recheck: _Recheck) -> None:
        """The next reading, the schedule's gap after the last one (after a pause, that gap from the resume)."""
        after = self._recheck_after_ms
        wait = after[0] if recheck.step == 0 else after[recheck.step] - after[recheck.step - 1]
        generation = recheck.generation
        QTimer.singleShot(wait, self, lambda: self._recheck_due(recheck, generation))

    def _current(self, recheck: _Recheck, generation: int) -> bool:
        nhs = recheck.result.nhs_number.digits
        return self._rechecks.get(nhs) is recheck and recheck.generation == generation and not self._closed

    def _recheck_due(self, recheck: _Recheck, generation: int) -> None:
        if not self._current(recheck, generation):
            return
        result = recheck.result
        self.runner.submit(
            lambda: self.workstation.recheck(result),
            on_success=lambda found: self._rechecked(recheck, generation, found),
            on_failure=lambda error: log.info("reading a change again stopped: %s", error.details),
        )

    def _rechecked(self, recheck: _Recheck, generation: int, found: SaveResult) -> None:
        """Spine now shows the change: the result is updated in place. After the last reading, what it shows."""
        if not self._current(recheck, generation):
            return
        recheck.result = found
        recheck.step += 1
        if found.outcome is not SaveOutcome.UNCONFIRMED or recheck.step >= len(self._recheck_after_ms):
            del self._rechecks[found.nhs_number.digits]
            self.save_rechecked.emit(found)
        else:
            self._schedule(recheck)

    def _on_card_event(self, event: CardEvent) -> None:
        self._card_label = event.token_label if event.kind == "inserted" else None
        self._card_checked(_CARD_STATUS.get(event.kind, CardStatus.NO_READER))

    def _refresh_card(self) -> None:
        self._run(self.workstation.card_status, self._card_checked, "check the card", lane=Lane.CARD)

    def _card_checked(self, status: CardStatus) -> None:
        self.card_status.emit(status)
        if status is CardStatus.READY:
            self._run(self.workstation.pin_state, self.pin_state.emit, "check the card", lane=Lane.CARD)

    def _check_expiry(self) -> None:
        if self._workstation is not None:
            self._run(self._workstation.session.expire_if_due, _ignore, "check the session", lane=Lane.CARD)


def _ignore(_: object) -> None:
    """Outcomes that show themselves through the session's own signal."""


def _write_file(path: Path, content: bytes) -> None:
    """Whole or not at all: a half-written file never replaces a good one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # the per-user settings folder may not exist yet
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".saving-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        # The path is left out of the details: a user may have named the file after the patient.
        raise ConsentDesktopError(
            f"The file could not be saved ({exc.strerror or 'the disk refused it'}). Choose another folder, or "
            "ask your IT team.",
            f"file write failed: {type(exc).__name__} errno {exc.errno}",
        ) from exc

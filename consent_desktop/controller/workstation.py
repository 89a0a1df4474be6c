"""The use cases of a consent workstation, as plain blocking methods.

The GUI runs each of them through the operation runner (card work on the card lane, Spine work on the Spine
lane); the CLI calls them directly. Either way the same code signs in, looks patients up, reads and changes
consent, and writes the local audit. Nothing here touches Qt.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

from consent_desktop.audit import AuditEntry, AuditLog, PatientHistory
from consent_desktop.auth.card import CardEvent, CardListener, CardPresence, CardStatus, CardToken, PinState
from consent_desktop.auth.session import ChangeConsentCheck, Session, SessionChange, SessionState
from consent_desktop.auth.sign_in import IdentityFlow
from consent_desktop.config import Settings
from consent_desktop.domain.consent import (
    NOTE_MAX,
    ConsentChoice,
    ConsentRecord,
    ExpressedBy,
    SaveOutcome,
    SaveResult,
)
from consent_desktop.domain.errors import (
    CardError,
    ChangeBlocked,
    ConsentDesktopError,
    InvalidInput,
    PatientNotFound,
)
from consent_desktop.domain.identity import SpineIdentity
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Patient, TraceOutcome, TraceQuery, TraceResult
from consent_desktop.spine.acs_client import AcsClient
from consent_desktop.spine.pds_client import PatientDirectory

log = logging.getLogger(__name__)
AUDIT_NOT_WRITTEN = (
    "This computer's audit log could not record the change. Tell your IT team; the result above is what Spine holds."
)


@dataclass(frozen=True)
class Parts:
    """Everything a workstation is made of; built from settings by :mod:`consent_desktop.controller.assembly`."""

    settings: Settings
    session: Session
    sign_in: IdentityFlow  # the CIS smartcard flow or CIS2, as auth.provider says
    presence: CardPresence
    token: CardToken
    acs: AcsClient
    patients: PatientDirectory
    audit: AuditLog


class Workstation:
    def __init__(self, parts: Parts, *, on_close: Callable[[], None] = lambda: None) -> None:
        self.parts = parts
        self.session = parts.session
        self._on_close = on_close
        self._started = False
        self._inserted_label: str | None = None  # a software card names itself; a real reader does not

    def start(self, on_card: CardListener | None = None) -> None:
        """Follow the card: a removal reaches the session (which locks) before anyone else hears of it."""

        def heard(event: CardEvent) -> None:
            self._inserted_label = event.token_label if event.kind == "inserted" else None
            self.session.card_event(event)
            if on_card is not None:
                on_card(event)

        self.session.add_listener(self._audit_transition)
        self.parts.presence.start(heard)
        self._started = True

    def close(self) -> None:
        if self._started:
            self.parts.presence.stop()
            self._started = False
        self._on_close()

    # --- the card and the session ----------------------------------------------------------------------------

    def card_status(self) -> CardStatus:
        try:
            return CardStatus.READY if self.parts.presence.card_present() else CardStatus.NO_CARD
        except CardError as error:
            log.info("card presence unknown: %s", error.details)
            return CardStatus.NO_READER

    def pin_state(self) -> PinState:
        """What the card says about its passcode before anyone types one: a final try is warned of, and a locked
        card is never offered an attempt."""
        return self.parts.token.pin_state(self.token_label)

    @property
    def token_label(self) -> str | None:
        """Which card to use: the software card in the training reader, else the configured label, else the one
        card present."""
        return self._inserted_label or self.parts.settings.auth.token_label or None

    def sign_in(self, pin: bytearray | None = None, token_label: str | None = None) -> SessionState:
        """With the card's PIN for CIS; without one for CIS2 (the user signs in in the browser)."""
        state = self.parts.sign_in.sign_in(pin, token_label or self.token_label)
        self._audit("sign-in")
        return state

    def cancel_sign_in(self) -> None:
        """Stop a CIS2 sign-in waiting for the browser; any thread."""
        self.parts.sign_in.cancel()

    def choose_role(self, role_profile_id: str) -> SpineIdentity:
        identity = self.parts.sign_in.choose_role(role_profile_id)
        self._audit("role-chosen")
        return identity

    def unlock(self, pin: bytearray, token_label: str | None = None) -> SessionState:
        state = self.parts.sign_in.unlock(pin, token_label or self.token_label)
        self._audit("unlock")
        return state

    def sign_out(self) -> None:
        identity = self._identity()
        try:
            self.parts.sign_in.sign_out()
        finally:
            if identity is not None:
                self._write(
                    AuditEntry("sign-out", identity.user_id, identity.role.role_profile_id, identity.role.org_code)
                )

    def change_check(self) -> ChangeConsentCheck:
        return self.session.change_consent_check()

    # --- patients and consent ----------------------------------------------------------------------------------

    def look_up(self, nhs_number: NhsNumber) -> Patient:
        try:
            patient = self.parts.patients.retrieve(nhs_number)
        except PatientNotFound:
            self._audit("lookup", nhs_number=nhs_number.digits, outcome="no patient found")
            raise
        self._audit("lookup", nhs_number=patient.nhs_number.digits, outcome=_found(patient, nhs_number))
        return patient

    def trace(self, query: TraceQuery) -> TraceOutcome:
        outcome = self.parts.patients.trace(query)
        found = outcome.patient.nhs_number.digits if outcome.result is TraceResult.MATCH and outcome.patient else ""
        self._audit("trace", nhs_number=found, outcome=outcome.result.value)
        return outcome

    def load_consent(self, nhs_number: NhsNumber) -> ConsentRecord:
        """Every read is audited (who, in which role, which patient, when), as NHS audit expects of a look at a
        patient's record; a read the audit cannot record is not shown."""
        reader = self._identity()  # taken first: a card pulled as the answer arrives must not leave it nameless
        record = self.parts.acs.get_consent(nhs_number)
        self._audit("consent-read", nhs_number=nhs_number.digits, outcome=record.choice.value, identity=reader)
        return record

    def change_consent(
        self,
        patient: Patient,
        shown: ConsentRecord | None,
        choice: ConsentChoice,
        expressed_by: ExpressedBy,
        note: str = "",
    ) -> SaveResult:
        """Refuse what the role or the patient's record does not allow; otherwise send the change once and
        return what Spine now holds. Every attempt that reached Spine is audited with its outcome."""
        note = " ".join(note.split())
        if len(note) > NOTE_MAX:
            raise InvalidInput("note", f"The note is too long: at most {NOTE_MAX} characters.")
        if not _storable(note):
            raise InvalidInput("note", "The note holds characters that could not be read. Type it again.")
        identity = self.session.require_change_consent()
        blocked = patient.consent_change_blocked_reason
        if blocked:
            raise ChangeBlocked(blocked, "consent change refused: patient deceased")
        result = self.parts.acs.set_consent(patient.nhs_number, choice)  # SessionNotActive: nothing was sent
        entry = _change_entry(
            "consent-change",
            identity,
            patient.nhs_number,
            old=shown.choice.value if shown else "",
            new=choice.value,
            expressed_by=expressed_by.value,
            note=note,
            outcome=result.outcome.value + ("" if result.outcome is SaveOutcome.SAVED else f": {result.reason}"),
        )
        return self._audited(result, entry)

    def recheck(self, result: SaveResult) -> SaveResult:
        """Read Spine again for a change whose outcome could not be confirmed — never a re-send — and audit what
        this reading found."""
        identity = self.session.require_active()
        found = self.parts.acs.recheck(result)
        entry = _change_entry(
            "consent-recheck",
            identity,
            result.nhs_number,
            old=result.record.choice.value if result.record else "",  # what Spine showed before this reading
            new=result.requested.value,
            outcome="saved: found on Spine on a later check"
            if found.outcome is SaveOutcome.SAVED
            else f"{found.outcome.value}: {found.reason}",
        )
        return self._audited(found, entry)

    def history(self, nhs_number: NhsNumber) -> PatientHistory:
        """The consent changes made here for this patient, and the later readings that found a change saved,
        checked against the audit's seals each time."""
        audit = self.parts.audit
        problem = audit.verify()
        changes = [
            e
            for e in audit.entries(nhs_number.digits)
            if e.event == "consent-change" or (e.event == "consent-recheck" and e.outcome.startswith("saved"))
        ]
        return PatientHistory(nhs_number.digits, changes, problem.error(audit.path) if problem else None)

    def check_audit(self) -> None:
        """At start: raises :class:`AuditAltered` when the local audit has been altered (the history checks it
        again each time it is shown)."""
        audit = self.parts.audit
        problem = audit.verify()
        if problem is not None:
            log.warning("the local audit failed its check at line %d: %s", problem.line, problem.reason)
            raise problem.error(audit.path)

    # --- internals ---------------------------------------------------------------------------------------------

    def _identity(self) -> SpineIdentity | None:
        try:
            return self.session.require_active()
        except ConsentDesktopError:
            return None

    def _audit_transition(self, change: SessionChange) -> None:
        """Locks, and sign-outs the user did not ask for (expiry, another card), go in the audit too."""
        if change.state is SessionState.LOCKED or (
            change.state is SessionState.SIGNED_OUT and change.reason != "signed out" and change.user_id
        ):
            role = change.role
            self._write(
                AuditEntry(
                    "lock" if change.state is SessionState.LOCKED else "signed-out",
                    change.user_id or "",
                    role.role_profile_id if role else "",
                    role.org_code if role else "",
                    outcome=change.reason,
                )
            )

    def _audit(
        self, event: str, *, nhs_number: str = "", outcome: str = "", identity: SpineIdentity | None = None
    ) -> None:
        identity = identity or self._identity()
        user = identity.user_id if identity else ""
        role = identity.role if identity else None
        self._write(
            AuditEntry(
                event,
                user,
                role.role_profile_id if role else "",
                role.org_code if role else "",
                nhs_number=nhs_number,
                outcome=outcome,
            )
        )

    def _write(self, entry: AuditEntry) -> None:
        self.parts.audit.append(entry)

    def _audited(self, result: SaveResult, entry: AuditEntry) -> SaveResult:
        """Spine has answered: its outcome is what the user must see, whatever happens to the local audit. A record
        that could not be written — for any reason — is told separately, and logged in full for IT."""
        try:
            self._write(entry)
        except Exception:
            log.exception("could not write the audit entry for a consent change (outcome: %s)", result.outcome.value)
            return dataclasses.replace(result, warning=AUDIT_NOT_WRITTEN)
        return result


def _change_entry(event: str, identity: SpineIdentity, nhs_number: NhsNumber, **fields: str) -> AuditEntry:
    """An audit entry about a consent change: who made it, in which role, for which patient."""
    return AuditEntry(
        event,
        identity.user_id,
        identity.role.role_profile_id,
        identity.role.org_code,
        nhs_number=nhs_number.digits,
        **fields,
    )


def _storable(text: str) -> bool:
    """Text the audit can hold as UTF-8 (a command line read under a non-UTF-8 locale can hand over undecodable
    bytes as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _found(patient: Patient, asked: NhsNumber) -> str:
    if patient.nhs_number != asked:
        return f"found under its new number (asked for {asked.digits})"
    return "found"

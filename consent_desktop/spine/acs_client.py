"""Read and change a patient's SCR consent on ACS, honestly.

A read may be retried when Spine says it is safe. A change is never re-sent. It is reported NOT saved only when
Spine refused it (an error acknowledgement, or a SOAP fault saying the message was not processed) or when the
request certainly never left this computer. Any other failure after sending leaves the outcome unknown: the
client reads the record again, and reports "saved" if Spine now holds the change and "could not confirm"
otherwise — Spine may still apply a change it received after a read that did not show it.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from consent_desktop.domain.consent import ConsentChoice, ConsentRecord, SaveOutcome, SaveResult
from consent_desktop.domain.errors import ConsentDesktopError, SessionNotActive, SpineError, SpineRejected
from consent_desktop.domain.identity import SpineIdentity
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.uk_time import uk_clock_time
from consent_desktop.spine import acs_messages
from consent_desktop.spine.envelope import OutgoingMessage, SoapFault
from consent_desktop.spine.exchange import SpineService

log = logging.getLogger(__name__)


class AcsClient(SpineService):
    def get_consent(self, nhs_number: NhsNumber) -> ConsentRecord:
        """The current record; retried only on a failed connection or a retriable SOAP fault."""

        def build(identity: SpineIdentity, now: datetime) -> OutgoingMessage:
            return acs_messages.build_get(nhs_number, identity, now=now, **self._endpoint.addressing())

        return self._read(
            "ACS read",
            build,
            acs_messages.GET_ANSWERS,
            lambda answer: acs_messages.read_get_answer(answer.hl7, nhs_number, self._clock()),
        )

    def set_consent(self, nhs_number: NhsNumber, choice: ConsentChoice) -> SaveResult:
        """Send one change and find out, by re-reading when needed, whether Spine holds it."""

        def build(identity: SpineIdentity, now: datetime) -> OutgoingMessage:
            return acs_messages.build_set(nhs_number, choice, identity, now=now, **self._endpoint.addressing())

        try:
            answer = self._once(build, acs_messages.SET_ANSWERS, change=True)
            acs_messages.read_set_answer(answer.hl7)
        except SpineRejected as rejected:  # Spine answered, and refused the change
            return self._result(SaveOutcome.NOT_SAVED, nhs_number, choice, None, rejected.user_message)
        except SpineError as error:
            if not error.request_sent or (isinstance(error, SoapFault) and error.not_processed):
                return self._result(SaveOutcome.NOT_SAVED, nhs_number, choice, None, error.user_message)
            log.warning("ACS change outcome unknown (%s); re-reading", error.details)
            return self._settle_by_reread(nhs_number, choice, error)
        return self._confirm_accepted(nhs_number, choice)

    def recheck(self, result: SaveResult) -> SaveResult:
        """Read Spine again for a change whose outcome is not confirmed (never a re-send): saved if it now holds
        the change; otherwise still not confirmed, with what it holds now."""
        try:
            record = self.get_consent(result.nhs_number)
        except ConsentDesktopError as error:
            log.info("re-check of an unconfirmed change could not read Spine (%s)", error.details)
            return dataclasses.replace(result, reason="Spine could not be read to check it again")
        if record.choice is result.requested:
            return self._result(SaveOutcome.SAVED, result.nhs_number, result.requested, record, "", confirmed=True)
        return dataclasses.replace(
            result, record=record, reason=f"Spine still showed the previous value at {uk_clock_time(record.read_at)}"
        )

    def _confirm_accepted(self, nhs_number: NhsNumber, choice: ConsentChoice) -> SaveResult:
        try:
            record = self.get_consent(nhs_number)
        except ConsentDesktopError as error:  # Spine down, or the session locked meanwhile
            # Spine acknowledged the change (AA): that is authoritative even when the check read fails.
            log.warning("ACS change acknowledged but re-read failed (%s)", error.details)
            return self._result(SaveOutcome.SAVED, nhs_number, choice, None, "")
        if record.choice is choice:
            return self._result(SaveOutcome.SAVED, nhs_number, choice, record, "", confirmed=True)
        return self._result(
            SaveOutcome.UNCONFIRMED,
            nhs_number,
            choice,
            record,
            "Spine accepted the change but now shows a different value, perhaps changed by someone else",
        )

    def _settle_by_reread(self, nhs_number: NhsNumber, choice: ConsentChoice, cause: SpineError) -> SaveResult:
        try:
            record = self.get_consent(nhs_number)
        except ConsentDesktopError as error:  # Spine down, or the session locked meanwhile
            log.warning("re-read after an unknown outcome failed (%s)", error.details)
            return self._result(SaveOutcome.UNCONFIRMED, nhs_number, choice, None, _unknown_reason(cause, error))
        if record.choice is choice:
            return self._result(SaveOutcome.SAVED, nhs_number, choice, record, "", confirmed=True)
        # Not "not saved": Spine may still apply a change it has received (a slow or queued write).
        reason = f"{cause.user_message.rstrip('.')}, and a read straight after still showed the previous value"
        return self._result(SaveOutcome.UNCONFIRMED, nhs_number, choice, record, reason)

    def _result(
        self,
        outcome: SaveOutcome,
        nhs_number: NhsNumber,
        choice: ConsentChoice,
        record: ConsentRecord | None,
        reason: str,
        *,
        confirmed: bool = False,
    ) -> SaveResult:
        return SaveResult(
            outcome=outcome,
            nhs_number=nhs_number,
            requested=choice,
            at=self._clock(),
            record=record,
            reason=reason.rstrip("."),
            confirmed_by_reread=confirmed,
        )


def _unknown_reason(cause: SpineError, reread_error: ConsentDesktopError) -> str:
    why = "the session was locked" if isinstance(reread_error, SessionNotActive) else "Spine could not be read"
    return f"{cause.user_message.rstrip('.')}, and {why} to check again"

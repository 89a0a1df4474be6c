"""Read and change a patient's SCR consent on ACS, honestly.

A read may be retried when Spine says it is safe. A change is never re-sent: when its outcome is unknown (a
timeout after sending, a dropped connection, an answer that cannot be read) the client reads the record again
and reports "saved", "not saved" or "could not confirm" from what Spine now holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from consent_desktop.domain.consent import ConsentChoice, ConsentRecord, SaveOutcome, SaveResult
from consent_desktop.domain.errors import ConsentDesktopError, SessionNotActive, SpineError, SpineRejected
from consent_desktop.domain.identity import SessionGate
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.spine import acs_messages
from consent_desktop.spine.envelope import SoapFault, read_envelope
from consent_desktop.spine.transport import SpineTransport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AcsEndpoint:
    url: str
    spine_asid: str
    local_asid: str


def _now() -> datetime:
    return datetime.now(UTC)


class AcsClient:
    def __init__(
        self,
        transport: SpineTransport,
        endpoint: AcsEndpoint,
        session: SessionGate,
        *,
        attempts: int = 3,
        backoff: float = 0.2,
        clock: Callable[[], datetime] = _now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._transport = transport
        self._endpoint = endpoint
        self._session = session
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._clock = clock
        self._sleep = sleep

    def get_consent(self, nhs_number: NhsNumber) -> ConsentRecord:
        """The current record; retried only on a failed connection or a retriable SOAP fault."""
        for attempt in range(1, self._attempts + 1):
            try:
                return self._get_once(nhs_number)
            except SpineError as error:
                if attempt == self._attempts or not _safe_to_retry_read(error):
                    raise
                log.info("ACS read attempt %d failed (%s); retrying", attempt, error.details)
                self._sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_once(self, nhs_number: NhsNumber) -> ConsentRecord:
        identity = self._session.require_active()
        message = acs_messages.build_get(
            nhs_number,
            identity,
            to=self._endpoint.url,
            spine_asid=self._endpoint.spine_asid,
            local_asid=self._endpoint.local_asid,
            now=self._clock(),
        )
        http = self._transport.post(self._endpoint.url, message.interaction.action, message.body)
        answer = read_envelope(
            http.status, http.content_type, http.body, expected=acs_messages.GET_ANSWERS, request=message
        )
        return acs_messages.read_get_answer(answer.hl7, nhs_number, self._clock())

    def set_consent(self, nhs_number: NhsNumber, choice: ConsentChoice) -> SaveResult:
        """Send one change and find out, by re-reading when needed, whether Spine holds it."""
        identity = self._session.require_active()
        message = acs_messages.build_set(
            nhs_number,
            choice,
            identity,
            to=self._endpoint.url,
            spine_asid=self._endpoint.spine_asid,
            local_asid=self._endpoint.local_asid,
            now=self._clock(),
        )
        try:
            http = self._transport.post(self._endpoint.url, message.interaction.action, message.body)
            answer = read_envelope(
                http.status, http.content_type, http.body, expected=acs_messages.SET_ANSWERS, request=message
            )
            acs_messages.read_set_answer(answer.hl7)
        except SpineRejected as rejected:
            return self._result(SaveOutcome.NOT_SAVED, nhs_number, choice, None, rejected.user_message)
        except SpineError as error:
            if not error.request_sent:
                return self._result(SaveOutcome.NOT_SAVED, nhs_number, choice, None, error.user_message)
            log.warning("ACS change outcome unknown (%s); re-reading", error.details)
            return self._settle_by_reread(nhs_number, choice, error)
        return self._confirm_accepted(nhs_number, choice)

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
        return self._result(SaveOutcome.NOT_SAVED, nhs_number, choice, record, cause.user_message.rstrip("."))

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


def _safe_to_retry_read(error: SpineError) -> bool:
    if isinstance(error, SoapFault):
        return error.retryable
    return not error.request_sent


def _unknown_reason(cause: SpineError, reread_error: ConsentDesktopError) -> str:
    why = "the session was locked" if isinstance(reread_error, SessionNotActive) else "Spine could not be read"
    return f"{cause.user_message.rstrip('.')}, and {why} to check again"

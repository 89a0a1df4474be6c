"""Find a patient on the Personal Demographics Service: by NHS number, or by a demographic simple trace.

Both are reads. The session is consulted before every attempt; an attempt is repeated only when the request
certainly never reached Spine or Spine's messaging layer says trying again is safe (SOAP fault 200/206/208).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from consent_desktop.config import SpineSettings
from consent_desktop.domain.errors import SpineError
from consent_desktop.domain.identity import SessionGate, SpineIdentity
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Patient, TraceOutcome, TraceQuery
from consent_desktop.spine import pds_messages
from consent_desktop.spine.envelope import Answer, OutgoingMessage, SoapFault, read_envelope
from consent_desktop.spine.transport import SpineTransport

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class PatientDirectory(Protocol):
    """Where the app finds patients. Spine's PDS in use; a fake in tests of the layers above."""

    def retrieve(self, nhs_number: NhsNumber) -> Patient:
        """The patient's current record (the successor's, when the number was superseded).

        Raises :class:`PatientNotFound` ("No patient found with NHS number ...") for an unknown or invalidated
        number, or another :class:`SpineError`.
        """
        ...

    def trace(self, query: TraceQuery) -> TraceOutcome:
        """A unique match, no match, or too many matches to return."""
        ...


@dataclass(frozen=True)
class PdsEndpoint:
    url: str
    spine_asid: str
    local_asid: str

    @classmethod
    def from_settings(cls, spine: SpineSettings) -> PdsEndpoint:
        return cls(spine.pds_endpoint, spine.pds_receiver_asid, spine.local_asid)


def _now() -> datetime:
    return datetime.now(UTC)


class PdsClient:
    """The Spine adapter for :class:`PatientDirectory`."""

    def __init__(
        self,
        transport: SpineTransport,
        endpoint: PdsEndpoint,
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

    def retrieve(self, nhs_number: NhsNumber) -> Patient:
        def build(identity: SpineIdentity, endpoint: PdsEndpoint, now: datetime) -> OutgoingMessage:
            return pds_messages.build_retrieval(
                nhs_number,
                identity,
                to=endpoint.url,
                spine_asid=endpoint.spine_asid,
                local_asid=endpoint.local_asid,
                now=now,
            )

        return self._read(
            "retrieval",
            build,
            pds_messages.RETRIEVE_ANSWERS,
            lambda answer: pds_messages.read_retrieval(answer.hl7, nhs_number),
        )

    def trace(self, query: TraceQuery) -> TraceOutcome:
        def build(identity: SpineIdentity, endpoint: PdsEndpoint, now: datetime) -> OutgoingMessage:
            return pds_messages.build_trace(
                query,
                identity,
                to=endpoint.url,
                spine_asid=endpoint.spine_asid,
                local_asid=endpoint.local_asid,
                now=now,
            )

        return self._read(
            "trace", build, pds_messages.TRACE_ANSWERS, lambda answer: pds_messages.read_trace(answer.hl7)
        )

    def _read(
        self,
        what: str,
        build: Callable[[SpineIdentity, PdsEndpoint, datetime], OutgoingMessage],
        expected: frozenset[str],
        read: Callable[[Answer], _T],
    ) -> _T:
        for attempt in range(1, self._attempts + 1):
            try:
                # The session is asked again on every attempt, and each attempt gets fresh message ids.
                message = build(self._session.require_active(), self._endpoint, self._clock())
                http = self._transport.post(self._endpoint.url, message.interaction.action, message.body)
                answer = read_envelope(http.status, http.content_type, http.body, expected=expected, request=message)
                return read(answer)
            except SpineError as error:
                if attempt == self._attempts or not _safe_to_retry(error):
                    raise
                log.info("PDS %s attempt %d failed (%s); retrying", what, attempt, error.details)
                self._sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover


def _safe_to_retry(error: SpineError) -> bool:
    if isinstance(error, SoapFault):
        return error.retryable
    return not error.request_sent

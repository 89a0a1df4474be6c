"""Find a patient on the Personal Demographics Service: by NHS number, or by a demographic simple trace.

Both are reads. The session is consulted before every attempt; an attempt is repeated only when the request
certainly never reached Spine or Spine's messaging layer says trying again is safe (SOAP fault 200/206/208).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from consent_desktop.domain.identity import SpineIdentity
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Patient, TraceOutcome, TraceQuery
from consent_desktop.spine import pds_messages
from consent_desktop.spine.envelope import OutgoingMessage
from consent_desktop.spine.exchange import SpineService


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


class PdsClient(SpineService):
    """The Spine adapter for :class:`PatientDirectory`."""

    def retrieve(self, nhs_number: NhsNumber) -> Patient:
        def build(identity: SpineIdentity, now: datetime) -> OutgoingMessage:
            return pds_messages.build_retrieval(nhs_number, identity, now=now, **self._endpoint.addressing())

        return self._read(
            "PDS retrieval",
            build,
            pds_messages.RETRIEVE_ANSWERS,
            lambda answer: pds_messages.read_retrieval(answer.hl7, nhs_number),
        )

    def trace(self, query: TraceQuery) -> TraceOutcome:
        def build(identity: SpineIdentity, now: datetime) -> OutgoingMessage:
            return pds_messages.build_trace(query, identity, now=now, **self._endpoint.addressing())

        return self._read(
            "PDS trace", build, pds_messages.TRACE_ANSWERS, lambda answer: pds_messages.read_trace(answer.hl7)
        )

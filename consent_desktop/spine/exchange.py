"""One request and its answer with a Spine service, as every client sends them.

The session is asked for the signed-in identity before every attempt (so nothing is sent once it has locked),
every attempt is built afresh (new message ids), and only reads are retried — and only when the request
certainly never reached Spine or Spine's messaging layer says trying again is safe (SOAP fault 200/206/208).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from consent_desktop.config import SpineSettings
from consent_desktop.domain.errors import SpineError
from consent_desktop.domain.identity import SessionGate, SpineIdentity
from consent_desktop.spine.envelope import Answer, OutgoingMessage, SoapFault, read_envelope
from consent_desktop.spine.transport import SpineTransport

log = logging.getLogger(__name__)
T = TypeVar("T")
Build = Callable[[SpineIdentity, datetime], OutgoingMessage]


@dataclass(frozen=True)
class SpineEndpoint:
    """Where a Spine service is, and the ASIDs of its messages: Spine's (the receiver) and ours (the sender)."""

    url: str
    spine_asid: str
    local_asid: str

    @classmethod
    def for_acs(cls, spine: SpineSettings) -> SpineEndpoint:
        return cls(spine.acs_endpoint, spine.acs_receiver_asid, spine.local_asid)

    @classmethod
    def for_pds(cls, spine: SpineSettings) -> SpineEndpoint:
        return cls(spine.pds_endpoint, spine.pds_receiver_asid, spine.local_asid)

    def addressing(self) -> dict[str, str]:
        """The keyword arguments every message builder takes for the envelope's addressing."""
        return {"to": self.url, "spine_asid": self.spine_asid, "local_asid": self.local_asid}


def utc_now() -> datetime:
    return datetime.now(UTC)


def safe_to_retry(error: SpineError) -> bool:
    if isinstance(error, SoapFault):
        return error.retryable
    return not error.request_sent


class SpineService:
    """A client of one Spine service. Every request goes through :meth:`_once`: the session is asked for the
    signed-in identity first (so nothing is sent once it has locked) and each attempt is built afresh (new message
    ids); only reads (:meth:`_read`) are retried, and only when it is safe."""

    def __init__(
        self,
        transport: SpineTransport,
        endpoint: SpineEndpoint,
        session: SessionGate,
        *,
        attempts: int = 3,
        backoff: float = 0.2,
        change_deadline: float = 30.0,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._transport = transport
        self._change_deadline = change_deadline
        self._endpoint = endpoint
        self._session = session
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._clock = clock
        self._sleep = sleep

    def _once(self, build: Build, expected: frozenset[str], *, change: bool = False) -> Answer:
        """One attempt: no retry whatever happens (the only way a change is ever sent, within the change deadline;
        a read has the transport's read deadline)."""
        message = build(self._session.require_active(), self._clock())
        deadline = self._change_deadline if change else None
        http = self._transport.post(self._endpoint.url, message.interaction.action, message.body, deadline=deadline)
        return read_envelope(http.status, http.content_type, http.body, expected=expected, request=message)

    def _read(self, what: str, build: Build, expected: frozenset[str], parse: Callable[[Answer], T]) -> T:
        """A read, retried with backoff while it is safe to."""
        for attempt in range(1, self._attempts + 1):
            try:
                return parse(self._once(build, expected))
            except SpineError as error:
                if attempt == self._attempts or not safe_to_retry(error):
                    raise
                log.info("%s attempt %d failed (%s); retrying", what, attempt, error.details)
                self._sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

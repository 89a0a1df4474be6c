"""Every request has a total deadline — connecting, sending and the whole answer — however its answer arrives.

A server that trickles its answer a byte at a time resets a read timeout with every byte; the deadline still ends
the request, for Spine (ACS and PDS, headers and body trickled by the sandbox) and for the sign-in services (CIS
and CIS2, a body trickled by a hostile server with the sandbox's certificates).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator

import pytest

from consent_desktop.auth.cis import CisClient
from consent_desktop.auth.cis2 import Cis2Client
from consent_desktop.config import Settings
from consent_desktop.domain.errors import SignInFailed, SpineTimeout
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.sandbox import patients, users
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.pds_client import PdsClient
from consent_desktop.spine.transport import SpineTransport
from tests.conftest import ActiveGate
from tests.fakes import FakeCardToken, card_for_user
from tests.resilience.hostile_server import HostileSpine, Reply

pytestmark = pytest.mark.hazard("HAZ-009")  # Spine or sign-in unavailable: the user is told, not left waiting
DEADLINE = 1.0
READ_TIMEOUT = 5.0  # longer than the deadline: only the deadline can end these requests
MARGIN = 2.0  # a generous allowance for a busy machine; without the deadline they run for minutes


def trickle(total: int = 4_000, pause: float = 0.05) -> Callable[[], Iterator[bytes]]:
    def body() -> Iterator[bytes]:
        for _ in range(total):
            time.sleep(pause)
            yield b" "

    return body


def within_deadline(call: Callable[[], object], error: type[Exception]) -> Exception:
    started = time.monotonic()
    with pytest.raises(error) as raised:
        call()
    assert time.monotonic() - started < DEADLINE + MARGIN
    return raised.value


def test_pds_retrieval_trickled_ends_at_the_deadline(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    spine = dataclasses.replace(sandbox_settings.spine, read_timeout=READ_TIMEOUT, read_deadline=DEADLINE)
    transport = SpineTransport(spine, sandbox_settings.tls)
    client = PdsClient(transport, SpineEndpoint.for_pds(spine), ActiveGate(), attempts=1)
    assert sandbox.store is not None
    sandbox.store.set_fault("trickle", "0.05", scope="pds", times=1)
    try:
        within_deadline(lambda: client.retrieve(NhsNumber(patients.README_EXAMPLE)), SpineTimeout)
    finally:
        transport.close()


@pytest.fixture
def trickling(sandbox: Sandbox) -> Iterator[HostileSpine]:
    """A sign-in service (no client certificate asked for) that answers every request a byte at a time."""
    with HostileSpine(
        sandbox.data, lambda _body, _action: Reply(trickle(), content_type="application/json"), client_certificate=False
    ) as server:
        yield server


def test_cis_sign_in_trickled_ends_at_the_deadline(
    trickling: HostileSpine, sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    card = card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST)
    token = FakeCardToken(card)
    token.login(bytearray(card.pin))
    with CisClient(
        f"{trickling.origin}/cis", sandbox_settings.tls.ca_bundle, read_timeout=READ_TIMEOUT, deadline=DEADLINE
    ) as cis:
        failed = within_deadline(lambda: cis.sign_in(token, card.identity), SignInFailed)
    assert "did not answer in time" in str(failed) and failed.retryable  # type: ignore[attr-defined]
    assert token.signed == []


def test_cis2_discovery_trickled_ends_at_the_deadline(trickling: HostileSpine, sandbox_settings: Settings) -> None:
    client = Cis2Client(
        f"{trickling.origin}/cis2",
        "consent-desktop",
        sandbox_settings.tls.ca_bundle,
        read_timeout=READ_TIMEOUT,
        deadline=DEADLINE,
    )
    try:
        failed = within_deadline(client.metadata, SignInFailed)
    finally:
        client.close()
    assert "did not answer in time" in str(failed)

"""A PDS client talking to the running sandbox over mutual TLS, with a transport that keeps every exchange."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date

import pytest
from lxml import etree

from consent_desktop.config import Settings
from consent_desktop.domain.identity import SpineIdentity
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.pds_client import PdsClient
from consent_desktop.spine.safe_xml import child_named, parse_untrusted
from consent_desktop.spine.transport import HttpAnswer, SpineTransport
from tests.conftest import TEST_IDENTITY, ActiveGate

TODAY = date(2026, 11, 25)


class RecordingTransport(SpineTransport):
    """The real transport, keeping each request body and answer so tests can assert what the wire carried."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.spine, settings.tls)
        self.exchanges: list[tuple[bytes, HttpAnswer]] = []

    def post(self, url: str, action: str, body: bytes, *, deadline: float | None = None) -> HttpAnswer:
        answer = super().post(url, action, body, deadline=deadline)
        self.exchanges.append((body, answer))
        return answer


class CountingGate(ActiveGate):
    def __init__(self, identity: SpineIdentity = TEST_IDENTITY) -> None:
        super().__init__(identity)
        self.asked = 0

    def require_active(self) -> SpineIdentity:
        self.asked += 1
        return super().require_active()


@pytest.fixture
def wire(sandbox_settings: Settings) -> Iterator[RecordingTransport]:
    transport = RecordingTransport(sandbox_settings)
    yield transport
    transport.close()


@pytest.fixture
def gate() -> CountingGate:
    return CountingGate()


@pytest.fixture
def pds(sandbox_settings: Settings, wire: RecordingTransport, gate: CountingGate) -> PdsClient:
    return PdsClient(wire, SpineEndpoint.for_pds(sandbox_settings.spine), gate, backoff=0.01)


def requests_seen(sandbox: Sandbox) -> int:
    """Message ids the sandbox's Spine has recorded: it records each request it reads past the envelope."""
    with closing(sqlite3.connect(sandbox.data.database)) as db:
        return int(db.execute("SELECT COUNT(*) FROM seen_message").fetchone()[0])


def hl7_of(soap: bytes) -> etree._Element:
    """The HL7 message inside a SOAP body, under Spine's wrapper element when there is one."""
    body = child_named(parse_untrusted(soap), "Body")
    assert body is not None
    message = body[0]
    return message[0] if etree.QName(message).localname.endswith("QueryResponse") else message

"""The PDS and sign-in (CIS) clients refuse a server they cannot trust, as the ACS client does
(``tests/spine/test_tls.py``): an untrusted, expired or wrong-host certificate stops the connection before
anything is sent (no patient search, no card signature), and Spine refuses a client without its certificate."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from consent_desktop.auth.cis import CisClient
from consent_desktop.config import Settings, TomlFileSource, load_settings
from consent_desktop.domain.errors import SignInFailed, SpineUnavailable, TlsFailure
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.sandbox import patients, pki, users
from consent_desktop.sandbox.datadir import SandboxData
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.pds_client import PdsClient
from consent_desktop.spine.transport import SpineTransport
from tests.conftest import ActiveGate
from tests.fakes import FakeCardToken, card_for_user

pytestmark = pytest.mark.hazard("HAZ-013", "HAZ-008")  # an impostor believed; patient data sent to one
NUMBER = NhsNumber(patients.README_EXAMPLE)
SERVER_CERTIFICATES = {
    # what the server presents: (certificate, words IT sees in the details)
    "untrusted": (lambda ca: pki.server_certificate(pki.new_ca("Sandbox Spine TLS CA")), "unable to get local issuer"),
    "expired": (lambda ca: pki.server_certificate(ca, days=0), "expired"),
    "wrong host": (lambda ca: pki.server_certificate(ca, hosts=("spine.invalid",)), "mismatch"),
}


def settings_of(sandbox: Sandbox) -> Settings:
    return load_settings([TomlFileSource(sandbox.data.client_config, "client.toml")])


def requests_seen(sandbox: Sandbox) -> int:
    with closing(sqlite3.connect(sandbox.data.database)) as db:
        return int(db.execute("SELECT COUNT(*) FROM seen_message").fetchone()[0])


@pytest.fixture(params=list(SERVER_CERTIFICATES))
def presenting(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Sandbox, str]]:
    """A sandbox whose two listeners present a bad server certificate (the look-alike CA has the real one's name,
    so only the signature tells them apart)."""
    data = SandboxData(tmp_path / "spine")
    data.ensure_pki()
    issue, words = SERVER_CERTIFICATES[request.param]
    issue(data.tls_ca()).write(data.pem("server"), data.key("server"))
    with Sandbox(data.root) as sandbox:
        yield sandbox, words


def pds_client(settings: Settings) -> tuple[SpineTransport, PdsClient]:
    transport = SpineTransport(settings.spine, settings.tls)
    return transport, PdsClient(transport, SpineEndpoint.for_pds(settings.spine), ActiveGate(), backoff=0)


def test_pds_client_refuses_a_server_it_cannot_trust(presenting: tuple[Sandbox, str]) -> None:
    sandbox, words = presenting
    transport, client = pds_client(settings_of(sandbox))
    try:
        with pytest.raises(TlsFailure) as raised:
            client.retrieve(NUMBER)
    finally:
        transport.close()
    assert raised.value.user_message.startswith("The connection to Spine was stopped because its certificate")
    assert words in raised.value.details.lower()
    assert raised.value.request_sent is False
    assert requests_seen(sandbox) == 0  # no patient search reached the server


def test_sign_in_client_refuses_a_server_it_cannot_trust(presenting: tuple[Sandbox, str]) -> None:
    sandbox, words = presenting
    card = card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST)
    token = FakeCardToken(card)
    token.login(bytearray(card.pin))
    with CisClient.from_settings(settings_of(sandbox)) as cis, pytest.raises(SignInFailed) as raised:
        cis.sign_in(token, card.identity)
    assert raised.value.user_message.startswith("The connection to the sign-in service was stopped because its")
    assert words in raised.value.details.lower()
    assert token.signed == []  # the card signed nothing for a server that could not be trusted


@pytest.mark.parametrize("client_certificate", ["none", "from another CA"])
def test_spine_refuses_a_pds_client_without_its_certificate(
    client_certificate: str, sandbox: Sandbox, sandbox_settings: Settings, tmp_path: Path
) -> None:
    tls = dataclasses.replace(sandbox_settings.tls, client_cert=None, client_key=None)
    if client_certificate == "from another CA":
        pki.client_certificate(pki.new_ca("Not Spine's CA"), "impostor").write(tmp_path / "c.pem", tmp_path / "c.key")
        tls = dataclasses.replace(tls, client_cert=tmp_path / "c.pem", client_key=tmp_path / "c.key")
    transport, client = pds_client(dataclasses.replace(sandbox_settings, tls=tls))
    try:
        with pytest.raises((TlsFailure, SpineUnavailable)) as raised:
            client.retrieve(NUMBER)
    finally:
        transport.close()
    assert raised.value.user_message and "Traceback" not in raised.value.user_message
    assert requests_seen(sandbox) == 0

"""The connection to Spine is only ever made with a verified server certificate and our client certificate."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consent_desktop.config import Settings, TomlFileSource, load_settings
from consent_desktop.domain.errors import SpineUnavailable, TlsFailure
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.sandbox import pki
from consent_desktop.sandbox.datadir import SandboxData
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine.acs_client import AcsClient
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.transport import SpineTransport
from tests.conftest import ActiveGate

NHS = NhsNumber.parse("9434765919")
PACKAGE = Path(__file__).parents[2] / "consent_desktop"


def client_for(settings: Settings) -> AcsClient:
    spine = settings.spine
    transport = SpineTransport(spine, settings.tls)
    return AcsClient(transport, SpineEndpoint.for_acs(spine), ActiveGate(), attempts=1)


@pytest.fixture
def sandbox_with_server_cert(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A sandbox whose server certificate is replaced before it starts (expired, or for another host)."""
    data = SandboxData(tmp_path / "spine")
    data.ensure_pki()
    ca = data.tls_ca()
    kind = request.param
    if kind == "expired":
        issued = pki._issue(
            ca,
            pki._name((pki.NameOID.COMMON_NAME, "127.0.0.1")),
            pki.ec.generate_private_key(pki.ec.SECP256R1()),
            usage=pki.ExtendedKeyUsageOID.SERVER_AUTH,
            days=1,
            not_before=datetime.now(UTC) - timedelta(days=10),
            hosts=("127.0.0.1",),
        )
    else:
        issued = pki.server_certificate(ca, hosts=("spine.invalid",))
    issued.write(data.pem("server"), data.key("server"))
    with Sandbox(data.root) as sandbox:
        yield sandbox


def settings_of(sandbox: Sandbox) -> Settings:
    return load_settings([TomlFileSource(sandbox.data.client_config, "client.toml")])


@pytest.mark.hazard("HAZ-012", "HAZ-013")
def test_server_certificate_from_an_untrusted_ca(sandbox: Sandbox, sandbox_settings: Settings, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    pki.new_ca("Somebody Else").write(other_ca)
    settings = dataclasses.replace(sandbox_settings, tls=dataclasses.replace(sandbox_settings.tls, ca_bundle=other_ca))
    with pytest.raises(TlsFailure) as raised:
        client_for(settings).get_consent(NHS)
    assert "could not be trusted" in raised.value.user_message
    assert raised.value.request_sent is False


@pytest.mark.hazard("HAZ-013")
@pytest.mark.parametrize("sandbox_with_server_cert", ["expired"], indirect=True)
def test_expired_server_certificate(sandbox_with_server_cert: Sandbox) -> None:
    with pytest.raises(TlsFailure) as raised:
        client_for(settings_of(sandbox_with_server_cert)).get_consent(NHS)
    assert "expired" in raised.value.details


@pytest.mark.hazard("HAZ-013")
@pytest.mark.parametrize("sandbox_with_server_cert", ["wrong-host"], indirect=True)
def test_server_certificate_for_another_host(sandbox_with_server_cert: Sandbox) -> None:
    with pytest.raises(TlsFailure) as raised:
        client_for(settings_of(sandbox_with_server_cert)).get_consent(NHS)
    assert "mismatch" in raised.value.details.lower() or "match" in raised.value.details.lower()


@pytest.mark.hazard("HAZ-012")
def test_no_client_certificate_is_refused_by_spine(sandbox_settings: Settings) -> None:
    settings = dataclasses.replace(
        sandbox_settings, tls=dataclasses.replace(sandbox_settings.tls, client_cert=None, client_key=None)
    )
    with pytest.raises((TlsFailure, SpineUnavailable)):
        client_for(settings).get_consent(NHS)


@pytest.mark.hazard("HAZ-012")
def test_client_certificate_from_another_ca_is_refused(sandbox_settings: Settings, tmp_path: Path) -> None:
    stranger = pki.client_certificate(pki.new_ca("Not Spine's CA"), "impostor")
    stranger.write(tmp_path / "c.pem", tmp_path / "c.key")
    tls = dataclasses.replace(sandbox_settings.tls, client_cert=tmp_path / "c.pem", client_key=tmp_path / "c.key")
    with pytest.raises((TlsFailure, SpineUnavailable)):
        client_for(dataclasses.replace(sandbox_settings, tls=tls)).get_consent(NHS)


@pytest.mark.hazard("HAZ-008", "HAZ-013")
def test_no_code_path_turns_verification_off() -> None:
    risky = re.compile(
        r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context|"
        r"resolve_entities\s*=\s*True|no_network\s*=\s*False|load_dtd\s*=\s*True"
    )
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if risky.search(line)
    ]
    assert offenders == []

"""The sandbox's CIS sign-in service, driven over real HTTPS by the app's own client and by hand."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from consent_desktop.auth.cis import CisClient, CisSignIn
from consent_desktop.config import Settings, TomlFileSource, load_settings
from consent_desktop.domain.errors import SessionNotActive, SignInFailed
from consent_desktop.sandbox import users
from consent_desktop.sandbox.runtime import Sandbox
from tests.fakes import FakeCard, FakeCardToken, card_for, card_for_user


def settings_of(sandbox: Sandbox) -> Settings:
    return load_settings([TomlFileSource(sandbox.data.client_config, "sandbox client.toml")])


@pytest.fixture
def cis(sandbox_settings: Settings) -> Iterator[CisClient]:
    with CisClient.from_settings(sandbox_settings) as client:
        yield client


@pytest.fixture
def short_lived(tmp_path: Path) -> Iterator[Sandbox]:
    """Challenges and tickets that lapse after 0.3 s."""
    with Sandbox(tmp_path / "short", ticket_lifetime=0.3, challenge_lifetime=0.3) as running:
        yield running


def logged_in(card: FakeCard, *, sign_delay: float = 0.0) -> FakeCardToken:
    token = FakeCardToken(card, sign_delay=sign_delay)
    token.login(bytearray(card.pin))
    return token


def sign_in(cis: CisClient, card: FakeCard) -> CisSignIn:
    return cis.sign_in(logged_in(card), card.identity)


def refusal(cis: CisClient, card: FakeCard) -> SignInFailed:
    with pytest.raises(SignInFailed) as caught:
        sign_in(cis, card)
    return caught.value


def test_good_sign_in_returns_the_users_name_and_roles(sandbox: Sandbox, cis: CisClient) -> None:
    signed_in = sign_in(cis, card_for_user(sandbox.data.card_ca(), users.GP))

    assert signed_in.user_id == "555000000002"
    assert signed_in.user_name == "Dr Sam Patel"
    assert signed_in.roles == users.GP.roles
    assert signed_in.expires_in > 0


def test_the_chosen_role_is_recorded_against_the_ticket(sandbox: Sandbox, cis: CisClient) -> None:
    signed_in = sign_in(cis, card_for_user(sandbox.data.card_ca(), users.GP))

    confirmed = cis.select_role(signed_in.ticket, "555254240103")

    assert confirmed.org_name == "Hillside Medical Centre"
    assert sandbox.cis is not None
    assert sandbox.cis.selected_role(signed_in.ticket.value) == "555254240103"


@pytest.mark.hazard("HAZ-005", "HAZ-008")
def test_the_ticket_appears_in_no_repr_str_or_error_details(sandbox: Sandbox, cis: CisClient) -> None:
    signed_in = sign_in(cis, card_for_user(sandbox.data.card_ca(), users.GP))
    secret = signed_in.ticket.value

    with pytest.raises(SignInFailed) as caught:
        cis.select_role(signed_in.ticket, users.RECEPTIONIST.roles[0].role_profile_id)

    for shown in (repr(signed_in), str(signed_in), repr(signed_in.ticket), str(signed_in.ticket)):
        assert secret not in shown
    assert secret not in caught.value.details
    assert secret not in caught.value.user_message


def test_a_signature_not_made_by_the_certificates_key_is_refused(sandbox: Sandbox, cis: CisClient) -> None:
    card = card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST)
    other_key = card_for(sandbox.data.card_ca(), "555000000009").issued.key
    assert isinstance(other_key, rsa.RSAPrivateKey)
    card.signing_key = other_key

    error = refusal(cis, card)

    assert error.user_message.startswith("Your smartcard's signature could not be verified")
    assert "signature_invalid" in error.details


def test_an_expired_certificate_is_refused(sandbox: Sandbox, cis: CisClient) -> None:
    error = refusal(cis, card_for_user(sandbox.data.card_ca(), users.EXPIRED_CARD))

    assert error.user_message == (
        "The certificate on your smartcard has expired. Contact your Registration Authority to renew your card."
    )
    assert not error.retryable


def test_a_certificate_not_yet_valid_is_refused(sandbox: Sandbox, cis: CisClient) -> None:
    error = refusal(cis, card_for(sandbox.data.card_ca(), users.RECEPTIONIST.user_id, validity="not yet valid"))

    assert error.user_message.startswith("The certificate on your smartcard is not valid yet.")


def test_a_certificate_from_another_ca_is_refused(sandbox: Sandbox, cis: CisClient) -> None:
    error = refusal(cis, card_for_user(sandbox.data.card_ca(), users.UNTRUSTED_CARD))

    assert error.user_message == (
        "Your smartcard was not issued by a trusted NHS authority, so it cannot be used to sign in. "
        "Contact your Registration Authority."
    )


def test_an_unknown_user_is_refused(sandbox: Sandbox, cis: CisClient) -> None:
    error = refusal(cis, card_for(sandbox.data.card_ca(), "555000000099"))

    assert error.user_message == (
        "Your smartcard is not registered with the Care Identity Service. Contact your Registration Authority."
    )


class ReplayFirstChallenge(httpx.BaseTransport):
    """A meddler between app and service that hands out the first challenge it saw, again and again."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.first: bytes | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/authactivate"):
            return response
        content = response.read()
        if self.first is None:
            self.first = content
        return httpx.Response(response.status_code, headers=response.headers, content=self.first)


def test_a_replayed_challenge_is_refused(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    card = card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST)
    assert sandbox_settings.tls.ca_bundle is not None
    inner = httpx.HTTPTransport(verify=ssl.create_default_context(cafile=sandbox_settings.tls.ca_bundle))
    with CisClient(
        sandbox_settings.auth.cis_url, sandbox_settings.tls.ca_bundle, transport=ReplayFirstChallenge(inner)
    ) as meddled:
        sign_in(meddled, card)  # the challenge's one good use
        error = refusal(meddled, card)

    assert error.user_message == "This sign-in attempt had already been used. Try signing in again."
    assert error.retryable


def test_a_challenge_answered_too_late_is_refused(short_lived: Sandbox) -> None:
    card = card_for_user(short_lived.data.card_ca(), users.RECEPTIONIST)
    with CisClient.from_settings(settings_of(short_lived)) as cis, pytest.raises(SignInFailed) as caught:
        cis.sign_in(logged_in(card, sign_delay=0.4), card.identity)

    assert caught.value.user_message == "The sign-in attempt took too long and has expired. Try signing in again."


def test_a_role_of_another_user_is_refused(sandbox: Sandbox, cis: CisClient) -> None:
    signed_in = sign_in(cis, card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST))

    with pytest.raises(SignInFailed) as caught:
        cis.select_role(signed_in.ticket, users.GP.roles[0].role_profile_id)

    assert caught.value.user_message == "That role is not one of your roles. Choose one of the roles listed."
    assert sandbox.cis is not None
    assert sandbox.cis.selected_role(signed_in.ticket.value) is None


def test_an_expired_ticket_is_refused(short_lived: Sandbox) -> None:
    card = card_for_user(short_lived.data.card_ca(), users.GP)
    with CisClient.from_settings(settings_of(short_lived)) as cis:
        signed_in = sign_in(cis, card)
        time.sleep(signed_in.expires_in + 0.1)
        with pytest.raises(SessionNotActive) as caught:
            cis.select_role(signed_in.ticket, users.GP.roles[0].role_profile_id)

    assert caught.value.user_message == "Your session has expired. Sign in again with your smartcard."


def test_logout_ends_the_ticket(sandbox: Sandbox, cis: CisClient) -> None:
    signed_in = sign_in(cis, card_for_user(sandbox.data.card_ca(), users.GP))

    cis.sign_out(signed_in.ticket)
    cis.sign_out(signed_in.ticket)  # ending an ended ticket is not an error

    with pytest.raises(SessionNotActive) as caught:
        cis.select_role(signed_in.ticket, users.GP.roles[0].role_profile_id)
    assert caught.value.user_message == "Your session is no longer valid. Sign in again with your smartcard."


@pytest.mark.hazard("HAZ-005", "HAZ-013")
def test_a_service_with_an_untrusted_certificate_is_not_used(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    card = card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST)
    token = logged_in(card)
    with (
        CisClient(sandbox_settings.auth.cis_url, sandbox.data.pem("card-ca")) as cis,
        pytest.raises(SignInFailed) as caught,
    ):
        cis.sign_in(token, card.identity)

    assert caught.value.user_message.startswith("The connection to the sign-in service was stopped because its")
    assert token.signed == []  # nothing was signed for a service that could not be trusted


@pytest.mark.hazard("HAZ-009")
def test_an_unreachable_service_is_a_retryable_failure(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    card = card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST)
    url = sandbox_settings.auth.cis_url
    sandbox.stop()
    with (
        CisClient(url, sandbox_settings.tls.ca_bundle, connect_timeout=2) as cis,
        pytest.raises(SignInFailed) as caught,
    ):
        cis.sign_in(logged_in(card), card.identity)

    assert caught.value.user_message == (
        "The sign-in service could not be reached. Check the network connection and try again."
    )
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("path", "content_type", "body", "status", "code"),
    [
        ("authvalidate", "application/json", b"{not json", 400, "bad_request"),
        ("authvalidate", "application/json", b'{"challenge": 7}', 400, "bad_request"),
        ("authvalidate", "text/plain", b"{}", 415, "bad_request"),
        (
            "authvalidate",
            "application/json",
            json.dumps({"challenge": "AAAA", "certificate": "AAAA", "signature": "AAAA"}).encode(),
            401,
            "challenge_unknown",
        ),
        ("roleselect", "application/json", b'{"role_profile_id": "555254240101"}', 401, "ticket_invalid"),
    ],
)
def test_refusals_share_one_json_shape(
    sandbox_settings: Settings, path: str, content_type: str, body: bytes, status: int, code: str
) -> None:
    assert sandbox_settings.tls.ca_bundle is not None
    with httpx.Client(verify=ssl.create_default_context(cafile=sandbox_settings.tls.ca_bundle)) as client:
        answer = client.post(
            f"{sandbox_settings.auth.cis_url}/{path}", content=body, headers={"Content-Type": content_type}
        )

    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "application/json"
    error = answer.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]

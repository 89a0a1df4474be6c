"""The sandbox's CIS2 provider as any client meets it: only loopback redirects, PKCE S256 required, codes
single-use, CIS2's claim names in userinfo, and the app's client refusing a replayed code."""

from __future__ import annotations

import dataclasses
import json
import ssl
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from consent_desktop.auth.cis2 import Cis2Client, Cis2Tokens
from consent_desktop.auth.loopback import LoopbackReceiver
from consent_desktop.config import Settings
from consent_desktop.domain.errors import ConfigError, SignInFailed
from consent_desktop.sandbox import cis2_service
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.users import GP
from tests.cis2.conftest import PlayedBrowser


@pytest.fixture
def web(sandbox: Sandbox) -> Iterator[httpx.Client]:
    context = ssl.create_default_context(cafile=str(sandbox.data.pem("tls-ca")))
    with httpx.Client(verify=context, follow_redirects=False) as client:
        yield client


@pytest.fixture
def client(cis2_settings: Settings) -> Iterator[Cis2Client]:
    with Cis2Client.from_settings(cis2_settings) as made:
        yield made


def signed_in_answer(sandbox: Sandbox, client: Cis2Client) -> tuple[object, dict[str, str]]:
    """A real authorize round trip: the request and the browser's answer at the loopback listener."""
    browser = PlayedBrowser(sandbox)
    with LoopbackReceiver(timeout=10) as receiver:
        request = client.authorization_request(receiver.redirect_uri)
        browser(request.url)
        answer = receiver.wait(request.state, threading.Event())
    browser.finish()
    return request, answer


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://attacker.example/cb",
        "http://192.168.1.20:8080/cb",
        "http://127.0.0.1.attacker.example:80/cb",
        "http://user@127.0.0.1:9000/cb",
        "file:///tmp/cb",
    ],
)
@pytest.mark.hazard("HAZ-013")
def test_authorize_never_redirects_off_this_computer(client: Cis2Client, web: httpx.Client, redirect_uri: str) -> None:
    request = client.authorization_request(redirect_uri)
    page = web.get(request.url)
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "loopback" in page.text


def test_authorize_requires_pkce_s256(client: Cis2Client, web: httpx.Client) -> None:
    url = client.authorization_request("http://127.0.0.1:5555/cb").url
    answer = web.get(url.replace("code_challenge_method=S256", "code_challenge_method=plain"))
    assert answer.status_code == 302
    sent_to = urlsplit(answer.headers["Location"])
    assert (sent_to.hostname, sent_to.port) == ("127.0.0.1", 5555)
    assert parse_qs(sent_to.query)["error"] == ["invalid_request"]


def test_a_replayed_code_is_refused_and_ends_what_it_gave(sandbox: Sandbox, client: Cis2Client) -> None:
    request, answer = signed_in_answer(sandbox, client)
    first = client.redeem(request, answer)  # type: ignore[arg-type]
    assert client.user(first).user_id
    with pytest.raises(SignInFailed) as refused:
        client.redeem(request, answer)  # type: ignore[arg-type]
    assert "already been used" in refused.value.user_message
    assert "invalid_grant" in refused.value.details
    with pytest.raises(SignInFailed):
        client.user(first)  # the replay revoked the tokens the code had given


def test_token_refuses_a_wrong_code_verifier(sandbox: Sandbox, cis2_settings: Settings, client: Cis2Client) -> None:
    _, answer = signed_in_answer(sandbox, client)
    context = ssl.create_default_context(cafile=str(sandbox.data.pem("tls-ca")))
    refused = httpx.post(
        client.metadata().token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": "http://127.0.0.1:1/consent-desktop/signed-in",
            "client_id": cis2_service.CLIENT_ID,
            "code_verifier": "an-interceptor-does-not-know-the-verifier-0123456789",
        },
        verify=context,
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_userinfo_uses_cis2_claim_names(sandbox: Sandbox, cis2_settings: Settings) -> None:
    user = cis2_service._user_claims(GP)
    assert user["nhsid_useruid"] == GP.user_id == user["sub"]
    roles = user["nhsid_nrbac_roles"]
    assert isinstance(roles, list)
    assert [r["person_roleid"] for r in roles] == [r.role_profile_id for r in GP.roles]
    assert {"org_code", "role_code", "role_name", "activity_codes"} <= set(roles[0])
    assert user["nhsid_user_orgs"] == [
        {"org_code": "A81001", "org_name": "Riverside Surgery"},
        {"org_code": "B82002", "org_name": "Hillside Medical Centre"},
    ]
    json.dumps(user)  # it is what goes on the wire


def test_the_client_sees_the_users_roles_as_the_sandbox_holds_them(sandbox: Sandbox, cis2_settings: Settings) -> None:
    gp_browser = PlayedBrowser(sandbox, GP)
    with Cis2Client.from_settings(cis2_settings) as client, LoopbackReceiver(timeout=10) as receiver:
        request = client.authorization_request(receiver.redirect_uri)
        gp_browser(request.url)
        tokens = client.redeem(request, receiver.wait(request.state, threading.Event()))
        user = client.user(tokens)
    assert (user.user_id, user.user_name, user.roles) == (GP.user_id, GP.name, GP.roles)


@pytest.mark.hazard("HAZ-012", "HAZ-013")
def test_a_discovery_document_for_another_issuer_is_refused(sandbox: Sandbox, cis2_settings: Settings) -> None:
    # The same server under another name: its document names the issuer it was set up as (127.0.0.1).
    other_name = cis2_settings.cis2.issuer.replace("127.0.0.1", "localhost")
    wrong = Cis2Client(other_name, cis2_service.CLIENT_ID, cis2_settings.cis2.ca_bundle)
    with wrong, pytest.raises(SignInFailed) as refused:
        wrong.metadata()
    assert "not the one this app is set up for" in refused.value.user_message
    with Cis2Client(cis2_settings.cis2.issuer, cis2_service.CLIENT_ID, cis2_settings.cis2.ca_bundle) as right:
        assert right.metadata().end_session_endpoint is not None


@pytest.mark.hazard("HAZ-008")
def test_tokens_never_show_in_a_repr() -> None:
    tokens = Cis2Tokens("access-secret", "id-secret", "555000000001", 3600)
    assert "secret" not in repr(tokens) and "secret" not in str(tokens)


@pytest.mark.hazard("HAZ-013")
def test_the_provider_certificate_must_be_trusted(sandbox: Sandbox, cis2_settings: Settings) -> None:
    untrusting = Cis2Client(cis2_settings.cis2.issuer, cis2_service.CLIENT_ID, sandbox.data.pem("card-ca"))
    with untrusting, pytest.raises(SignInFailed) as refused:
        untrusting.metadata()
    assert "could not be trusted" in refused.value.user_message


def test_the_sign_in_asks_for_the_configured_scopes(cis2_settings: Settings, web: httpx.Client) -> None:
    settings = dataclasses.replace(
        cis2_settings, cis2=dataclasses.replace(cis2_settings.cis2, scopes=("openid", "nhsperson"))
    )
    with Cis2Client.from_settings(settings) as client:
        url = client.authorization_request("http://127.0.0.1:5555/cb").url
    assert parse_qs(urlsplit(url).query)["scope"] == ["openid nhsperson"]
    assert web.get(url).status_code == 200  # the provider accepts them and shows its sign-in page


def test_scopes_without_openid_are_refused_naming_the_setting(cis2_settings: Settings) -> None:
    settings = dataclasses.replace(cis2_settings, cis2=dataclasses.replace(cis2_settings.cis2, scopes=("nhsperson",)))
    with pytest.raises(ConfigError) as refused:
        Cis2Client.from_settings(settings)
    assert refused.value.key == "cis2.scopes"
    assert "must include openid" in str(refused.value)

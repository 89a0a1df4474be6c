"""The CIS2 client against what CIS2 publishes and what NHS's own fixtures show, and the sandbox's provider as any
client meets it: an INT-shaped discovery document (issuer with ":443", /access_token, /connect/jwk_uri) through
the client over a fake transport; NHS's userinfo sample replayed verbatim; only loopback (or exactly registered)
redirects; PKCE S256 required; codes single-use; each token-endpoint client authentication; RS256 with key
rotation; GET-only end session."""

from __future__ import annotations

import dataclasses
import json
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from consent_desktop.auth.cis2 import Cis2Client, Cis2Tokens, ClientCredentials, same_issuer
from consent_desktop.auth.loopback import LoopbackReceiver
from consent_desktop.config import Cis2Settings, Settings
from consent_desktop.domain.errors import ConfigError, SignInFailed
from consent_desktop.sandbox import cis2_service
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.users import GP
from tests.cis2.conftest import PlayedBrowser

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "identity-samples"
INT_BASE = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"
INT_ISSUER = INT_BASE.replace(".nhs.uk/", ".nhs.uk:443/")
CLIENT = "969567331415.apps.national"  # the client id in NHS's CIS2 ID token fixtures


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


# --- CIS2 as published: INT-shaped discovery and NHS's own samples, over a fake transport ----------------------


class FakeInt:
    """CIS2 INT as its discovery document and NHS's fixtures show it, behind httpx.MockTransport."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048)
        self.nonce = ""
        self.token_forms: list[dict[str, list[str]]] = []
        self.userinfo = json.loads((SAMPLES / "cis2-userinfo.json").read_text())
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json=self.discovery())
        if path.endswith("/connect/jwk_uri"):
            return httpx.Response(200, json={"keys": [{**self.key.as_dict(private=False), "kid": "int-1"}]})
        if path.endswith("/access_token"):
            self.token_forms.append(parse_qs(request.content.decode()))
            return httpx.Response(
                200,
                json={"access_token": "at", "id_token": self.id_token(), "token_type": "Bearer", "expires_in": 3599},
            )
        if path.endswith("/userinfo"):
            return httpx.Response(200, json=self.userinfo)
        return httpx.Response(404)

    def discovery(self) -> dict[str, object]:
        return {
            "issuer": INT_ISSUER,
            "authorization_endpoint": f"{INT_ISSUER}/authorize",
            "token_endpoint": f"{INT_ISSUER}/access_token",
            "userinfo_endpoint": f"{INT_ISSUER}/userinfo",
            "jwks_uri": f"{INT_ISSUER}/connect/jwk_uri",
            "end_session_endpoint": f"{INT_ISSUER}/connect/endSession",
            "id_token_signing_alg_values_supported": ["RS256", "RS512"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        }

    def id_token(self) -> str:
        """The claims of NHSDigital/identity-service-api's CIS2 ID token fixture, with this sign-in's times."""
        now = int(time.time())
        claims = {
            "sub": self.userinfo["sub"],
            "auditTrackingId": "91f694e6-3749-42fd-90b0-c3134b0d98f6-1546391",
            "amr": ["N3_SMARTCARD"],
            "iss": INT_ISSUER,
            "tokenName": "id_token",
            "aud": CLIENT,
            "acr": "AAL3_ANY",
            "id_assurance_level": 3,
            "authentication_assurance_level": 3,
            "org.forgerock.openidconnect.ops": "-I45NjmMDdMa-aNF2sr9hC7qEGQ",
            "azp": CLIENT,
            "auth_time": now - 20,
            "realm": "/NHSIdentity/Healthcare",
            "exp": now + 300,
            "tokenType": "JWTToken",
            "iat": now - 10,
            "nonce": self.nonce,
            "selected_roleid": "656005754108",
        }
        return jwt.encode({"alg": "RS256", "kid": "int-1"}, claims, self.key)


@pytest.fixture
def fake_int(tmp_path: Path) -> FakeInt:
    return FakeInt()


def int_client(fake: FakeInt, credentials: ClientCredentials) -> Cis2Client:
    """Configured as an administrator copying the published discovery base: no ":443"."""
    return Cis2Client(INT_BASE, CLIENT, None, credentials=credentials, transport=fake.transport)


@pytest.mark.hazard("HAZ-018")
def test_an_int_shaped_discovery_document_with_its_443_issuer_signs_in(fake_int: FakeInt) -> None:
    key = RSAKey.generate_key(2048)
    with int_client(fake_int, ClientCredentials("private_key_jwt", key=key, key_id="reg-1")) as client:
        metadata = client.metadata()
        assert metadata.issuer == INT_ISSUER and metadata.jwks_uri.endswith("/connect/jwk_uri")
        request = client.authorization_request("http://127.0.0.1:5000/consent-desktop/signed-in")
        fake_int.nonce = parse_qs(urlsplit(request.url).query)["nonce"][0]
        tokens = client.redeem(request, {"code": "c", "state": request.state})
        user = client.user(tokens)
    assert (tokens.subject, tokens.selected_role) == ("656005750104", "656005754108")
    [form] = fake_int.token_forms
    assertion = jwt.decode(form["client_assertion"][0], key)
    # The assertion's audience is the token endpoint exactly as CIS2 publishes it, port and all.
    assert assertion.claims["aud"] == f"{INT_ISSUER}/access_token"
    assert assertion.header["kid"] == "reg-1" and assertion.claims["iss"] == assertion.claims["sub"] == CLIENT
    assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    assert user.user_id == "656005750104"


def test_nhs_userinfo_sample_gives_its_roles_with_their_codes_and_names(fake_int: FakeInt) -> None:
    with int_client(fake_int, ClientCredentials()) as client:
        user = client.user(Cis2Tokens("at", "id", "656005750104", 3599))
    assert user.user_name == "Mr Test User"
    by_id = {role.role_profile_id: role for role in user.roles}
    manager = by_id["656005754108"]
    assert (manager.org_code, manager.org_name) == ("X09", "NHS CONNECTING FOR HEALTH")
    assert (manager.job_role_code, manager.job_role_name) == ("S0080:G0450:R5080", "Registration Authority Manager")
    assert manager.activities == {"B0015", "B0028", "B0030", "B0017"}
    assert by_id["656014452101"].job_role_name == "Admin/Clinical Support Access Role"


@pytest.mark.parametrize(
    ("configured", "published", "same"),
    [
        (INT_BASE, INT_ISSUER, True),
        (INT_BASE + "/", INT_ISSUER, True),
        (INT_BASE.replace("https://am.", "https://AM."), INT_ISSUER, True),
        (INT_BASE, INT_ISSUER.replace(":443/", ":8443/"), False),
        (INT_BASE, INT_ISSUER.replace("/Healthcare", "/healthcare"), False),
        (INT_BASE, INT_ISSUER.replace("nhsint", "nhsidentity"), False),
    ],
)
@pytest.mark.hazard("HAZ-013")
def test_only_the_default_port_case_and_trailing_slash_are_set_aside(
    configured: str, published: str, same: bool
) -> None:
    assert same_issuer(configured, published) is same


def test_client_credentials_come_from_files_and_never_show(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3cr3t-value\n")
    made = ClientCredentials.from_settings(
        Cis2Settings(token_auth_method="client_secret_post", client_secret_file=secret_file)
    )
    assert made.token_fields("app", "https://x/token") == {"client_id": "app", "client_secret": "s3cr3t-value"}
    assert "s3cr3t" not in repr(made)
    with pytest.raises(ConfigError, match=r"cis2\.private_key"):
        ClientCredentials.from_settings(Cis2Settings(token_auth_method="private_key_jwt"))
    with pytest.raises(ConfigError, match=r"cis2\.token_auth_method"):
        ClientCredentials.from_settings(Cis2Settings(token_auth_method="client_secret_basic"))
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        ClientCredentials.from_settings(Cis2Settings(token_auth_method="client_secret_post", client_secret_file=empty))


# --- the sandbox's provider --------------------------------------------------------------------------------------


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
    sandbox.cis2.profile.client_auth = "none"  # type: ignore[union-attr]
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


@pytest.mark.parametrize("method", ["private_key_jwt", "client_secret_post", "none"])
@pytest.mark.hazard("HAZ-018")
def test_each_client_authentication_signs_in_and_a_mismatch_is_refused(
    sandbox: Sandbox, cis2_settings: Settings, tmp_path: Path, method: str
) -> None:
    assert sandbox.cis2 is not None
    secret = tmp_path / "client-secret"
    secret.write_text("a-secret-registered-with-cis2")
    sandbox.cis2.profile.client_auth = method
    sandbox.cis2.profile.client_secret = "a-secret-registered-with-cis2"
    matching = dataclasses.replace(cis2_settings.cis2, token_auth_method=method, client_secret_file=secret)
    with Cis2Client.from_settings(dataclasses.replace(cis2_settings, cis2=matching)) as good:
        request, answer = signed_in_answer(sandbox, good)
        assert good.user(good.redeem(request, answer)).user_id  # type: ignore[arg-type]
    other = "none" if method != "none" else "private_key_jwt"
    mismatched = dataclasses.replace(cis2_settings.cis2, token_auth_method=other, client_secret_file=secret)
    with Cis2Client.from_settings(dataclasses.replace(cis2_settings, cis2=mismatched)) as bad:
        request, answer = signed_in_answer(sandbox, bad)
        with pytest.raises(SignInFailed) as refused:
            bad.redeem(request, answer)  # type: ignore[arg-type]
    assert "refused to complete the sign-in" in refused.value.user_message
    assert "invalid_client" in refused.value.details


def test_a_client_assertion_is_single_use_and_bound_to_the_token_endpoint(sandbox: Sandbox, client: Cis2Client) -> None:
    metadata = client.metadata()
    credentials = ClientCredentials.from_settings(
        Cis2Settings(
            token_auth_method="private_key_jwt", private_key=sandbox.data.pki_dir / cis2_service.CLIENT_KEY_FILE
        )
    )
    context = ssl.create_default_context(cafile=str(sandbox.data.pem("tls-ca")))
    fields = credentials.token_fields(cis2_service.CLIENT_ID, metadata.token_endpoint)
    answers = [
        httpx.post(
            metadata.token_endpoint, data={"grant_type": "authorization_code", "code": "x", **fields}, verify=context
        )
        for _ in range(2)
    ]
    assert [a.json()["error"] for a in answers] == ["invalid_grant", "invalid_client"]  # the replayed assertion
    elsewhere = credentials.token_fields(cis2_service.CLIENT_ID, metadata.userinfo_endpoint)
    refused = httpx.post(
        metadata.token_endpoint, data={"grant_type": "authorization_code", "code": "x", **elsewhere}, verify=context
    )
    assert refused.status_code == 401 and "aud" in refused.json()["error_description"]


def test_userinfo_uses_cis2_claim_names_and_shapes() -> None:
    user = cis2_service.user_claims(GP)
    assert user["nhsid_useruid"] == GP.user_id == user["sub"]
    roles = user["nhsid_nrbac_roles"]
    assert isinstance(roles, list)
    assert [r["person_roleid"] for r in roles] == [r.role_profile_id for r in GP.roles]
    assert {"person_orgid", "org_code", "role_code", "role_name", "activity_codes"} <= set(roles[0])
    assert user["nhsid_user_orgs"] == [
        {"org_name": "Riverside Surgery", "org_code": "A81001"},
        {"org_name": "Hillside Medical Centre", "org_code": "B82002"},
    ]
    json.dumps(user)  # it is what goes on the wire


def test_the_client_sees_the_users_roles_as_the_sandbox_holds_them(sandbox: Sandbox, cis2_settings: Settings) -> None:
    gp_browser = PlayedBrowser(sandbox, GP, role=GP.roles[1].role_profile_id)
    with Cis2Client.from_settings(cis2_settings) as client, LoopbackReceiver(timeout=10) as receiver:
        request = client.authorization_request(receiver.redirect_uri)
        gp_browser(request.url)
        tokens = client.redeem(request, receiver.wait(request.state, threading.Event()))
        user = client.user(tokens)
    assert (user.user_id, user.user_name, user.roles) == (GP.user_id, GP.name, GP.roles)
    assert gp_browser.role_pages == [[role.role_profile_id for role in GP.roles]]
    assert tokens.selected_role == GP.roles[1].role_profile_id


@pytest.mark.hazard("HAZ-013", "HAZ-018")
def test_rs256_keys_rotate_and_the_client_follows_by_kid(sandbox: Sandbox, client: Cis2Client) -> None:
    assert sandbox.cis2 is not None
    request, answer = signed_in_answer(sandbox, client)
    client.redeem(request, answer)  # type: ignore[arg-type]  # the client now holds the first key set
    new_kid = sandbox.cis2.rotate_signing_key()
    request, answer = signed_in_answer(sandbox, client)
    tokens = client.redeem(request, answer)  # type: ignore[arg-type]
    header = jwt.decode(tokens.id_token, sandbox.cis2._key_set()).header
    assert (header["alg"], header["kid"]) == ("RS256", new_kid)


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

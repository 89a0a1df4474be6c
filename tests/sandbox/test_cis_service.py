"""The legacy CIS exchange: the sandbox's GAS and SSB, driven over real HTTPS by the app's own client and by hand,
and NHS Digital's published SAML RoleAssertion replayed through the client's reader."""

from __future__ import annotations

import base64
import dataclasses
import email
import ssl
import time
from collections.abc import Iterator
from email.policy import default as email_default
from pathlib import Path

import httpx
import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives.asymmetric import rsa

from consent_desktop.auth import gp_object, saml_roles
from consent_desktop.auth.cis import CisClient, CisSignIn
from consent_desktop.auth.cms_signature import signed_data, smime_response
from consent_desktop.config import Settings, TomlFileSource, load_settings
from consent_desktop.domain.errors import ConfigError, SessionNotActive, SignInFailed
from consent_desktop.sandbox import users
from consent_desktop.sandbox.runtime import Sandbox
from tests.fakes import FakeCard, FakeCardToken, card_for, card_for_user

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "identity-samples"
SAMPLE_TICKET = "AQIC5wM2LY4Sfcy73z2zeTRzPNXOdr5U6mC2NyUVxy0BffY=@AAJTSQACMDE=#"  # the one in NHS's SAML example


def settings_of(sandbox: Sandbox) -> Settings:
    return load_settings([TomlFileSource(sandbox.data.client_config, "sandbox client.toml")])


@pytest.fixture
def cis(sandbox_settings: Settings) -> Iterator[CisClient]:
    with CisClient.from_settings(sandbox_settings) as client:
        yield client


@pytest.fixture
def web(sandbox_settings: Settings) -> Iterator[httpx.Client]:
    assert sandbox_settings.tls.ca_bundle is not None
    with httpx.Client(verify=ssl.create_default_context(cafile=sandbox_settings.tls.ca_bundle)) as client:
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


# --- the public samples, replayed ---------------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-017", "HAZ-018")
def test_nhs_digitals_saml_role_assertion_gives_the_session_role_and_its_codes() -> None:
    assertion = saml_roles.parse((SAMPLES / "saml-role-assertion.xml").read_bytes(), SAMPLE_TICKET)
    assert (assertion.user_id, assertion.user_name, assertion.session_role_id) == (
        "232871648514",
        "Hatherly Adam",
        "780609380511",
    )
    assert assertion.confirms_ticket
    role = assertion.roles["780609380511"]
    assert (role.org_code, role.org_name) == ("X09", "NHS CONNECTING FOR HEALTH")
    assert (role.job_role_code, role.job_role_name) == ("S8000:G8000:R8003", "Health Professional Access Role")
    assert role.activities == {"B8029", "B0945", "B0257", "B0264", "B0286", "B0991", "B8004", "B8006", "B0085"}
    assert "B0020" not in role.activities  # this role may not record consent


def test_the_sample_assertion_does_not_confirm_another_ticket() -> None:
    assertion = saml_roles.parse((SAMPLES / "saml-role-assertion.xml").read_bytes(), "AQIC5wM2LY4Sother=@AAJTSQACMDE=#")
    assert not assertion.confirms_ticket


def test_a_gas_answer_with_a_bare_ampersand_and_its_doctype_is_read() -> None:
    """The shape of the GAS answer NHSbuntu-identity-agent recorded (its text is not ours to copy)."""
    answer = gp_object.parse(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE USER SYSTEM "https://gas.nis1.national.ncrs.nhs.uk/login/dtd">\n'
        b'<gpOBJECT>\n<gpPARAM name="cn">RA_A00394 RA A</gpPARAM>\n'
        b'<gpPARAM name="nhsjobrole0" id="102048850986" orgcode="B81108">SAHA SN & DE G, "Admin & Clerical":'
        b'"Admin":"Registration Authority Agent"</gpPARAM>\n'
        b'<gpPARAM name="sso_ticket">AQIC5wM2LY4SfcwrRGMHiyxMR3suYWqcF+B1j56GJ4xGut4=@AAJTSQACMDE=#</gpPARAM>\n'
        b"</gpOBJECT>",
        what="the answer",
    )
    [role] = answer.starting("nhsjobrole")
    assert role.attributes == {"id": "102048850986", "orgcode": "B81108"}
    assert role.value == 'SAHA SN & DE G, "Admin & Clerical":"Admin":"Registration Authority Agent"'
    assert answer.value("sso_ticket") == "AQIC5wM2LY4SfcwrRGMHiyxMR3suYWqcF+B1j56GJ4xGut4=@AAJTSQACMDE=#"


@pytest.mark.parametrize(
    "hostile",
    [
        b'<!DOCTYPE gpOBJECT [<!ENTITY x "boom">]><gpOBJECT><gpPARAM name="cn">&x;</gpPARAM></gpOBJECT>',
        b'<!DOCTYPE USER SYSTEM "gpOBJECT.DTD"><!DOCTYPE again SYSTEM "x"><gpOBJECT/>',
        b'<!DOCTYPE USER SYSTEM "x" [<!ENTITY y SYSTEM "file:///etc/passwd">]><gpOBJECT/>',
    ],
)
@pytest.mark.hazard("HAZ-013")
def test_only_one_external_doctype_line_is_tolerated(hostile: bytes) -> None:
    with pytest.raises(Exception, match="could not be read"):
        gp_object.parse(hostile, what="the answer")


# --- the exchange -------------------------------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-018")
def test_sign_in_answers_a_display_name_roles_without_codes_and_a_real_shaped_ticket(
    sandbox: Sandbox, cis: CisClient
) -> None:
    card = card_for_user(sandbox.data.card_ca(), users.GP)
    token = logged_in(card)
    signed_in = cis.sign_in(token, card.identity)

    assert token.digests == ["sha1"]  # CKM_SHA1_RSA_PKCS, as the Identity Agent
    assert (signed_in.user_id, signed_in.user_name) == ("555000000002", "Dr Sam Patel")
    assert [(r.role_profile_id, r.org_code, r.org_name, r.job_role_name) for r in signed_in.roles] == [
        (r.role_profile_id, r.org_code, r.org_name, r.job_role_name) for r in users.GP.roles
    ]
    assert all(r.job_role_code == "" and r.activities == frozenset() for r in signed_in.roles)
    ticket = signed_in.ticket.value
    assert ticket.startswith("AQIC5wM2LY4S") and ticket.endswith("@AAJTSQACMDE=#")
    assert {"=", "@", "#"} <= set(ticket) and ({"+", "/"} & set(ticket))
    assert signed_in.selected_role_id is None


@pytest.mark.hazard("HAZ-017")
def test_the_selected_role_comes_back_from_saml_with_its_codes(sandbox: Sandbox, cis: CisClient) -> None:
    signed_in = sign_in(cis, card_for_user(sandbox.data.card_ca(), users.GP))

    confirmed = cis.select_role(signed_in.ticket, "555254240103")

    assert confirmed == users.GP.roles[1]  # job-role code and B-codes from the RoleAssertion
    assert sandbox.cis is not None
    assert sandbox.cis.selected_role(signed_in.ticket.value) == "555254240103"


@pytest.mark.hazard("HAZ-017")
def test_an_ssb_naming_another_session_role_is_not_believed(sandbox: Sandbox, cis: CisClient) -> None:
    signed_in = sign_in(cis, card_for_user(sandbox.data.card_ca(), users.GP))
    cis.select_role(signed_in.ticket, "555254240102")

    with pytest.raises(SignInFailed) as caught:
        cis.role_assertion(signed_in.ticket, "555254240103")  # the SSB says 555254240102 is the session's role

    assert "did not confirm the role you chose" in caught.value.user_message


def test_the_sha256_variant_is_accepted(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    auth = dataclasses.replace(sandbox_settings.auth, cis_signature_digest="sha256")
    card = card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST)
    token = logged_in(card)
    with CisClient.from_settings(dataclasses.replace(sandbox_settings, auth=auth)) as cis:
        cis.sign_in(token, card.identity)
    assert token.digests == ["sha256"]


def test_an_unknown_digest_setting_is_a_settings_error(sandbox_settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"auth\.cis_signature_digest"):
        CisClient(sandbox_settings.auth.cis_url, sandbox_settings.tls.ca_bundle, digest="md5")


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


class CapturingTransport(httpx.BaseTransport):
    """Between app and service: keeps each request, and can change one answer on its way back."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.first_activation: bytes | None = None
        self.replay_activation = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/authactivate"):
            return response
        content = response.read()
        if self.first_activation is None:
            self.first_activation = content
        replayed = self.first_activation if self.replay_activation else content
        return httpx.Response(response.status_code, headers=response.headers, content=replayed)


def meddled_client(settings: Settings) -> tuple[CisClient, CapturingTransport]:
    assert settings.tls.ca_bundle is not None
    transport = CapturingTransport(
        httpx.HTTPTransport(verify=ssl.create_default_context(cafile=settings.tls.ca_bundle))
    )
    return CisClient(settings.auth.cis_url, settings.tls.ca_bundle, transport=transport), transport


@pytest.mark.hazard("HAZ-018")
def test_the_wire_carries_gpobjects_and_a_cms_signeddata_in_smime(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    card = card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST)
    client, wire = meddled_client(sandbox_settings)
    with client:
        signed_in = sign_in(client, card)
        client.select_role(signed_in.ticket, users.RECEPTIONIST.roles[0].role_profile_id)
        client.sign_out(signed_in.ticket)

    paths = [(r.method, r.url.path) for r in wire.requests]
    assert paths == [
        ("POST", "/login/authactivate"),
        ("POST", "/login/authvalidate"),
        ("GET", "/saml/RoleSelectionGP.jsp"),
        ("GET", "/saml/RoleAssertion"),
        ("POST", "/login/authlogout"),
    ]
    assert all(r.headers["User-Agent"] == "Mozilla/4.0(compatible;IE;GACv10. 0. 0. 1)" for r in wire.requests)
    activate, validate = (gp_object.parse(r.content, what="request") for r in wire.requests[:2])
    assert [(p.name, p.value) for p in activate.params if p.name in ("auth_method", "app_url", "service")] == [
        ("auth_method", "3"),
        ("app_url", "NHST"),
        ("service", "ACTIVATION"),
    ]
    assert wire.requests[0].content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE USER SYSTEM")
    assert (validate.value("service"), validate.value("uid"), validate.value("card_type")) == (
        "AUTHENTICATION",
        users.RECEPTIONIST.user_id,
        "p11",
    )
    [response] = [p for p in validate.params if p.name == "response"]
    assert response.attributes == {"encoding": "base64"}
    smime = email.message_from_bytes(base64.b64decode(response.value), policy=email_default)
    assert smime.get_content_type() == "application/x-pkcs7-mime"
    assert smime.get_filename() == "smime.p7m"
    signed = cms.ContentInfo.load(smime.get_payload(decode=True))["content"]
    [signer] = signed["signer_infos"]
    assert (signed["version"].native, signer["version"].native, signer["sid"].name) == (
        "v1",
        "v1",
        "issuer_and_serial_number",
    )
    assert signer["digest_algorithm"]["algorithm"].native == "sha1"
    assert signer["signature_algorithm"]["algorithm"].dotted == "1.2.840.113549.1.1.1"  # rsaEncryption
    assert not signer["signed_attrs"]
    assert signed["encap_content_info"]["content"].native == base64.b64decode(validate.value("challenge") or "")
    assert signed["certificates"][0].chosen.dump() == card.identity.certificate_der
    role_query = dict(wire.requests[2].url.params)
    assert role_query == {
        "token": signed_in.ticket.value,
        "selectedRoleUid": users.RECEPTIONIST.roles[0].role_profile_id,
        "ssbMode": "0",
        "fallbackStatus": "0",
        "gacVersion": "GACv10. 0. 0. 1",
    }
    assert b"%2B" in wire.requests[3].url.query or b"%2F" in wire.requests[3].url.query  # the ticket URL-encoded
    logout = gp_object.parse(wire.requests[4].content, what="request")
    assert (logout.value("service"), logout.value("sso_ticket"), logout.value("uid")) == (
        "LOGOUT",
        signed_in.ticket.value,
        users.RECEPTIONIST.user_id,
    )


def test_a_signature_not_made_by_the_certificates_key_is_refused(sandbox: Sandbox, cis: CisClient) -> None:
    card = card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST)
    other_key = card_for(sandbox.data.card_ca(), "555000000009").issued.key
    assert isinstance(other_key, rsa.RSAPrivateKey)
    card.signing_key = other_key

    error = refusal(cis, card)

    assert error.user_message.startswith("Your smartcard's signature could not be verified")
    assert "signature_invalid" in error.details


def test_a_signeddata_with_signed_attributes_or_another_content_is_refused(sandbox: Sandbox, web: httpx.Client) -> None:
    card = card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST)
    token = logged_in(card)
    for tamper in ("content", "attributes"):
        activated = gp_object.parse(
            web.post(f"{sandbox.identity_url}login/authactivate", content=activation()).content, what="answer"
        )
        challenge = base64.b64decode(activated.value("challenge") or "")
        der = signed_data(
            challenge + b"x" if tamper == "content" else challenge,
            card.identity.certificate_der,
            token.sign(challenge, "sha1"),
            "sha1",
        )
        if tamper == "attributes":
            info = cms.ContentInfo.load(der)
            info["content"]["signer_infos"][0]["signed_attrs"] = [{"type": "content_type", "values": ["data"]}]
            der = info.dump(force=True)
        answer = web.post(
            f"{sandbox.identity_url}login/authvalidate",
            content=validation(activated, users.RECEPTIONIST.user_id, smime_response(der)),
        )
        assert answer.status_code == 400
        assert gp_object.parse(answer.content, what="answer").value("error_code") == "bad_request"


def activation() -> bytes:
    return gp_object.build([("auth_method", "3"), ("app_url", "NHST"), ("service", "ACTIVATION")])


def validation(activated: gp_object.GpObject, uid: str, response: str) -> bytes:
    return gp_object.build(
        [
            ("auth_method", "3"),
            ("app_url", "NHST"),
            ("service", "AUTHENTICATION"),
            ("challenge", activated.value("challenge") or ""),
            ("signature", activated.value("signature") or ""),
            ("uid", uid),
            ("card_type", "p11"),
            ("response", response, {"encoding": "base64"}),
            ("mobility", "0"),
        ]
    )


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


def test_a_replayed_challenge_is_refused(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    card = card_for_user(sandbox.data.card_ca(), users.RECEPTIONIST)
    meddled, wire = meddled_client(sandbox_settings)
    with meddled:
        sign_in(meddled, card)  # the challenge's one good use
        wire.replay_activation = True
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

    assert caught.value.user_message == "The sign-in service did not accept your choice of role. Try signing in again."
    assert sandbox.cis is not None
    assert sandbox.cis.selected_role(signed_in.ticket.value) is None


def test_an_expired_ticket_is_refused(short_lived: Sandbox) -> None:
    card = card_for_user(short_lived.data.card_ca(), users.GP)
    with CisClient.from_settings(settings_of(short_lived)) as cis:
        signed_in = sign_in(cis, card)
        time.sleep(0.4)
        with pytest.raises(SessionNotActive) as caught:
            cis.role_assertion(signed_in.ticket, users.GP.roles[0].role_profile_id)

    assert caught.value.user_message == "Your session is no longer valid. Sign in again with your smartcard."


def test_logout_ends_the_ticket(sandbox: Sandbox, cis: CisClient) -> None:
    signed_in = sign_in(cis, card_for_user(sandbox.data.card_ca(), users.GP))

    cis.sign_out(signed_in.ticket)
    cis.sign_out(signed_in.ticket)  # ending an ended ticket is not an error

    with pytest.raises(SessionNotActive) as caught:
        cis.role_assertion(signed_in.ticket, users.GP.roles[0].role_profile_id)
    assert caught.value.user_message == "Your session is no longer valid. Sign in again with your smartcard."


@pytest.mark.hazard("HAZ-007")
def test_a_card_removal_destroys_every_ticket_of_its_user(sandbox: Sandbox, cis: CisClient) -> None:
    first = sign_in(cis, card_for_user(sandbox.data.card_ca(), users.GP))
    assert sandbox.cis is not None

    assert sandbox.cis.end_sessions_of(users.GP.user_id) == 1

    assert not sandbox.cis.is_live(first.ticket.value)
    with pytest.raises(SessionNotActive):
        cis.role_assertion(first.ticket, users.GP.roles[0].role_profile_id)


def test_session_update_keeps_a_live_ticket_and_says_so(sandbox: Sandbox, cis: CisClient, web: httpx.Client) -> None:
    signed_in = sign_in(cis, card_for_user(sandbox.data.card_ca(), users.GP))
    live = web.get(f"{sandbox.identity_url}login/ssoupdate", params={"token": signed_in.ticket.value})
    cis.sign_out(signed_in.ticket)
    ended = web.get(f"{sandbox.identity_url}login/ssoupdate", params={"token": signed_in.ticket.value})
    assert (live.content, ended.content) == (
        b"<HTML><STATUS>OK</STATUS></HTML>",
        b"<HTML><STATUS>FAILED</STATUS></HTML>",
    )


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
    ("path", "body", "status", "code"),
    [
        ("login/authvalidate", b"<not xml", 400, "bad_request"),
        ("login/authvalidate", gp_object.build([("auth_method", "3"), ("service", "ACTIVATION")]), 400, "bad_request"),
        (
            "login/authvalidate",
            gp_object.build(
                [("auth_method", "3"), ("service", "AUTHENTICATION"), ("challenge", "AAAA"), ("signature", "AAAA")]
            ),
            401,
            "challenge_unknown",
        ),
    ],
)
def test_refusals_share_one_gpobject_shape(
    sandbox: Sandbox, web: httpx.Client, path: str, body: bytes, status: int, code: str
) -> None:
    answer = web.post(f"{sandbox.identity_url}{path}", content=body)

    assert answer.status_code == status
    refused = gp_object.parse(answer.content, what="answer")
    assert refused.value("error_code") == code
    assert refused.value("error_text")

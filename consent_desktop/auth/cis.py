"""The legacy CIS smartcard route, as the NHS Identity Agent speaks it (``docs/cis-sign-in.md``), over httpx.

To the authentication service (GAS, ``auth.cis_url``): gpOBJECT ``/login/authactivate`` (a challenge and the
server's signature), the card's SHA-1 signature of the challenge in a CMS SignedData under S/MIME, gpOBJECT
``/login/authvalidate`` (the SSO ticket, a display name and ``nhsjobroleN`` roles without any codes),
``/saml/RoleSelectionGP.jsp`` to select a role, and the gpOBJECT LOGOUT. To the SSB (``auth.cis_role_assertion_url``,
blank: the same host): the SAML RoleAssertion, the only source of the selected role's job-role code and RBAC
activity codes. Reverse-engineered by three independent public sources, not NHS-endorsed
(``../shared/docs/identity-protocols.md`` §1); NHS England supports this route with current cards only until
28 February 2027, and gives no support to third-party agents.

Refusals: the GAS's error answers are not public. This client reads an ``error_code`` gpPARAM (the sandbox's
documented assumption) and owns the plain English for each code, so what a receptionist reads never comes from the
network; anything else it does not understand is a generic refusal. The ticket is a secret: never logged, never in
a ``repr()`` or an error's details; the SSB lookups carry it in their query, so request lines are never logged.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import ssl
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from consent_desktop import logs
from consent_desktop.auth import gp_object, saml_roles
from consent_desktop.auth.card import CardIdentity, CardToken
from consent_desktop.auth.cms_signature import DIGESTS, signed_data, smime_response
from consent_desktop.auth.national_role import job_role_name, organisation_and_role
from consent_desktop.config import Settings
from consent_desktop.domain.errors import ConfigError, SessionNotActive, SignInFailed, UnexpectedResponse
from consent_desktop.domain.identity import RoleProfile
from consent_desktop.https_client import https_client
from consent_desktop.verified_tls import verified_context

MAX_ANSWER = 256 * 1024
GAC_VERSION = "GACv10. 0. 0. 1"  # the Identity Agent's version string, as NHSbuntu-identity-agent sends it
USER_AGENT = f"Mozilla/4.0(compatible;IE;{GAC_VERSION})"
SESSION_CEILING = 8 * 3600.0  # seconds: the GAS gives no ticket lifetime in seconds, so a working shift at most
_SESSION_ID_CHARS = string.ascii_letters + string.digits  # log_session_id, as the Identity Agent makes it
_DEVICE_ID_CHARS = string.ascii_lowercase + string.digits
_AGAIN = "Try signing in again."
_RA = "Contact your Registration Authority."

# error code -> (plain message, trying again may help); the codes are the sandbox's, the GAS's are not public
_REFUSALS: dict[str, tuple[str, bool]] = {
    "challenge_unknown": (f"The sign-in service did not recognise this sign-in attempt. {_AGAIN}", True),
    "challenge_used": (f"This sign-in attempt had already been used. {_AGAIN}", True),
    "challenge_expired": (f"The sign-in attempt took too long and has expired. {_AGAIN}", True),
    "certificate_unreadable": (f"The certificate on your smartcard could not be read. {_RA}", False),
    "certificate_untrusted": (
        f"Your smartcard was not issued by a trusted NHS authority, so it cannot be used to sign in. {_RA}",
        False,
    ),
    "certificate_expired": (
        "The certificate on your smartcard has expired. Contact your Registration Authority to renew your card.",
        False,
    ),
    "certificate_not_yet_valid": (
        "The certificate on your smartcard is not valid yet. Check this computer's date and time; if they are "
        "right, contact your Registration Authority.",
        False,
    ),
    "signature_invalid": (
        f"Your smartcard's signature could not be verified, so you were not signed in. {_AGAIN} If it keeps "
        "happening, contact your Registration Authority.",
        True,
    ),
    "user_unknown": (f"Your smartcard is not registered with the Care Identity Service. {_RA}", False),
    "algorithm_unsupported": ("The sign-in service does not accept this smartcard's signature type.", False),
}
_ENDED = "Your session is no longer valid. Sign in again with your smartcard."


@dataclass(frozen=True)
class CisTicket:
    """The SSO ticket (OpenSSO format, e.g. ``AQIC5wM2LY4S…=@AAJTSQACMDE=#``) and what ending it needs. Shown
    nowhere: ``repr`` and ``str`` leave the value out."""

    value: str = field(repr=False)
    logout_url: str = ""  # the answer's sso_logout_url
    user_id: str = ""  # the card's uid, sent with the LOGOUT
    log_session_id: str = ""  # the sign-in's log_session_id, sent with the LOGOUT

    def __str__(self) -> str:
        return "CisTicket(…)"


@dataclass(frozen=True)
class CisSignIn:
    """A completed sign-in: who it is, the roles they may act in, and, when the identity service has selected
    one, that role (legacy: the SSB's ``ssbSessionRoleUid``; CIS2: ``selected_roleid``)."""

    user_id: str
    user_name: str
    roles: tuple[RoleProfile, ...]
    ticket: CisTicket
    expires_in: float  # seconds until the sign-in lapses here
    selected_role_id: str | None = None


class CisClient:
    """One pooled HTTPS client for the GAS and the SSB. Thread-safe; every call blocks until the service answers
    (run it on the card lane, never the GUI thread)."""

    def __init__(
        self,
        base_url: str,
        ca_bundle: Path | None,
        *,
        role_assertion_url: str = "",
        digest: str = "sha1",
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        deadline: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        for key, url in (("auth.cis_url", base_url), ("auth.cis_role_assertion_url", role_assertion_url)):
            if key == "auth.cis_url" and not url:
                raise ConfigError("settings", key, "no sign-in service address is configured")
            if url and not url.startswith("https://"):
                raise ConfigError("settings", key, "the sign-in service address must start with https://")
        if digest not in DIGESTS:
            raise ConfigError("settings", "auth.cis_signature_digest", f"must be one of {', '.join(DIGESTS)}")
        self._base = base_url.rstrip("/")
        self._ssb = (role_assertion_url or base_url).rstrip("/")
        self._digest = digest
        self._device_id = "".join(secrets.choice(_DEVICE_ID_CHARS) for _ in range(8))
        logs.hide_request_lines()
        self._client = https_client(
            verified_context(ca_bundle, "tls.ca_bundle", checking="the sign-in service"),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            deadline=deadline,
            transport=transport,
        )
        self._client.headers["User-Agent"] = USER_AGENT  # as the Identity Agent sends it

    @classmethod
    def from_settings(cls, settings: Settings) -> CisClient:
        """The service's certificate is checked against the same CA bundle as Spine's."""
        auth = settings.auth
        return cls(
            auth.cis_url,
            settings.tls.ca_bundle,
            role_assertion_url=auth.cis_role_assertion_url,
            digest=auth.cis_signature_digest,
            connect_timeout=settings.spine.connect_timeout,
            read_timeout=settings.spine.read_timeout,
            deadline=settings.spine.read_deadline,
        )

    # --- the exchange ----------------------------------------------------------------------------------------

    def sign_in(self, token: CardToken, card: CardIdentity) -> CisSignIn:
        """authactivate, the card's signature, authvalidate. The roles come without codes; :meth:`select_role`
        completes the one chosen."""
        session_id = "".join(secrets.choice(_SESSION_ID_CHARS) for _ in range(10))
        common = [
            ("auth_method", "3"),
            ("app_url", "NHST"),
            ("log_session_id", session_id),
            ("device_id", f"{self._device_id},ClientIP={self._client_ip()}"),
        ]
        activated = self._gp_post("/login/authactivate", "authactivate", [*common, ("service", "ACTIVATION")])
        challenge = _value(activated, "challenge")
        server_signature = _value(activated, "signature")
        try:
            challenge_bytes = base64.b64decode(challenge, validate=True)
        except ValueError:
            raise _unreadable("challenge is not base64") from None
        signature = token.sign(challenge_bytes, self._digest)
        response = smime_response(signed_data(challenge_bytes, card.certificate_der, signature, self._digest))
        answer = self._gp_post(
            "/login/authvalidate",
            "authvalidate",
            [
                *common,
                ("service", "AUTHENTICATION"),
                ("challenge", challenge),
                ("signature", server_signature),
                ("uid", card.user_id),
                ("card_type", "p11"),
                ("response", response, {"encoding": "base64"}),
                ("mobility", "0"),
            ],
        )
        ticket = CisTicket(_value(answer, "sso_ticket"), self._logout_url(answer), card.user_id, session_id)
        return CisSignIn(
            user_id=card.user_id,  # the answer has no user id: its cn is a display name
            user_name=_value(answer, "cn"),
            roles=tuple(_offered_role(param) for param in answer.starting("nhsjobrole")),
            ticket=ticket,
            expires_in=SESSION_CEILING,
        )

    def select_role(self, ticket: CisTicket, role_profile_id: str) -> RoleProfile:
        """Select the role at the SSB, then read it back from the SAML RoleAssertion: the role, complete with its
        job-role and activity codes, only if the SSB now names it as the ticket's session role."""
        status, body = self._get(
            f"{self._base}/saml/RoleSelectionGP.jsp",
            "role selection",
            {
                "token": ticket.value,
                "selectedRoleUid": role_profile_id,
                "ssbMode": "0",
                "fallbackStatus": "0",
                "gacVersion": GAC_VERSION,
            },
        )
        if status != 200 or b"OK" not in body:  # the public clients test the answer for "OK"
            raise SignInFailed(
                f"The sign-in service did not accept your choice of role. {_AGAIN}",
                f"CIS role selection: HTTP {status} without OK",
                retryable=True,
            )
        return self.role_assertion(ticket, role_profile_id)

    def role_assertion(self, ticket: CisTicket, role_profile_id: str) -> RoleProfile:
        status, body = self._get(f"{self._ssb}/saml/RoleAssertion", "RoleAssertion", {"token": ticket.value})
        if status != 200:
            raise SessionNotActive(_ENDED) if status in (401, 403) else _unreadable(f"RoleAssertion HTTP {status}")
        try:
            assertion = saml_roles.parse(body, ticket.value)
        except saml_roles.AssertionRefused:  # the SSB no longer knows the ticket
            raise SessionNotActive(_ENDED) from None
        except UnexpectedResponse as exc:
            raise _unreadable(exc.details) from None
        if assertion.user_id != ticket.user_id or not assertion.confirms_ticket:
            raise SignInFailed(
                "The sign-in service answered for a different person or session, so you were not signed in. "
                "Ask your IT team.",
                "SAML RoleAssertion subject or ticket differs from this sign-in's",
            )
        role = assertion.roles.get(role_profile_id)
        if assertion.session_role_id != role_profile_id or role is None:
            raise SignInFailed(
                f"The sign-in service did not confirm the role you chose, so it was not used. {_AGAIN}",
                "SAML ssbSessionRoleUid is not the role selected, or its role block is missing",
            )
        return role

    def sign_out(self, ticket: CisTicket) -> None:
        """The gpOBJECT LOGOUT: the SSB destroys the ticket."""
        body = gp_object.build(
            [
                ("service", "LOGOUT"),
                ("sso_ticket", ticket.value),
                ("log_session_id", ticket.log_session_id),
                ("device_id", f"{self._device_id},ClientIP={self._client_ip()}"),
                ("uid", ticket.user_id),
            ]
        )
        status, answer = self._send("POST", ticket.logout_url or f"{self._base}/login/authlogout", "logout", body)
        if status != 200 or b"OK" not in answer:
            raise SignInFailed("The sign-in service could not end your session.", f"CIS logout: HTTP {status}")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> CisClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals -------------------------------------------------------------------------------------------

    def _logout_url(self, answer: gp_object.GpObject) -> str:
        """The answer's sso_logout_url, which must be https on the GAS's own host (the ticket goes there)."""
        url = answer.value("sso_logout_url") or f"{self._base}/login/authlogout"
        if urlsplit(url).scheme != "https" or urlsplit(url).netloc != urlsplit(self._base).netloc:
            raise _unreadable("sso_logout_url is not on the sign-in service")
        return url

    def _client_ip(self) -> str:
        """The address this computer reaches the GAS from, for the gpOBJECT's device_id (no packet is sent)."""
        host, port = urlsplit(self._base).hostname or "", urlsplit(self._base).port or 443
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.connect((host, port))
                return str(probe.getsockname()[0])
        except OSError:
            raise SignInFailed(
                "The sign-in service could not be reached. Check the network connection and try again.",
                "CIS: no route to the sign-in service",
                retryable=True,
            ) from None

    def _gp_post(self, path: str, what: str, params: list[gp_object.Param]) -> gp_object.GpObject:
        status, body = self._send("POST", f"{self._base}{path}", what, gp_object.build(params))
        try:
            answer = gp_object.parse(body, what=f"The sign-in service's {what} answer")
        except UnexpectedResponse as exc:
            answer = None
            problem = exc.details
        else:
            problem = ""
        code = answer.value("error_code") if answer is not None else None
        if status == 200 and answer is not None and code is None:
            return answer
        raise _refusal(what, status, code, problem)

    def _get(self, url: str, what: str, params: Mapping[str, str]) -> tuple[int, bytes]:
        return self._send("GET", url, what, None, params)

    def _send(
        self, method: str, url: str, what: str, content: bytes | None, params: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]:
        headers = {"Content-Type": "text/xml; charset=UTF-8"} if content is not None else {}
        try:
            with self._client.stream(method, url, content=content, params=params, headers=headers) as response:
                received = bytearray()
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) > MAX_ANSWER:
                        raise _unreadable(f"{what} answer over {MAX_ANSWER} bytes")
                return response.status_code, bytes(received)
        except httpx.ConnectError as exc:
            raise _connect_failure(exc) from None
        except httpx.TimeoutException as exc:
            raise SignInFailed(
                "The sign-in service did not answer in time. Try again in a moment.",
                f"CIS {what}: {type(exc).__name__}",
                retryable=True,
            ) from None
        except httpx.HTTPError as exc:
            raise SignInFailed(
                "The connection to the sign-in service was lost. Try again in a moment.",
                f"CIS {what}: {type(exc).__name__}",
                retryable=True,
            ) from None


def json_object(body: bytes) -> dict[str, object] | None:
    """A JSON object from a service, or None for anything else (the caller says what was wrong)."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _offered_role(param: gp_object.GpParam) -> RoleProfile:
    """``<gpPARAM name="nhsjobroleN" id="<role profile id>" orgcode="<ODS>">ORG, "A":"S":"R"</gpPARAM>``: no
    job-role code and no activity codes (the SAML RoleAssertion gives them once the role is selected)."""
    role_id, org_code = param.attributes.get("id", ""), param.attributes.get("orgcode", "")
    organisation, national_name = organisation_and_role(param.value)
    if not role_id or not national_name:
        raise _unreadable(f"{param.name} has no role profile id or no role name")
    return RoleProfile(role_id, org_code, organisation, "", job_role_name(national_name), frozenset())


def _refusal(what: str, status: int, code: str | None, problem: str) -> SignInFailed:
    if code is None:
        return SignInFailed(
            "The sign-in service is not working properly. Try again in a moment; if it keeps happening, "
            "ask your IT team.",
            f"CIS {what}: HTTP {status}{f' ({problem})' if problem else ''}"[:300],
            retryable=True,
        )
    message, retryable = _REFUSALS.get(code, ("The sign-in service refused to sign you in. Ask your IT team.", False))
    return SignInFailed(message, f"CIS {what} refused: HTTP {status} {code[:60]}", retryable=retryable)


def _connect_failure(exc: httpx.ConnectError) -> SignInFailed:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return SignInFailed(
                "The connection to the sign-in service was stopped because its certificate could not be trusted. "
                "Ask your IT team.",
                f"CIS server certificate verification failed: {cause.verify_message}",
            )
        if isinstance(cause, ssl.SSLError):
            return SignInFailed(
                "A secure connection to the sign-in service could not be set up. Ask your IT team.",
                f"CIS TLS handshake failed: {cause.reason or type(cause).__name__}",
            )
        cause = cause.__cause__ or cause.__context__
    return SignInFailed(
        "The sign-in service could not be reached. Check the network connection and try again.",
        "CIS connect failed",
        retryable=True,
    )


def _unreadable(details: str) -> SignInFailed:
    return SignInFailed(
        "The sign-in service gave an answer this app could not understand. Try again; if it keeps happening, "
        "ask your IT team.",
        f"CIS answer not understood: {details}",
        retryable=True,
    )


def _value(answer: gp_object.GpObject, name: str) -> str:
    value = answer.value(name)
    if not value:
        raise _unreadable(f"{name} missing or empty")
    return value

"""The client side of the CIS smartcard sign-in exchange (``docs/cis-sign-in.md``) over httpx.

The service's refusals carry a code; this module owns the plain English shown for each, so what a receptionist
reads does not depend on text from the network. The session ticket is a secret: it is never logged and never
appears in a ``repr()`` or an error's details.
"""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from consent_desktop.auth.card import CardIdentity, CardToken
from consent_desktop.config import Settings
from consent_desktop.domain.errors import ConfigError, SessionNotActive, SignInFailed
from consent_desktop.domain.identity import RoleProfile
from consent_desktop.https_client import https_client
from consent_desktop.verified_tls import verified_context

SIGNATURE_ALGORITHM = "RSASSA-PKCS1-v1_5-SHA256"  # what CardToken.sign produces
MAX_ANSWER = 256 * 1024
_AGAIN = "Try signing in again."
_RA = "Contact your Registration Authority."

# code -> (plain message, trying again may help)
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
    "role_not_yours": ("That role is not one of your roles. Choose one of the roles listed.", False),
    "algorithm_unsupported": ("The sign-in service does not accept this smartcard's signature type.", False),
}
_EXPIRED_TICKET = {
    "ticket_invalid": "Your session is no longer valid. Sign in again with your smartcard.",
    "ticket_expired": "Your session has expired. Sign in again with your smartcard.",
}


@dataclass(frozen=True)
class CisTicket:
    """The service's opaque session ticket. Shown nowhere: ``repr`` and ``str`` leave the value out."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return "CisTicket(…)"


@dataclass(frozen=True)
class CisSignIn:
    """A completed card sign-in: who the service says the card belongs to, and the roles they may act in."""

    user_id: str
    user_name: str
    roles: tuple[RoleProfile, ...]
    ticket: CisTicket
    expires_in: float  # seconds from the service's answer until the ticket lapses


class CisClient:
    """One pooled HTTPS client for the sign-in service. Thread-safe; every call blocks until the service
    answers (run it on the card lane, never the GUI thread)."""

    def __init__(
        self,
        base_url: str,
        ca_bundle: Path | None,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        deadline: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url:
            raise ConfigError("settings", "auth.cis_url", "no sign-in service address is configured")
        if not base_url.startswith("https://"):
            raise ConfigError("settings", "auth.cis_url", "the sign-in service address must start with https://")
        self._base = base_url.rstrip("/")
        self._client = https_client(
            verified_context(ca_bundle, "tls.ca_bundle", checking="the sign-in service"),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            deadline=deadline,
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> CisClient:
        """The service's certificate is checked against the same CA bundle as Spine's."""
        return cls(
            settings.auth.cis_url,
            settings.tls.ca_bundle,
            connect_timeout=settings.spine.connect_timeout,
            read_timeout=settings.spine.read_timeout,
            deadline=settings.spine.read_deadline,
        )

    def sign_in(self, token: CardToken, card: CardIdentity) -> CisSignIn:
        """Fetch a challenge, have the logged-in card sign it, and exchange the signature for a ticket."""
        activated = self._post("authactivate", {})
        challenge = _text(activated, "challenge")
        algorithm = activated.get("algorithm", SIGNATURE_ALGORITHM)
        if algorithm != SIGNATURE_ALGORITHM:
            raise _unreadable(f"challenge asks for signature algorithm {algorithm!r}")
        try:
            challenge_bytes = base64.b64decode(challenge, validate=True)
        except ValueError:
            raise _unreadable("challenge is not base64") from None
        signature = token.sign(challenge_bytes)
        answer = self._post(
            "authvalidate",
            {
                "challenge": challenge,
                "certificate": base64.b64encode(card.certificate_der).decode(),
                "signature": base64.b64encode(signature).decode(),
                "algorithm": SIGNATURE_ALGORITHM,
            },
        )
        user_id = _text(answer, "user_id")
        if user_id != card.user_id:
            raise SignInFailed(
                "The sign-in service answered for a different person from the one on this smartcard, so you were "
                "not signed in. Ask your IT team.",
                "CIS user id differs from the card certificate's",
            )
        expires_in = answer.get("expires_in")
        if not isinstance(expires_in, int | float) or isinstance(expires_in, bool) or expires_in <= 0:
            raise _unreadable("expires_in is not a positive number")
        roles = answer.get("roles")
        if not isinstance(roles, list):
            raise _unreadable("roles is not a list")
        return CisSignIn(
            user_id=user_id,
            user_name=_text(answer, "user_name"),
            roles=tuple(_role(item) for item in roles),
            ticket=CisTicket(_text(answer, "ticket")),
            expires_in=float(expires_in),
        )

    def select_role(self, ticket: CisTicket, role_profile_id: str) -> RoleProfile:
        """Tell the service which role the user acts in; returns the role as the service confirms it."""
        answer = self._post("roleselect", {"role_profile_id": role_profile_id}, ticket)
        role = answer.get("role")
        confirmed = _role(role) if isinstance(role, dict) else None
        if confirmed is None or confirmed.role_profile_id != role_profile_id:
            raise _unreadable("role selection answer does not confirm the chosen role")
        return confirmed

    def sign_out(self, ticket: CisTicket) -> None:
        self._post("logout", {}, ticket)

    def close(self) -> None:
        self._client.close()

    def _post(self, name: str, body: Mapping[str, object], ticket: CisTicket | None = None) -> dict[str, object]:
        headers = {"Accept": "application/json"}
        if ticket is not None:
            headers["Authorization"] = f"Bearer {ticket.value}"
        try:
            with self._client.stream("POST", f"{self._base}/{name}", json=body, headers=headers) as response:
                received = bytearray()
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) > MAX_ANSWER:
                        raise _unreadable(f"{name} answer over {MAX_ANSWER} bytes")
                status = response.status_code
        except httpx.ConnectError as exc:
            raise _connect_failure(exc) from None
        except httpx.TimeoutException as exc:
            raise SignInFailed(
                "The sign-in service did not answer in time. Try again in a moment.",
                f"CIS {name}: {type(exc).__name__}",
                retryable=True,
            ) from None
        except httpx.HTTPError as exc:
            raise SignInFailed(
                "The connection to the sign-in service was lost. Try again in a moment.",
                f"CIS {name}: {type(exc).__name__}",
                retryable=True,
            ) from None
        document = json_object(bytes(received))
        if status == 200 and document is not None:
            return document
        raise _refusal(name, status, document)

    def __enter__(self) -> CisClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def json_object(body: bytes) -> dict[str, object] | None:
    """A JSON object from a service, or None for anything else (the caller says what was wrong)."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _refusal(name: str, status: int, document: dict[str, object] | None) -> SignInFailed | SessionNotActive:
    error = document.get("error") if document is not None else None
    code = error.get("code") if isinstance(error, dict) else None
    reason = error.get("message") if isinstance(error, dict) else None
    if not isinstance(code, str):
        return SignInFailed(
            "The sign-in service is not working properly. Try again in a moment; if it keeps happening, "
            "ask your IT team.",
            f"CIS {name}: HTTP {status} without a refusal code",
            retryable=True,
        )
    if code in _EXPIRED_TICKET:
        return SessionNotActive(_EXPIRED_TICKET[code])
    details = f"CIS {name} refused: HTTP {status} {code}"
    if isinstance(reason, str):
        details += f" ({reason[:200]})"
    message, retryable = _REFUSALS.get(code, ("The sign-in service refused to sign you in. Ask your IT team.", False))
    return SignInFailed(message, details, retryable=retryable)


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


def _text(document: Mapping[str, object], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise _unreadable(f"{name} missing or not text")
    return value


def _role(item: object) -> RoleProfile:
    if not isinstance(item, dict):
        raise _unreadable("a role is not an object")
    activities = item.get("activities")
    if not isinstance(activities, list) or not all(isinstance(a, str) for a in activities):
        raise _unreadable("role activities is not a list of codes")
    return RoleProfile(
        role_profile_id=_text(item, "role_profile_id"),
        org_code=_text(item, "org_code"),
        org_name=_text(item, "org_name"),
        job_role_code=_text(item, "job_role_code"),
        job_role_name=_text(item, "job_role_name"),
        activities=frozenset(activities),
    )

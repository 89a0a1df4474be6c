"""The sandbox's CIS sign-in service: a smartcard challenge-response exchange over JSON and HTTPS.

The legacy Identity Agent's wire format was never published; this is the project's own stand-in, shaped like the
reverse-engineered exchange (authactivate, sign, authvalidate, role selection, logout). ``docs/cis-sign-in.md``
is its specification.

Challenges and tickets live in memory, not in the SQLite store: they are short-lived secrets, so none is ever
written to disk, and a sandbox restart ends every session just as an outage of the real service would.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from consent_desktop.domain.identity import RoleProfile
from consent_desktop.sandbox.http import Request, Response, Router
from consent_desktop.sandbox.users import BY_ID, SandboxUser

PATH = "/cis"
SIGNATURE_ALGORITHM = "RSASSA-PKCS1-v1_5-SHA256"
CHALLENGE_BYTES = 32
DEFAULT_TICKET_LIFETIME = 8 * 3600.0  # seconds: a working shift
DEFAULT_CHALLENGE_LIFETIME = 60.0  # seconds: ample for a PIN-protected card signature
_USER_ID = re.compile(r"\d{12}")
_JSON = "application/json"


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.response = _json(status, {"error": {"code": code, "message": message}})


def _json(status: int, body: Mapping[str, object]) -> Response:
    return Response(status, json.dumps(body).encode(), _JSON, {"Cache-Control": "no-store"})


def _role_json(role: RoleProfile) -> dict[str, object]:
    return {
        "role_profile_id": role.role_profile_id,
        "org_code": role.org_code,
        "org_name": role.org_name,
        "job_role_code": role.job_role_code,
        "job_role_name": role.job_role_name,
        "activities": sorted(role.activities),
    }


@dataclass
class _Challenge:
    expires_at: float
    used: bool = False


@dataclass
class _Ticket:
    user: SandboxUser
    expires_at: float
    role_profile_id: str | None = None


class CisService:
    """Thread-safe: the identity listener serves each request on its own thread."""

    def __init__(
        self,
        card_ca: x509.Certificate,
        users: Mapping[str, SandboxUser] = BY_ID,
        *,
        ticket_lifetime: float = DEFAULT_TICKET_LIFETIME,
        challenge_lifetime: float = DEFAULT_CHALLENGE_LIFETIME,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._card_ca = card_ca
        self._users = users
        self._ticket_lifetime = ticket_lifetime
        self._challenge_lifetime = challenge_lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._challenges: dict[str, _Challenge] = {}
        self._tickets: dict[str, _Ticket] = {}

    def register(self, router: Router) -> None:
        for name, handler in (
            ("authactivate", self.activate),
            ("authvalidate", self.validate),
            ("roleselect", self.select_role),
            ("logout", self.logout),
        ):
            router.add("POST", f"{PATH}/{name}", _refusals_answered(handler))

    # --- the exchange ----------------------------------------------------------------------------------------

    def activate(self, _request: Request) -> Response:
        challenge = base64.b64encode(secrets.token_bytes(CHALLENGE_BYTES)).decode()
        now = self._clock()
        with self._lock:
            self._forget_stale(now)
            self._challenges[challenge] = _Challenge(now + self._challenge_lifetime)
        return _json(
            200, {"challenge": challenge, "algorithm": SIGNATURE_ALGORITHM, "expires_in": self._challenge_lifetime}
        )

    def validate(self, request: Request) -> Response:
        body = _body(request)
        challenge = _field(body, "challenge")
        certificate_b64 = _field(body, "certificate")
        signature_b64 = _field(body, "signature")
        if body.get("algorithm", SIGNATURE_ALGORITHM) != SIGNATURE_ALGORITHM:
            raise _Refused(400, "algorithm_unsupported", f"only {SIGNATURE_ALGORITHM} is accepted")
        self._use_challenge(challenge)  # spent by any attempt, good or bad: one signature per challenge
        certificate = self._trusted_certificate(_base64(certificate_b64, "certificate"))
        _verify_signature(certificate, _base64(signature_b64, "signature"), _base64(challenge, "challenge"))
        user = self._user_of(certificate)
        ticket = secrets.token_urlsafe(32)
        with self._lock:
            self._tickets[ticket] = _Ticket(user, self._clock() + self._ticket_lifetime)
        return _json(
            200,
            {
                "ticket": ticket,
                "expires_in": self._ticket_lifetime,
                "user_id": user.user_id,
                "user_name": user.name,
                "roles": [_role_json(role) for role in user.roles],
            },
        )

    def select_role(self, request: Request) -> Response:
        role_profile_id = _field(_body(request), "role_profile_id")
        with self._lock:
            ticket = self._live_ticket(request)
            role = next((r for r in ticket.user.roles if r.role_profile_id == role_profile_id), None)
            if role is None:
                raise _Refused(403, "role_not_yours", "the role profile does not belong to the ticket's user")
            ticket.role_profile_id = role_profile_id
        return _json(200, {"role": _role_json(role)})

    def logout(self, request: Request) -> Response:
        """Idempotent: ending a ticket that has already ended (or expired) is not an error."""
        with self._lock:
            self._tickets.pop(_bearer(request), None)
        return _json(200, {"signed_out": True})

    def selected_role(self, ticket: str) -> str | None:
        """The role profile chosen with ``ticket``, for the sandbox's own services and tests."""
        with self._lock:
            found = self._tickets.get(ticket)
            return found.role_profile_id if found else None

    # --- checks ----------------------------------------------------------------------------------------------

    def _use_challenge(self, challenge: str) -> None:
        now = self._clock()
        with self._lock:
            found = self._challenges.get(challenge)
            if found is None:
                raise _Refused(401, "challenge_unknown", "this challenge was not issued here")
            if found.used:
                raise _Refused(401, "challenge_used", "this challenge has already been answered")
            found.used = True
            if now >= found.expires_at:
                raise _Refused(401, "challenge_expired", "the challenge expired before it was answered")

    def _trusted_certificate(self, der: bytes) -> x509.Certificate:
        try:
            certificate = x509.load_der_x509_certificate(der)
        except ValueError:
            raise _Refused(400, "certificate_unreadable", "the certificate is not DER X.509") from None
        try:
            certificate.verify_directly_issued_by(self._card_ca)
        except (ValueError, TypeError, InvalidSignature):
            raise _Refused(401, "certificate_untrusted", "not issued by the sandbox card CA") from None
        now = datetime.now(UTC)
        if now < certificate.not_valid_before_utc:
            raise _Refused(
                401, "certificate_not_yet_valid", f"valid from {certificate.not_valid_before_utc.isoformat()}"
            )
        if now > certificate.not_valid_after_utc:
            raise _Refused(401, "certificate_expired", f"expired {certificate.not_valid_after_utc.isoformat()}")
        return certificate

    def _user_of(self, certificate: x509.Certificate) -> SandboxUser:
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        user_id = str(names[0].value) if len(names) == 1 else ""
        user = self._users.get(user_id) if _USER_ID.fullmatch(user_id) else None
        if user is None:
            raise _Refused(403, "user_unknown", "no user is registered for this card")
        return user

    def _live_ticket(self, request: Request) -> _Ticket:
        """Call with the lock held."""
        value = _bearer(request)
        ticket = self._tickets.get(value)
        if ticket is None:
            raise _Refused(401, "ticket_invalid", "the ticket is not known, or has been signed out")
        if self._clock() >= ticket.expires_at:
            del self._tickets[value]
            raise _Refused(401, "ticket_expired", "the ticket has expired")
        return ticket

    def _forget_stale(self, now: float) -> None:
        """Call with the lock held. Challenges are kept one lifetime past expiry so a late replay is still
        named as one; tickets are kept until then too, so their expiry can be reported as such."""
        grace = self._challenge_lifetime
        for key in [k for k, c in self._challenges.items() if now >= c.expires_at + grace]:
            del self._challenges[key]
        for key in [k for k, t in self._tickets.items() if now >= t.expires_at + self._ticket_lifetime]:
            del self._tickets[key]


def _refusals_answered(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    def answer(request: Request) -> Response:
        try:
            return handler(request)
        except _Refused as refused:
            return refused.response

    return answer


def _body(request: Request) -> dict[str, object]:
    if request.header("Content-Type").split(";")[0].strip().lower() != _JSON:
        raise _Refused(415, "bad_request", f"send {_JSON}")
    try:
        body = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _Refused(400, "bad_request", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise _Refused(400, "bad_request", "the body must be a JSON object")
    return body


def _field(body: Mapping[str, object], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _Refused(400, "bad_request", f"{name!r} must be a non-empty string")
    return value


def _base64(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _Refused(400, "bad_request", f"{name!r} is not base64") from None


def _bearer(request: Request) -> str:
    scheme, _, value = request.header("Authorization").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _Refused(401, "ticket_invalid", "send the ticket as 'Authorization: Bearer <ticket>'")
    return value.strip()


def _verify_signature(certificate: x509.Certificate, signature: bytes, challenge: bytes) -> None:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise _Refused(401, "signature_invalid", "the card key is not RSA")
    try:
        key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise _Refused(401, "signature_invalid", "the signature does not match the challenge") from None

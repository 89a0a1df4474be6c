"""The sandbox's stand-in for the legacy CIS services the NHS Identity Agent talks to: the authentication service
(GAS) and the SSB's SAML RoleAssertion.

Built from the public samples and the three independent reverse-engineered clients
(``../shared/docs/identity-protocols.md`` §1, ``docs/cis-sign-in.md``), never from what this app sends:

- ``POST /login/authactivate``: a gpOBJECT with a fresh ``challenge`` and the server's ``signature`` (shaped as
  hippo-digital/open-id-connect's ``authactivate.txt``);
- ``POST /login/authvalidate``: unwraps the ``response`` (base64, S/MIME, base64 again) to a CMS SignedData and
  verifies it (SHA-1, or SHA-256 as a variant; the challenge attached; the card certificate embedded and issued by
  the sandbox's card CA; no signed attributes); answers as NHSbuntu-identity-agent's recorded sample does: a
  ``cn`` that is a display name, ``nhsjobroleN`` roles without any codes (role names with a bare ``&``, as in that
  sample) and an OpenSSO ticket holding ``+/=@#``;
- ``GET /saml/RoleSelectionGP.jsp?token=…&selectedRoleUid=…`` answering ``<HTML><STATUS>OK</STATUS></HTML>``;
- ``GET /saml/RoleAssertion?token=…``: SAML 1.1 as NHS Digital's Spine Core example (person block, then one block per
  role profile with ``nhsJobRoleCode`` and ``nhsBusinessFunctionsCodes``);
- ``POST /login/authlogout`` (the gpOBJECT LOGOUT; also as a GET with a body, as NHSbuntu sends it) and
  ``/login/ssoupdate`` (session update), both answering ``<STATUS>OK``; :meth:`CisService.end_sessions_of` destroys
  a user's tickets, as the Identity Agent has the SSB do when the card leaves the reader.

Error answers are not public: refusals here are the project's assumption (an HTTP 4xx with ``error_code`` and
``error_text`` gpPARAMs), documented in ``docs/cis-sign-in.md``. Challenges and tickets live in memory only.
"""

from __future__ import annotations

import base64
import binascii
import email
import hashlib
import hmac
import html
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from consent_desktop.auth import gp_object
from consent_desktop.domain.errors import UnexpectedResponse
from consent_desktop.sandbox.http import Request, Response, Router
from consent_desktop.sandbox.users import BY_ID, ROLE_NAMES, SandboxUser

CHALLENGE_BYTES = 48  # the public samples' challenges decode to 48 bytes
DEFAULT_TICKET_LIFETIME = 8 * 3600.0  # seconds: a working shift
DEFAULT_CHALLENGE_LIFETIME = 60.0  # seconds: ample for a PIN-protected card signature
DIGESTS = {"sha1": hashes.SHA1, "sha256": hashes.SHA256}  # SHA-1 as the Identity Agent; SHA-256 a variant
GAS_VERSION = "5.2.7"
TICKET_PREFIX, TICKET_SUFFIX = "AQIC5wM2LY4S", "@AAJTSQACMDE=#"  # the OpenSSO shape of every public sample
SAML_PROTOCOL = "urn:oasis:names:tc:SAML:1.0:protocol"
SAML_ASSERTION = "urn:oasis:names:tc:SAML:1.0:assertion"
SYNTEGRA = "http://www.syntegra.com"
OK_PAGE = b"<HTML><STATUS>OK</STATUS></HTML>"
FAILED_PAGE = b"<HTML><STATUS>FAILED</STATUS></HTML>"
_USER_ID = re.compile(r"\d{12}")


class _Refused(Exception):
    def __init__(self, status: int, code: str, text: str) -> None:
        super().__init__(code)
        self.status, self.code, self.text = status, code, text


@dataclass
class _Challenge:
    signature: str  # the server signature handed out with it, to be echoed
    expires_at: float
    used: bool = False


@dataclass
class _Ticket:
    user: SandboxUser
    expires_at: float
    role_profile_id: str | None = None
    last_seen: float = 0.0


class CisService:
    """Thread-safe: the identity listener serves each request on its own thread. Set :attr:`base_url` to the
    listener's address before the first request."""

    def __init__(
        self,
        card_ca: x509.Certificate,
        users: Mapping[str, SandboxUser] = BY_ID,
        *,
        ticket_lifetime: float = DEFAULT_TICKET_LIFETIME,
        challenge_lifetime: float = DEFAULT_CHALLENGE_LIFETIME,
        digests: tuple[str, ...] = tuple(DIGESTS),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = ""
        self._card_ca = card_ca
        self._users = users
        self._ticket_lifetime = ticket_lifetime
        self._challenge_lifetime = challenge_lifetime
        self._digests = digests
        self._clock = clock
        self._server_key = secrets.token_bytes(32)  # what the server "signs" challenges with
        self._lock = threading.Lock()
        self._challenges: dict[str, _Challenge] = {}
        self._tickets: dict[str, _Ticket] = {}

    def register(self, router: Router) -> None:
        router.add("POST", "/login/authactivate", self._answered(self.activate))
        router.add("POST", "/login/authvalidate", self._answered(self.validate))
        router.add("GET", "/saml/RoleSelectionGP.jsp", self.select_role)
        router.add("GET", "/saml/RoleAssertion", self.role_assertion)
        for method in ("POST", "GET"):
            router.add(method, "/login/authlogout", self.logout)
            router.add(method, "/login/ssoupdate", self.session_update)

    # --- for tests and trainers ------------------------------------------------------------------------------

    def selected_role(self, ticket: str) -> str | None:
        """The role profile selected with ``ticket``."""
        with self._lock:
            found = self._tickets.get(ticket)
            return found.role_profile_id if found else None

    def is_live(self, ticket: str) -> bool:
        with self._lock:
            found = self._tickets.get(ticket)
            return found is not None and self._clock() < found.expires_at

    def end_sessions_of(self, user_id: str) -> int:
        """Destroy every ticket of this user (the Identity Agent on a card removal); how many there were."""
        with self._lock:
            ended = [key for key, ticket in self._tickets.items() if ticket.user.user_id == user_id]
            for key in ended:
                del self._tickets[key]
        return len(ended)

    # --- the GAS ---------------------------------------------------------------------------------------------

    def activate(self, request: Request) -> Response:
        asked = self._gp_object(request, "ACTIVATION")
        challenge = base64.b64encode(secrets.token_bytes(CHALLENGE_BYTES)).decode()
        signature = base64.b64encode(hmac.new(self._server_key, challenge.encode(), hashlib.sha256).digest()).decode()
        now = self._clock()
        with self._lock:
            self._forget_stale(now)
            self._challenges[challenge] = _Challenge(signature, now + self._challenge_lifetime)
        return _gp_answer(
            self._dtd,
            [
                ("gas_version", GAS_VERSION),
                ("signature", signature),
                ("server_ip", "127.0.0.1"),
                ("ssp_url", ""),
                ("app_url", "NHST"),
                ("log_session_id", asked.value("log_session_id") or ""),
                ("service", "ACTIVATION"),
                ("error_url", f"{self.base_url}/login/error"),
                ("ticket", ""),
                ("auth_method", "3"),
                ("reply_url", f"{self.base_url}/login/authvalidate"),
                ("challenge", challenge),
                ("download_gac_url", "http://www.gemauth.com/authclient"),
                ("latest_gac_version", "3.9.1"),
            ],
        )

    def validate(self, request: Request) -> Response:
        asked = self._gp_object(request, "AUTHENTICATION")
        challenge = _required(asked, "challenge")
        self._use_challenge(challenge, _required(asked, "signature"))  # spent by any attempt, good or bad
        response = next((p for p in asked.params if p.name == "response"), None)
        if response is None or response.attributes.get("encoding") != "base64":
            raise _Refused(400, "bad_request", "the response gpPARAM (encoding base64) is missing")
        certificate = self._verified_signer(response.value, _base64(challenge, "challenge"))
        user = self._user_of(certificate, _required(asked, "uid"))
        ticket = self.issue_ticket(user)
        roles = [
            (
                f"nhsjobrole{index}",
                f"{role.org_name}, {ROLE_NAMES[role.role_profile_id]}",
                {"id": role.role_profile_id, "orgcode": role.org_code},
            )
            for index, role in enumerate(user.roles)
        ]
        return _gp_answer(
            self._dtd,
            [
                ("log_session_id", asked.value("log_session_id") or ""),
                ("error_url", f"{self.base_url}/login/error"),
                ("server_ip", "127.0.0.1"),
                ("cn", user.name),
                *roles,
                ("gas_version", GAS_VERSION),
                ("sso_ticket", ticket),
                ("sso_domain", ".sandbox.local"),
                ("sso_session_url", f"{self.base_url}/login/ssoupdate"),
                ("sso_max_session_time", "600"),
                ("sso_keep_alive", "false"),
                ("sso_session_time", "600"),
                ("sso_logout_url", f"{self.base_url}/login/authlogout"),
                ("auth_method", "3"),
                ("app_url", "NHST"),
                ("service", "AUTHENTICATION"),
            ],
        )

    def issue_ticket(self, user: SandboxUser) -> str:
        """A new ticket for ``user``, in the OpenSSO shape of the public samples (with ``+/=@#``)."""
        while True:
            value = f"{TICKET_PREFIX}{base64.b64encode(secrets.token_bytes(26)).decode()}{TICKET_SUFFIX}"
            if "+" in value or "/" in value:  # every ticket exercises the URL encoding the SSB lookups need
                break
        now = self._clock()
        with self._lock:
            self._tickets[value] = _Ticket(user, now + self._ticket_lifetime, last_seen=now)
        return value

    def select_role(self, request: Request) -> Response:
        query = _single(request.query)
        token, role_id = query.get("token", ""), query.get("selectedRoleUid", "")
        with self._lock:
            ticket = self._live(token)
            if ticket is None or role_id not in {role.role_profile_id for role in ticket.user.roles}:
                return Response(200, FAILED_PAGE, "text/html", {"Cache-Control": "no-store"})
            ticket.role_profile_id = role_id
        return Response(200, OK_PAGE, "text/html", {"Cache-Control": "no-store"})

    def logout(self, request: Request) -> Response:
        """The gpOBJECT LOGOUT. Idempotent: ending a ticket that has already ended is not an error."""
        try:
            asked = gp_object.parse(request.body, what="the LOGOUT request")
        except UnexpectedResponse:
            return Response(400, FAILED_PAGE, "text/html")
        if asked.value("service") != "LOGOUT" or not asked.value("sso_ticket"):
            return Response(400, FAILED_PAGE, "text/html")
        with self._lock:
            self._tickets.pop(asked.value("sso_ticket") or "", None)
        return Response(200, OK_PAGE, "text/html", {"Cache-Control": "no-store"})

    def session_update(self, request: Request) -> Response:
        """Keep-alive: the ticket (query ``token``, or a gpOBJECT's ``sso_ticket``) counts as seen now."""
        token = _single(request.query).get("token", "")
        if not token and request.body:
            try:
                token = gp_object.parse(request.body, what="the session update").value("sso_ticket") or ""
            except UnexpectedResponse:
                token = ""
        with self._lock:
            ticket = self._live(token)
            if ticket is not None:
                ticket.last_seen = self._clock()
        return Response(200, OK_PAGE if ticket else FAILED_PAGE, "text/html", {"Cache-Control": "no-store"})

    # --- the SSB ---------------------------------------------------------------------------------------------

    def role_assertion(self, request: Request) -> Response:
        token = _single(request.query).get("token", "")
        with self._lock:
            ticket = self._live(token)
            if ticket is not None:
                ticket.last_seen = self._clock()
        now = datetime.now(UTC).replace(microsecond=0)
        response = etree.Element(
            f"{{{SAML_PROTOCOL}}}Response",
            nsmap={"samlp": SAML_PROTOCOL},
            ResponseID="null",
            InResponseTo="null",
            MajorVersion="1",
            MinorVersion="1",
            IssueInstant=_instant(now),
            Recipient="127.0.0.1",
        )
        status = etree.SubElement(
            etree.SubElement(response, f"{{{SAML_PROTOCOL}}}Status"), f"{{{SAML_PROTOCOL}}}StatusCode"
        )
        status.set("Value", "samlp:Success" if ticket is not None else "samlp:RequestDenied")
        if ticket is not None:
            response.append(self._assertion(ticket, token, now))
        body = etree.tostring(response, encoding="UTF-8")
        return Response(200, body, "text/xml; charset=UTF-8", {"Cache-Control": "no-store"})

    def _assertion(self, ticket: _Ticket, token: str, now: datetime) -> etree._Element:
        user = ticket.user
        assertion = _saml(None, "Assertion", MajorVersion="1", MinorVersion="1", IssueInstant=_instant(now))
        assertion.set("AssertionID", secrets.token_hex(20) + "r")
        assertion.set("Issuer", self.base_url)
        _saml(
            assertion,
            "Conditions",
            NotBefore=_instant(now - timedelta(minutes=3)),
            NotOnOrAfter=_instant(now + timedelta(minutes=1)),
        )
        statement = _saml(assertion, "AttributeStatement")
        subject = _saml(statement, "Subject")
        _saml(subject, "NameIdentifier", NameQualifier="o=nhs").text = f"uid={user.user_id},ou=People,o=nhs"
        confirmation = _saml(subject, "SubjectConfirmation")
        _saml(confirmation, "ConfirmationMethod").text = "urn:com:sun:identity"
        inner = _saml(_saml(confirmation, "SubjectConfirmationData"), "Assertion", MajorVersion="1", MinorVersion="1")
        authentication = _saml(
            inner, "AuthenticationStatement", AuthenticationMethod="urn:com:sun:identity:ExtendedLoginModule"
        )
        inner_confirmation = _saml(_saml(authentication, "Subject"), "SubjectConfirmation")
        _saml(inner_confirmation, "ConfirmationMethod").text = "urn:com:sun:identity"
        _saml(inner_confirmation, "SubjectConfirmationData").text = token
        attributes: list[tuple[str, list[str]]] = [
            ("ssbAssertionVersion", ["1.1"]),
            ("cn", [user.name]),
            ("uid", [user.user_id]),
            *([("ssbSessionRoleUid", [ticket.role_profile_id])] if ticket.role_profile_id else []),
            ("ssbMode", ["0"]),
        ]
        for role in user.roles:  # each block starts at nhsIdCode; codes may be absent (0..*)
            attributes += [
                ("nhsIdCode", [role.org_code]),
                ("o", [role.org_name]),
                *([("nhsBusinessFunctionsCodes", sorted(role.activities))] if role.activities else []),
                ("nhsJobRole", [ROLE_NAMES[role.role_profile_id]]),
                ("uniqueIdentifier", [role.role_profile_id]),
                ("nhsJobRoleCode", [role.job_role_code]),
            ]
        for name, values in attributes:
            attribute = _saml(statement, "Attribute", AttributeName=name, AttributeNamespace=SYNTEGRA)
            for value in values:
                _saml(attribute, "AttributeValue").text = value
        return assertion

    # --- checks ----------------------------------------------------------------------------------------------

    @property
    def _dtd(self) -> str:
        return f'<!DOCTYPE USER SYSTEM "{self.base_url}/login/dtd">'

    def _answered(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def answer(request: Request) -> Response:
            try:
                return handler(request)
            except _Refused as refused:
                params = [("error_code", refused.code), ("error_text", refused.text)]
                response = _gp_answer(self._dtd, params)
                response.status = refused.status
                return response

        return answer

    def _gp_object(self, request: Request, service: str) -> gp_object.GpObject:
        try:
            asked = gp_object.parse(request.body, what="the request")
        except UnexpectedResponse as exc:
            raise _Refused(400, "bad_request", exc.details) from None
        if asked.value("service") != service or asked.value("auth_method") != "3":
            raise _Refused(400, "bad_request", f"service must be {service}, with auth_method 3")
        return asked

    def _use_challenge(self, challenge: str, signature: str) -> None:
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
            if not hmac.compare_digest(found.signature.encode(), signature.encode()):
                raise _Refused(401, "challenge_unknown", "the server signature echoed is not the one issued")

    def _verified_signer(self, response: str, challenge: bytes) -> x509.Certificate:
        """Unwrap base64 → S/MIME → base64 → CMS, check the SignedData's shape, and verify its one signature."""
        smime = email.message_from_bytes(_base64(response, "response"))  # compat32: the headers are simple
        if smime.get_content_type() not in ("application/x-pkcs7-mime", "application/pkcs7-mime"):
            raise _Refused(400, "bad_request", "the response is not S/MIME application/x-pkcs7-mime")
        der = smime.get_payload(decode=True)
        try:
            info = cms.ContentInfo.load(der)
            if info["content_type"].native != "signed_data":
                raise ValueError("not SignedData")
            data = info["content"]
            [signer] = data["signer_infos"]
            content = data["encap_content_info"]
            digest = signer["digest_algorithm"]["algorithm"].native
            certificates = [c.chosen for c in data["certificates"]]
            shape_ok = (
                data["version"].native == "v1"
                and content["content_type"].native == "data"
                and signer["version"].native == "v1"
                and signer["sid"].name == "issuer_and_serial_number"
                and not signer["signed_attrs"]
                and signer["signature_algorithm"]["algorithm"].native == "rsassa_pkcs1v15"
            )
            sid = signer["sid"].chosen
            signer_certificate = next(
                (
                    c
                    for c in certificates
                    if c.issuer == sid["issuer"] and c.serial_number == sid["serial_number"].native
                ),
                None,
            )
            attached, signature = content["content"].native, signer["signature"].native
        except (ValueError, TypeError, KeyError):
            raise _Refused(400, "bad_request", "the response is not a CMS SignedData with one signer") from None
        if not shape_ok or attached != challenge:
            raise _Refused(
                400, "bad_request", "the SignedData is not v1 over the challenge, rsaEncryption, unsigned attributes"
            )
        if digest not in self._digests:
            raise _Refused(400, "algorithm_unsupported", f"digest {digest} is not accepted here")
        if signer_certificate is None:
            raise _Refused(400, "certificate_unreadable", "the signer's certificate is not embedded")
        certificate = self._trusted_certificate(signer_certificate.dump())
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise _Refused(401, "signature_invalid", "the card key is not RSA")
        try:
            key.verify(signature, challenge, padding.PKCS1v15(), DIGESTS[digest]())
        except InvalidSignature:
            raise _Refused(401, "signature_invalid", "the signature does not match the challenge") from None
        return certificate

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

    def _user_of(self, certificate: x509.Certificate, uid: str) -> SandboxUser:
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        user_id = str(names[0].value) if len(names) == 1 else ""
        if uid != user_id:
            raise _Refused(400, "bad_request", "uid is not the signing certificate's CN")
        user = self._users.get(user_id) if _USER_ID.fullmatch(user_id) else None
        if user is None:
            raise _Refused(403, "user_unknown", "no user is registered for this card")
        return user

    def _live(self, token: str) -> _Ticket | None:
        """Call with the lock held."""
        ticket = self._tickets.get(token)
        if ticket is not None and self._clock() >= ticket.expires_at:
            del self._tickets[token]
            return None
        return ticket

    def _forget_stale(self, now: float) -> None:
        """Call with the lock held. Challenges are kept one lifetime past expiry so a late replay is still named
        as one."""
        grace = self._challenge_lifetime
        for key in [k for k, c in self._challenges.items() if now >= c.expires_at + grace]:
            del self._challenges[key]
        for key in [k for k, t in self._tickets.items() if now >= t.expires_at]:
            del self._tickets[key]


def _gp_answer(doctype: str, params: Sequence[gp_object.Param]) -> Response:
    """A gpOBJECT answer written as the GAS writes it: one gpPARAM per line, role text unescaped (``&`` bare)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', doctype, "<gpOBJECT>"]
    for item in params:
        extra = "".join(f' {key}="{html.escape(value)}"' for key, value in (item[2] if len(item) == 3 else {}).items())
        text = item[1] if item[0].startswith("nhsjobrole") else html.escape(item[1], quote=False)
        lines.append(f'<gpPARAM name="{item[0]}"{extra}>{text}</gpPARAM>')
    lines.append("</gpOBJECT>")
    return Response(200, "\n".join(lines).encode(), "text/xml; charset=UTF-8", {"Cache-Control": "no-store"})


def _saml(parent: etree._Element | None, name: str, **attributes: str) -> etree._Element:
    tag = f"{{{SAML_ASSERTION}}}{name}"
    if parent is None:
        return etree.Element(tag, attributes, nsmap={"saml": SAML_ASSERTION})
    return etree.SubElement(parent, tag, attributes)


def _instant(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _single(query: Mapping[str, list[str]]) -> dict[str, str]:
    return {name: values[0] for name, values in query.items() if len(values) == 1}


def _required(asked: gp_object.GpObject, name: str) -> str:
    value = asked.value(name)
    if not value:
        raise _Refused(400, "bad_request", f"{name} is missing")
    return value


def _base64(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _Refused(400, "bad_request", f"{name} is not base64") from None

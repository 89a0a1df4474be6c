"""The sandbox's CIS2-like OpenID Connect provider, on the identity listener (no client certificate: a browser
talks to it).

It offers what the app's native client uses of NHS CIS2 Authentication: discovery under an issuer path,
authorize (a small HTML page listing the sandbox's users, submitted as a form), token, userinfo with CIS2's
claim names (``nhsid_useruid``, ``nhsid_nrbac_roles``, ``nhsid_user_orgs``), JWKS and end session. It is
stricter than it need be where that protects the client's tests: only loopback redirect URIs (RFC 8252 §7.3),
PKCE S256 required, codes single-use and short-lived (a replayed code also ends the sign-in it came from), and
ID tokens signed ES256 with the sandbox's own key, made once in the data folder.

Codes and tokens live in memory only: a restart ends every sign-in, as an outage of the real service would.
"""

from __future__ import annotations

import hashlib
import html
import json
import secrets
import threading
import time
from base64 import urlsafe_b64encode
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from consent_desktop.domain.identity import RoleProfile
from consent_desktop.sandbox.http import Request, Response, Router
from consent_desktop.sandbox.users import BY_ID, SandboxUser

PATH = "/cis2/realms/Healthcare"  # the issuer's path, shaped like CIS2's realm paths
CLIENT_ID = "consent-desktop-sandbox"  # the one client registered here: a public native client
KEY_FILE = "cis2-signing.key"  # in the data folder's pki/
ALGORITHM = "ES256"
ACR = "AAL3_ANY"
SCOPES = ("openid", "profile", "nhsperson", "nationalrbacaccess", "associatedorgs")
DEFAULT_TOKEN_LIFETIME = 3600.0  # seconds an access token lasts, as CIS2's do
DEFAULT_CODE_LIFETIME = 60.0  # seconds a code may be redeemed in
ID_TOKEN_LIFETIME = 300.0
PAGE_LIFETIME = 600.0  # seconds the sign-in page may be left open before its form is refused
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
MISBEHAVIOURS = {
    "foreign-signature": "sign the next ID token with a key that is not in the JWKS",
    "wrong-nonce": "put a nonce the client never sent in the next ID token",
    "expired-id-token": "issue the next ID token already expired",
}
_JSON = "application/json"


def signing_key(path: Path) -> ECKey:
    """The provider's ID token key: made on first use, then read back, so tokens verify across restarts."""
    if not path.exists():
        key = ECKey.generate_key("P-256")
        path.touch(mode=0o600)
        path.write_bytes(key.as_pem(private=True))
    return ECKey.import_key(path.read_bytes())


@dataclass
class _Pending:
    """An authorize request waiting for the sign-in page's form."""

    redirect_uri: str
    state: str
    nonce: str
    code_challenge: str
    expires_at: float


@dataclass
class _SignIn:
    """One user's session with the provider: what a code, its tokens and end session refer to."""

    user: SandboxUser
    nonce: str
    sid: str = field(default_factory=lambda: secrets.token_urlsafe(16))  # the ID token's "sid"
    ended: bool = False
    access_tokens: set[str] = field(default_factory=set)


@dataclass
class _Code:
    sign_in: _SignIn
    redirect_uri: str
    code_challenge: str
    expires_at: float
    used: bool = False


@dataclass
class _Access:
    sign_in: _SignIn
    expires_at: float


class Cis2Service:
    """Thread-safe: the identity listener serves each request on its own thread. Set :attr:`issuer` to the
    listener's address and :data:`PATH` before the first request."""

    def __init__(
        self,
        key: ECKey,
        users: Mapping[str, SandboxUser] = BY_ID,
        *,
        token_lifetime: float = DEFAULT_TOKEN_LIFETIME,
        code_lifetime: float = DEFAULT_CODE_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = ""
        self._key = key
        self._kid = key.thumbprint()
        self._users = users
        self._token_lifetime = token_lifetime
        self._code_lifetime = code_lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Access] = {}
        self._sign_ins: dict[str, _SignIn] = {}  # by sid, while they hold tokens
        self._misbehaviour: str | None = None

    def register(self, router: Router) -> None:
        router.add("GET", f"{PATH}/.well-known/openid-configuration", self.discovery)
        router.add("GET", f"{PATH}/authorize", self.authorize_page)
        router.add("POST", f"{PATH}/authorize", self.authorize_form)
        router.add("POST", f"{PATH}/access_token", self.token)
        router.add("GET", f"{PATH}/userinfo", self.userinfo)
        router.add("GET", f"{PATH}/jwks", self.jwks)
        router.add("GET", f"{PATH}/connect/endSession", self.end_session)
        router.add("POST", f"{PATH}/connect/endSession", self.end_session)

    # --- for tests and trainers ------------------------------------------------------------------------------

    def misbehave(self, kind: str) -> None:
        """Make the next ID token wrong in one way (see :data:`MISBEHAVIOURS`)."""
        if kind not in MISBEHAVIOURS:
            raise ValueError(f"unknown misbehaviour {kind!r}; known: {', '.join(MISBEHAVIOURS)}")
        with self._lock:
            self._misbehaviour = kind

    def live_sign_ins(self, user_id: str) -> int:
        """How many of this user's sign-ins still hold an unexpired access token."""
        now = self._clock()
        with self._lock:
            live = {
                id(a.sign_in) for a in self._access.values() if a.sign_in.user.user_id == user_id and now < a.expires_at
            }
        return len(live)

    # --- endpoints -------------------------------------------------------------------------------------------

    def discovery(self, _request: Request) -> Response:
        base = self.issuer
        return _json(
            200,
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/access_token",
                "userinfo_endpoint": f"{base}/userinfo",
                "jwks_uri": f"{base}/jwks",
                "end_session_endpoint": f"{base}/connect/endSession",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [ALGORITHM],
                "scopes_supported": list(SCOPES),
                "acr_values_supported": [ACR],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none"],
                "claims_supported": [
                    "sub",
                    "name",
                    "given_name",
                    "family_name",
                    "title",
                    "nhsid_useruid",
                    "nhsid_nrbac_roles",
                    "nhsid_user_orgs",
                    "acr",
                    "amr",
                    "auth_time",
                ],
            },
        )

    def authorize_page(self, request: Request) -> Response:
        query = _single(request.query)
        if query is None:
            return _page(400, "Sign-in refused", "A parameter was given more than once.")
        if query.get("client_id") != CLIENT_ID:
            return _page(400, "Sign-in refused", f"Unknown client. The sandbox's client id is {CLIENT_ID}.")
        redirect_uri = query.get("redirect_uri", "")
        if not _loopback(redirect_uri):
            # Never redirect to an address that is not this computer's: show the refusal instead.
            return _page(
                400,
                "Sign-in refused",
                "The redirect URI must be http://127.0.0.1:<port>/… or "
                "http://localhost:<port>/… (a native app's loopback address).",
            )
        state = query.get("state", "")
        problem = _authorize_problem(query)
        if problem is not None:
            return _redirect(redirect_uri, {"error": problem[0], "error_description": problem[1], "state": state})
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            self._forget_stale()
            self._pending[ticket] = _Pending(
                redirect_uri, state, query["nonce"], query["code_challenge"], self._clock() + PAGE_LIFETIME
            )
        return _sign_in_page(ticket, self._users.values())

    def authorize_form(self, request: Request) -> Response:
        form = _single(parse_qs(request.body.decode("utf-8", "replace")))
        if form is None:
            return _page(400, "Sign-in refused", "A form field was given more than once.")
        with self._lock:
            pending = self._pending.pop(form.get("request", ""), None)
        if pending is None or self._clock() >= pending.expires_at:
            return _page(
                400,
                "Sign-in expired",
                "This sign-in page has expired or was already used. Go back to consent-desktop and sign in again.",
            )
        if "cancel" in form:
            return _redirect(pending.redirect_uri, {"error": "access_denied", "state": pending.state})
        user = self._users.get(form.get("user", ""))
        if user is None:
            return _page(400, "Sign-in refused", "Unknown user.")
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = _Code(
                _SignIn(user, pending.nonce),
                pending.redirect_uri,
                pending.code_challenge,
                self._clock() + self._code_lifetime,
            )
        return _redirect(pending.redirect_uri, {"code": code, "state": pending.state})

    def token(self, request: Request) -> Response:
        if request.header("Content-Type").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request", "send application/x-www-form-urlencoded")
        form = _single(parse_qs(request.body.decode("utf-8", "replace")))
        if form is None:
            return _oauth_error(400, "invalid_request", "a parameter was given more than once")
        if form.get("grant_type") != "authorization_code":
            return _oauth_error(400, "unsupported_grant_type", "only authorization_code is supported")
        if form.get("client_id") != CLIENT_ID:
            return _oauth_error(401, "invalid_client", "unknown client")
        with self._lock:
            found = self._codes.get(form.get("code", ""))
            if found is None:
                return _oauth_error(400, "invalid_grant", "the code was not issued here")
            if found.used:
                self._end(found.sign_in)  # RFC 6749 §4.1.2: a replayed code revokes what it gave
                return _oauth_error(400, "invalid_grant", "the code has already been used")
            found.used = True
        if self._clock() >= found.expires_at:
            return _oauth_error(400, "invalid_grant", "the code has expired")
        if form.get("redirect_uri") != found.redirect_uri:
            return _oauth_error(400, "invalid_grant", "redirect_uri differs from the authorize request's")
        if not secrets.compare_digest(_s256(form.get("code_verifier", "")), found.code_challenge):
            return _oauth_error(400, "invalid_grant", "code_verifier does not match the code_challenge")
        access_token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._access[access_token] = _Access(found.sign_in, now + self._token_lifetime)
            self._sign_ins[found.sign_in.sid] = found.sign_in
            found.sign_in.access_tokens.add(access_token)
            misbehaviour, self._misbehaviour = self._misbehaviour, None
        id_token = self._id_token(found.sign_in, access_token, now, misbehaviour)
        return _json(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": int(self._token_lifetime),
                "id_token": id_token,
                "scope": " ".join(SCOPES),
            },
        )

    def userinfo(self, request: Request) -> Response:
        scheme, _, value = request.header("Authorization").partition(" ")
        with self._lock:
            access = self._access.get(value.strip()) if scheme.lower() == "bearer" else None
        if access is None or access.sign_in.ended or self._clock() >= access.expires_at:
            response = _oauth_error(401, "invalid_token", "the access token is not valid")
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        return _json(200, _user_claims(access.sign_in.user))

    def jwks(self, _request: Request) -> Response:
        public = self._key.as_dict(private=False)
        return _json(200, {"keys": [{**public, "kid": self._kid, "use": "sig", "alg": ALGORITHM}]})

    def end_session(self, request: Request) -> Response:
        """Ends the sign-in the ID token names (its expiry does not matter: a hint may be old). GET or a form
        POST, as RP-Initiated Logout allows."""
        hint = _single(parse_qs(request.body.decode("utf-8", "replace")) if request.method == "POST" else request.query)
        try:
            claims = jwt.decode((hint or {}).get("id_token_hint", ""), self._key, algorithms=[ALGORITHM]).claims
        except (JoseError, ValueError):
            return _page(400, "Sign-out refused", "The sign-out request did not name a sign-in made here.")
        with self._lock:
            sign_in = self._sign_ins.pop(str(claims.get("sid", "")), None)
            if sign_in is not None:
                self._end(sign_in)
        return _page(200, "Signed out", "You are signed out of the sandbox's CIS2. You can close this window.")

    # --- internals -------------------------------------------------------------------------------------------

    def _id_token(self, sign_in: _SignIn, access_token: str, now: float, misbehaviour: str | None) -> str:
        issued = now - 7200 if misbehaviour == "expired-id-token" else now
        claims = {
            "iss": self.issuer,
            "sub": sign_in.user.user_id,
            "aud": CLIENT_ID,
            "azp": CLIENT_ID,
            "iat": int(issued),
            "exp": int(issued + ID_TOKEN_LIFETIME),
            "auth_time": int(issued),
            "nonce": "not-the-nonce-you-sent" if misbehaviour == "wrong-nonce" else sign_in.nonce,
            "sid": sign_in.sid,
            "acr": ACR,
            "amr": ["SANDBOX_SOFTWARE_CARD"],
            "at_hash": _half_hash(access_token),
        }
        key = ECKey.generate_key("P-256") if misbehaviour == "foreign-signature" else self._key
        return jwt.encode({"alg": ALGORITHM, "kid": self._kid, "typ": "JWT"}, claims, key)

    def _end(self, sign_in: _SignIn) -> None:
        """Call with the lock held."""
        sign_in.ended = True
        self._sign_ins.pop(sign_in.sid, None)
        for token in sign_in.access_tokens:
            self._access.pop(token, None)

    def _forget_stale(self) -> None:
        """Call with the lock held."""
        now = self._clock()
        for ticket in [t for t, p in self._pending.items() if now >= p.expires_at]:
            del self._pending[ticket]
        grace = self._code_lifetime  # a late replay is still recognised as one for a while
        for code in [c for c, f in self._codes.items() if now >= f.expires_at + grace]:
            del self._codes[code]
        for token in [t for t, a in self._access.items() if now >= a.expires_at]:
            del self._access[token]
        live = {id(a.sign_in) for a in self._access.values()}
        for sid in [sid for sid, s in self._sign_ins.items() if id(s) not in live]:
            del self._sign_ins[sid]


def _authorize_problem(query: Mapping[str, str]) -> tuple[str, str] | None:
    if query.get("response_type") != "code":
        return "unsupported_response_type", "only the authorization code flow is supported"
    if "openid" not in query.get("scope", "").split():
        return "invalid_scope", "the openid scope is required"
    if not query.get("code_challenge"):
        return "invalid_request", "PKCE is required: send code_challenge"
    if query.get("code_challenge_method") != "S256":
        return "invalid_request", "only the S256 code_challenge_method is accepted"
    if not query.get("nonce"):
        return "invalid_request", "a nonce is required"
    return None


def _loopback(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    host = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    return parts.scheme == "http" and host in LOOPBACK_HOSTS and not parts.fragment and "@" not in parts.netloc


def _user_claims(user: SandboxUser) -> dict[str, object]:
    title, _, rest = user.name.partition(" ") if user.name.startswith("Dr ") else ("", "", user.name)
    given, _, family = rest.rpartition(" ")
    organisations = {role.org_code: role.org_name for role in user.roles}
    return {
        "sub": user.user_id,
        "nhsid_useruid": user.user_id,
        "uid": user.user_id,
        "name": " ".join(part for part in (family, given, title) if part),  # CIS2 lists the family name first
        "given_name": given,
        "family_name": family,
        **({"title": title} if title else {}),
        "nhsid_nrbac_roles": [_role_claims(user, role) for role in user.roles],
        "nhsid_user_orgs": [{"org_code": code, "org_name": name} for code, name in organisations.items()],
    }


def _role_claims(user: SandboxUser, role: RoleProfile) -> dict[str, object]:
    return {
        "person_roleid": role.role_profile_id,
        "person_orgid": user.user_id,
        "org_code": role.org_code,
        "role_code": role.job_role_code,
        "role_name": f'"Sandbox":"Sandbox":"{role.job_role_name}"',
        "activity_codes": sorted(role.activities),
    }


def _s256(verifier: str) -> str:
    return urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest()).rstrip(b"=").decode()


def _half_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def _single(query: Mapping[str, list[str]]) -> dict[str, str] | None:
    if any(len(values) != 1 for values in query.values()):
        return None
    return {name: values[0] for name, values in query.items()}


def _json(status: int, body: Mapping[str, object]) -> Response:
    return Response(status, json.dumps(body).encode(), _JSON, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def _oauth_error(status: int, error: str, description: str) -> Response:
    return _json(status, {"error": error, "error_description": description})


def _redirect(uri: str, params: Mapping[str, str]) -> Response:
    separator = "&" if urlsplit(uri).query else "?"
    location = f"{uri}{separator}{urlencode({k: v for k, v in params.items() if v})}"
    return Response(302, b"", "text/plain", {"Location": location, "Cache-Control": "no-store"})


def _page(status: int, title: str, text: str, body_html: str = "") -> Response:
    document = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(text)}</p>{body_html}</body></html>"
    )
    return Response(status, document.encode(), "text/html; charset=utf-8", {"Cache-Control": "no-store"})


def _sign_in_page(ticket: str, users: Iterable[SandboxUser]) -> Response:
    buttons = "".join(
        f"<li><button type='submit' name='user' value='{html.escape(user.user_id)}'>"
        f"{html.escape(user.name)} ({html.escape(user.user_id)}): "
        f"{html.escape('; '.join(role.label for role in user.roles))}</button></li>"
        for user in users
    )
    form = (
        f"<form method='post' action='{PATH}/authorize'>"
        f"<input type='hidden' name='request' value='{html.escape(ticket)}'>"
        f"<ul>{buttons}</ul><button type='submit' name='cancel' value='1'>Cancel</button></form>"
    )
    return _page(
        200,
        "Sandbox CIS2 sign-in",
        "Choose who to sign in as. This is a training sandbox: no password or smartcard is asked for here.",
        form,
    )

"""The sandbox's stand-in for NHS CIS2 Authentication (OpenID Connect), on the identity listener (no client
certificate: a browser talks to it).

Built from the public profile (``../shared/docs/identity-protocols.md`` §2): an AM-shaped realm path with
``/authorize``, ``/access_token``, ``/userinfo``, ``/connect/jwk_uri`` and ``/connect/endSession``; RS256 ID tokens
with a ``kid`` and key rotation; the claims of NHS's own CIS2 fixtures (``amr`` ``N3_SMARTCARD``,
``id_assurance_level`` and ``authentication_assurance_level``, AM's ``auditTrackingId``, ``realm``, ``tokenName``,
``at_hash``/``c_hash``/``s_hash``, ``selected_roleid``); userinfo with CIS2's claim names and shapes (roles with
two-part names or without activity codes, organisation memberships). What :class:`Cis2Profile` sets makes it as
strict or as varied as CIS2 may be: the token endpoint's client authentication, exact redirect-URI matching
against a registered port, AAL claims as numbers or text, and a role preselected at card insertion (the HSCN
Identity Agent). End session is GET with query parameters only, answering 204 (Ping AM).

Codes and tokens live in memory only: a restart ends every sign-in, as an outage of the real service would.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from consent_desktop.domain.identity import RoleProfile
from consent_desktop.sandbox.http import Request, Response, Router
from consent_desktop.sandbox.users import BY_ID, ROLE_NAMES, SandboxUser

PATH = "/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"  # CIS2's realm path (§2.1)
CLIENT_ID = "consent-desktop-sandbox"
KEY_FILE = "cis2-signing-rsa.key"  # the provider's current ID token key, in the data folder's pki/
CLIENT_KEY_FILE = "cis2-client.key"  # the app's private_key_jwt key; its public half is registered here
ALGORITHM = "RS256"
CLIENT_ASSERTION_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_AUTH_METHODS = ("none", "client_secret_post", "private_key_jwt")
ACR = "AAL3_ANY"
AMR = ("N3_SMARTCARD",)
REALM = "/NHSIdentity/Healthcare"
# Which claims each scope releases (§2.2).
SCOPE_CLAIMS = {
    "profile": ("name", "family_name", "given_name", "uid"),
    "nhsperson": ("nhsid_useruid", "title", "idassurancelevel", "display_name"),
    "associatedorgs": ("nhsid_user_orgs",),
    "nationalrbacaccess": ("nhsid_nrbac_roles",),
    "organisationalmemberships": ("nhsid_org_memberships", "nhsid_org_roles"),
}
SCOPES = ("openid", *SCOPE_CLAIMS, "selectedrole", "changedrole")
DEFAULT_TOKEN_LIFETIME = 3599.0  # seconds: expires_in as in NHS's fixtures
DEFAULT_CODE_LIFETIME = 60.0
ID_TOKEN_LIFETIME = 300.0
ASSERTION_MAX_LIFETIME = 600.0  # a client assertion may not claim to last longer than this
PAGE_LIFETIME = 600.0  # seconds the sign-in page may be left open before its form is refused
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
MISBEHAVIOURS = {
    "foreign-signature": "sign the next ID token with a key that is not in the JWKS",
    "wrong-nonce": "put a nonce the client never sent in the next ID token",
    "expired-id-token": "issue the next ID token already expired",
    "aal2": "the next sign-in is at AAL2 (acr AAL2_ANY, authentication_assurance_level 2)",
    "no-acr": "leave acr out of the next ID token",
    "stale-auth-time": "the next ID token's auth_time is an hour old",
    "foreign-role": "the next ID token's selected_roleid is a role the user does not hold",
}
_JSON = "application/json"


@dataclass
class Cis2Profile:
    """How this provider is set up; tests change it to meet each of CIS2's possible behaviours."""

    client_auth: str = "none"  # one of CLIENT_AUTH_METHODS: what the token endpoint demands
    client_secret: str = field(default="", repr=False)  # for client_secret_post
    client_key: RSAKey | None = None  # the registered public key, for private_key_jwt
    registered_redirect_uri: str | None = None  # None: any loopback port (RFC 8252 §7.3); else exactly this
    assurance_as_text: bool = False  # AAL claims as "3" (the EPS mock) instead of 3 (NHS's identity-service tests)
    preselected_roles: dict[str, str] = field(default_factory=dict)  # user id -> role chosen at card insertion


def signing_key(path: Path) -> RSAKey:
    """The provider's ID token key: made on first use, then read back, so tokens verify across restarts."""
    if not path.exists():
        rotate_key_file(path)
    return RSAKey.import_key(path.read_bytes())


def public_key(path: Path) -> RSAKey:
    """The public half of the key in ``path`` (made there first if there is none): what a client registers."""
    return RSAKey.import_key(signing_key(path).as_dict(private=False))


def rotate_key_file(path: Path) -> RSAKey:
    key = RSAKey.generate_key(2048)
    path.touch(mode=0o600)
    path.write_bytes(key.as_pem(private=True))
    return key


@dataclass
class _Pending:
    """An authorize request waiting for the sign-in page's form (and, if asked, the role page's)."""

    redirect_uri: str
    state: str
    nonce: str
    code_challenge: str
    scopes: frozenset[str]
    expires_at: float
    user: SandboxUser | None = None  # once the sign-in page's form named one


@dataclass
class _SignIn:
    """One user's session with the provider: what a code, its tokens and end session refer to."""

    user: SandboxUser
    nonce: str
    state: str
    scopes: frozenset[str]
    selected_role: str | None
    sid: str = field(default_factory=lambda: secrets.token_urlsafe(16))  # the ID token's "sid"
    auth_time: float = 0.0
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
        key: RSAKey,
        users: Mapping[str, SandboxUser] = BY_ID,
        *,
        profile: Cis2Profile | None = None,
        token_lifetime: float = DEFAULT_TOKEN_LIFETIME,
        code_lifetime: float = DEFAULT_CODE_LIFETIME,
        clock: Callable[[], float] = time.time,
        key_file: Path | None = None,
    ) -> None:
        self.issuer = ""
        self.profile = profile or Cis2Profile()
        self._keys = [key]  # current first; older ones stay published until the next rotation
        self._key_file = key_file
        self._users = users
        self._token_lifetime = token_lifetime
        self._code_lifetime = code_lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Access] = {}
        self._sign_ins: dict[str, _SignIn] = {}  # by sid, while they hold tokens
        self._chosen: dict[str, str] = {}  # user id -> role chosen in their live provider session
        self._assertions_seen: set[str] = set()  # client assertion jti values, each usable once
        self._misbehaviour: str | None = None

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/access_token"

    def register(self, router: Router) -> None:
        router.add("GET", f"{PATH}/.well-known/openid-configuration", self.discovery)
        router.add("GET", f"{PATH}/authorize", self.authorize_page)
        router.add("POST", f"{PATH}/authorize", self.authorize_form)
        router.add("POST", f"{PATH}/access_token", self.token)
        router.add("GET", f"{PATH}/userinfo", self.userinfo)
        router.add("GET", f"{PATH}/connect/jwk_uri", self.jwks)
        router.add("GET", f"{PATH}/connect/endSession", self.end_session)
        router.add("POST", f"{PATH}/connect/endSession", _method_not_allowed)

    # --- for tests and trainers ------------------------------------------------------------------------------

    def misbehave(self, kind: str) -> None:
        """Make the next ID token different in one way (see :data:`MISBEHAVIOURS`)."""
        if kind not in MISBEHAVIOURS:
            raise ValueError(f"unknown misbehaviour {kind!r}; known: {', '.join(MISBEHAVIOURS)}")
        with self._lock:
            self._misbehaviour = kind

    def rotate_signing_key(self) -> str:
        """A new ID token key (and kid); the previous one stays in the JWKS, as a provider rotating keys does."""
        key = rotate_key_file(self._key_file) if self._key_file else RSAKey.generate_key(2048)
        with self._lock:
            self._keys = [key, self._keys[0]]
        return key.thumbprint()

    def revoke(self, user_id: str) -> None:
        """End every sign-in of this user at the provider, as a back-channel logout would tell an RP."""
        with self._lock:
            for sign_in in [s for s in self._sign_ins.values() if s.user.user_id == user_id]:
                self._end(sign_in)

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
                "token_endpoint": self.token_endpoint,
                "userinfo_endpoint": f"{base}/userinfo",
                "jwks_uri": f"{base}/connect/jwk_uri",
                "end_session_endpoint": f"{base}/connect/endSession",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [ALGORITHM, "RS512"],
                "scopes_supported": list(SCOPES),
                "acr_values_supported": ["AAL3_ANY", "AAL2_OR_AAL3_ANY", "AAL2_ANY"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [self.profile.client_auth],
                "token_endpoint_auth_signing_alg_values_supported": list(CLIENT_ASSERTION_ALGORITHMS),
                "claims_supported": [
                    "sub",
                    "acr",
                    "amr",
                    "auth_time",
                    "selected_roleid",
                    "id_assurance_level",
                    "authentication_assurance_level",
                    *(claim for claims in SCOPE_CLAIMS.values() for claim in claims),
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
        registered = self.profile.registered_redirect_uri
        if registered is not None and redirect_uri != registered:
            # Never redirect to an address that was not registered: show the refusal instead.
            return _page(400, "Sign-in refused", "The redirect URI is not the one registered for this client.")
        if not _loopback(redirect_uri):
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
                redirect_uri,
                state,
                query["nonce"],
                query["code_challenge"],
                frozenset(query.get("scope", "").split()),
                self._clock() + PAGE_LIFETIME,
            )
        return _sign_in_page(ticket, self._users.values())

    def authorize_form(self, request: Request) -> Response:
        """The sign-in page's form (who signs in), then, when CIS2 would ask, the role page's (which role)."""
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
        if pending.user is None:
            user = self._users.get(form.get("user", ""))
            if user is None:
                return _page(400, "Sign-in refused", "Unknown user.")
            pending.user = user
        role = form.get("role")
        if role is None:
            role = self._role_without_asking(pending)
            if role is None:  # CIS2 lists the roles (with a search field for more than five) and the user picks
                ticket = secrets.token_urlsafe(16)
                with self._lock:
                    self._pending[ticket] = pending
                return _role_page(ticket, pending.user)
        elif role not in {r.role_profile_id for r in pending.user.roles}:
            return _page(400, "Sign-in refused", "That role is not one of yours.")
        user = pending.user
        selected = role or None
        if selected is not None:
            with self._lock:
                self._chosen[user.user_id] = selected
        code = secrets.token_urlsafe(32)
        sign_in = _SignIn(user, pending.nonce, pending.state, pending.scopes, selected, auth_time=self._clock())
        with self._lock:
            self._codes[code] = _Code(
                sign_in, pending.redirect_uri, pending.code_challenge, self._clock() + self._code_lifetime
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
        refused = self._client_refused(form)
        if refused is not None:
            return _oauth_error(401, "invalid_client", refused)
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
        id_token = self._id_token(found.sign_in, access_token, form.get("code", ""), now, misbehaviour)
        return _json(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": int(self._token_lifetime),
                "id_token": id_token,
                "scope": " ".join(sorted(found.sign_in.scopes)),
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
        claims = user_claims(access.sign_in.user)
        released = {claim for scope in access.sign_in.scopes for claim in SCOPE_CLAIMS.get(scope, ())}
        return _json(200, {name: value for name, value in claims.items() if name == "sub" or name in released})

    def jwks(self, _request: Request) -> Response:
        with self._lock:
            keys = list(self._keys)
        return _json(
            200,
            {
                "keys": [
                    {**k.as_dict(private=False), "kid": k.thumbprint(), "use": "sig", "alg": ALGORITHM} for k in keys
                ]
            },
        )

    def end_session(self, request: Request) -> Response:
        """Ends the sign-in the ID token names (its expiry does not matter: a hint may be old). Query parameters
        only, as AM documents; 204 when no post-logout redirect is asked for."""
        hint = _single(request.query)
        try:
            claims = jwt.decode((hint or {}).get("id_token_hint", ""), self._key_set(), algorithms=[ALGORITHM]).claims
        except (JoseError, ValueError):
            return _page(400, "Sign-out refused", "The sign-out request did not name a sign-in made here.")
        with self._lock:
            sign_in = self._sign_ins.pop(str(claims.get("sid", "")), None)
            if sign_in is not None:
                self._end(sign_in)
        return Response(204, b"", "text/plain", {"Cache-Control": "no-store"})

    # --- internals -------------------------------------------------------------------------------------------

    def _role_without_asking(self, pending: _Pending) -> str | None:
        """The role CIS2 settles without a page: '' for none asked for (or none held), else the role id; None
        when the user must choose (§2.6)."""
        user = pending.user
        assert user is not None
        preselected = self.profile.preselected_roles.get(user.user_id)
        if preselected is not None:  # the HSCN Identity Agent asked at card insertion; changing needs the card out
            return preselected
        if not user.roles or not pending.scopes & {"selectedrole", "changedrole"}:
            return ""
        if len(user.roles) == 1:
            return user.roles[0].role_profile_id
        with self._lock:
            chosen = self._chosen.get(user.user_id)
        if chosen is not None and "changedrole" not in pending.scopes:
            return chosen  # not asked again in the same provider session
        return None

    def _client_refused(self, form: Mapping[str, str]) -> str | None:
        """Why the token request's client authentication fails, or None."""
        method = self.profile.client_auth
        client_id = form.get("client_id")
        if method == "private_key_jwt":
            return self._assertion_refused(form)
        if client_id != CLIENT_ID:
            return "unknown client"
        if method == "client_secret_post":
            secret = form.get("client_secret", "")
            if not secret or not hmac.compare_digest(secret.encode(), self.profile.client_secret.encode()):
                return "client_secret missing or wrong"
        elif "client_secret" in form or "client_assertion" in form:
            return "this client is registered without credentials"
        return None

    def _assertion_refused(self, form: Mapping[str, str]) -> str | None:
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            return "client_assertion_type must be jwt-bearer"
        key = self.profile.client_key
        if key is None:
            return "no key is registered for this client"
        try:
            token = jwt.decode(form.get("client_assertion", ""), key, algorithms=list(CLIENT_ASSERTION_ALGORITHMS))
        except (JoseError, ValueError):
            return "client_assertion signature does not verify with the registered key"
        claims, now = token.claims, self._clock()
        if claims.get("iss") != CLIENT_ID or claims.get("sub") != CLIENT_ID:
            return "client_assertion iss and sub must be the client id"
        if form.get("client_id", CLIENT_ID) != CLIENT_ID:
            return "client_id differs from the assertion's"
        if claims.get("aud") != self.token_endpoint:  # CIS2 matches the token endpoint exactly, port and all
            return "client_assertion aud is not the token endpoint"
        expires = claims.get("exp")
        if not isinstance(expires, int) or not now < expires <= now + ASSERTION_MAX_LIFETIME:
            return "client_assertion exp missing, past, or too far ahead"
        jti = claims.get("jti")
        with self._lock:
            if not isinstance(jti, str) or not jti or jti in self._assertions_seen:
                return "client_assertion jti missing or already used"
            self._assertions_seen.add(jti)
        return None

    def _id_token(self, sign_in: _SignIn, access_token: str, code: str, now: float, misbehaviour: str | None) -> str:
        issued = now - 7200 if misbehaviour == "expired-id-token" else now
        auth_time = sign_in.auth_time - 3600 if misbehaviour == "stale-auth-time" else sign_in.auth_time
        level = 2 if misbehaviour == "aal2" else 3
        claims: dict[str, object] = {
            "at_hash": _half_hash(access_token),
            "sub": sign_in.user.user_id,
            "auditTrackingId": f"{uuid.uuid4()}-{secrets.randbelow(10**7)}",
            "amr": list(AMR),
            "iss": self.issuer,
            "tokenName": "id_token",
            "aud": CLIENT_ID,
            "c_hash": _half_hash(code),
            "acr": "AAL2_ANY" if misbehaviour == "aal2" else ACR,
            "id_assurance_level": 3,
            "authentication_assurance_level": level,
            "org.forgerock.openidconnect.ops": secrets.token_urlsafe(20),
            "s_hash": _half_hash(sign_in.state),
            "azp": CLIENT_ID,
            "auth_time": int(auth_time),
            "realm": REALM,
            "exp": int(issued + ID_TOKEN_LIFETIME),
            "tokenType": "JWTToken",
            "iat": int(issued),
            "nonce": "not-the-nonce-you-sent" if misbehaviour == "wrong-nonce" else sign_in.nonce,
            "sid": sign_in.sid,
        }
        if self.profile.assurance_as_text:
            claims["id_assurance_level"] = str(claims["id_assurance_level"])
            claims["authentication_assurance_level"] = str(level)
        if misbehaviour == "no-acr":
            del claims["acr"]
        if sign_in.selected_role is not None:
            claims["selected_roleid"] = sign_in.selected_role
        if misbehaviour == "foreign-role":
            claims["selected_roleid"] = "999999999999"
        with self._lock:
            key = self._keys[0]
        signer = RSAKey.generate_key(2048) if misbehaviour == "foreign-signature" else key
        return jwt.encode({"alg": ALGORITHM, "kid": key.thumbprint(), "typ": "JWT"}, claims, signer)

    def _key_set(self) -> KeySet:
        with self._lock:
            return KeySet(list(self._keys))

    def _end(self, sign_in: _SignIn) -> None:
        """Call with the lock held."""
        sign_in.ended = True
        self._sign_ins.pop(sign_in.sid, None)
        self._chosen.pop(sign_in.user.user_id, None)
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
    scopes = query.get("scope", "").split()
    if query.get("response_type") != "code":
        return "unsupported_response_type", "only the authorization code flow is supported"
    if "openid" not in scopes:
        return "invalid_scope", "the openid scope is required"
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        return "invalid_scope", f"unknown scope {unknown[0]}"
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


def user_claims(user: SandboxUser) -> dict[str, object]:
    """Every userinfo claim CIS2 could release about ``user``, in the shapes of NHS's own fixtures (§2.5)."""
    title, _, rest = user.name.partition(" ") if user.name.startswith("Dr ") else ("", "", user.name)
    given, _, family = rest.rpartition(" ")
    organisations = {role.org_code: role.org_name for role in user.roles}
    memberships = [
        {"person_orgid": _person_orgid(user, code), "org_name": name, "org_code": code}
        for code, name in organisations.items()
    ]
    return {
        "sub": user.user_id,
        "nhsid_useruid": user.user_id,
        "uid": user.user_id,
        "name": " ".join(part for part in (given, family) if part),
        "display_name": user.name,
        "given_name": given,
        "family_name": family,
        **({"title": title} if title else {}),
        "idassurancelevel": "3",
        "nhsid_nrbac_roles": [_role_claims(user, role) for role in user.roles],
        "nhsid_user_orgs": [{"org_name": name, "org_code": code} for code, name in organisations.items()],
        "nhsid_org_memberships": memberships,
        "nhsid_org_roles": memberships,
    }


def _person_orgid(user: SandboxUser, org_code: str) -> str:
    """A 12-digit id of the user's membership of an organisation (invented, stable)."""
    return f"5560{user.user_id[-4:]}{int(hashlib.sha256(org_code.encode()).hexdigest(), 16) % 10**4:04d}"


def _role_claims(user: SandboxUser, role: RoleProfile) -> dict[str, object]:
    claims: dict[str, object] = {
        "person_orgid": _person_orgid(user, role.org_code),
        "person_roleid": role.role_profile_id,
        "org_code": role.org_code,
        "role_name": ROLE_NAMES[role.role_profile_id],
        "role_code": role.job_role_code,
    }
    if role.activities:  # optional in CIS2: some roles come without (§2.5)
        claims["activity_codes"] = sorted(role.activities)
    return claims


def _s256(verifier: str) -> str:
    return urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest()).rstrip(b"=").decode()


def _half_hash(value: str) -> str:
    """OpenID Connect's at_hash / c_hash / s_hash for RS256."""
    digest = hashlib.sha256(value.encode("ascii", "replace")).digest()
    return urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def _single(query: Mapping[str, list[str]]) -> dict[str, str] | None:
    if any(len(values) != 1 for values in query.values()):
        return None
    return {name: values[0] for name, values in query.items()}


def _json(status: int, body: Mapping[str, object]) -> Response:
    return Response(status, json.dumps(body).encode(), _JSON, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def _oauth_error(status: int, error: str, description: str) -> Response:
    return _json(status, {"error": error, "error_description": description})


def _method_not_allowed(_request: Request) -> Response:
    return Response(405, b"use GET with query parameters", "text/plain", {"Allow": "GET"})


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


def _form(ticket: str, buttons: list[tuple[str, str, str]]) -> str:
    """A form posting back to authorize: hidden request ticket, one submit button per (name, value, label)."""
    items = "".join(
        f"<li><button type='submit' name='{html.escape(name)}' value='{html.escape(value)}'>{html.escape(label)}"
        "</button></li>"
        for name, value, label in buttons
    )
    return (
        f"<form method='post' action='{PATH}/authorize'>"
        f"<input type='hidden' name='request' value='{html.escape(ticket)}'>"
        f"<ul>{items}</ul><button type='submit' name='cancel' value='1'>Cancel</button></form>"
    )


def _sign_in_page(ticket: str, users: Iterable[SandboxUser]) -> Response:
    buttons = [
        ("user", user.user_id, f"{user.name} ({user.user_id}): {'; '.join(r.label for r in user.roles) or 'no roles'}")
        for user in users
    ]
    return _page(
        200,
        "Sandbox CIS2 sign-in",
        "Choose who to sign in as. This is a training sandbox: no password or smartcard is asked for here.",
        _form(ticket, buttons),
    )


def _role_page(ticket: str, user: SandboxUser) -> Response:
    search = "<input type='search' name='q' aria-label='Search your roles'>" if len(user.roles) > 5 else ""
    buttons = [("role", role.role_profile_id, role.label) for role in user.roles]
    return _page(
        200, "Select your role", f"{user.name}, choose the role you are working in.", search + _form(ticket, buttons)
    )

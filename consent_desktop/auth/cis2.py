"""NHS CIS2 Authentication (OpenID Connect) for a native app (RFC 8252): the provider's side of a sign-in.

The user signs in in the system browser with the Authorization Code flow and PKCE (S256); the answer comes back
to a one-shot loopback listener (:mod:`consent_desktop.auth.loopback`). The token request authenticates this app
as ``cis2.token_auth_method`` says (none, ``private_key_jwt`` or ``client_secret_post``). The ID token's signature
is checked against the provider's JWKS, then its issuer, audience, expiry, nonce and assurance as NHS apps check
it (``docs/cis2.md``); the role CIS2 selected (``selected_roleid``) is kept. The user's id and national RBAC role
profiles come from userinfo (CIS2's ``nhsid_useruid`` and ``nhsid_nrbac_roles`` claims). The flow that drives it
with the card and the session is :mod:`consent_desktop.auth.cis2_sign_in`.

Protocol details (authorization request, PKCE challenge, token request) and ID-token claim checks are authlib's;
signature verification is joserfc's. authlib's own HTTP client integration is not used: its httpx support is
being moved to another package, and this app bounds every answer's size and verifies TLS its own way.

Tokens, the client secret and the client key live in memory only. None of them, nor a code, is ever logged,
shown in a ``repr()`` or put in an error's details.
"""

from __future__ import annotations

import hmac
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7523 import private_key_jwt_sign
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet, RSAKey

from consent_desktop.auth.cis import json_object
from consent_desktop.auth.national_role import job_role_name
from consent_desktop.config import Cis2Settings, Settings
from consent_desktop.domain.errors import (
    ConfigError,
    SignInFailed,
)
from consent_desktop.domain.identity import RoleProfile
from consent_desktop.https_client import https_client
from consent_desktop.verified_tls import verified_context

REQUESTED_ACR = "AAL3_ANY"  # NHS requires AAL3 authenticators; CIS2's acr values for them start "AAL3_"
MIN_ASSURANCE = 3  # id_assurance_level and authentication_assurance_level, as NHS apps require (docs/cis2.md)
CLIENT_AUTH_METHODS = ("none", "private_key_jwt", "client_secret_post")
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_ASSERTION_LIFETIME = 180  # seconds, as NHS England's own CIS2 app signs them
MAX_ANSWER = 256 * 1024
METADATA_LIFETIME = 3600.0  # CIS2 says the discovery document may be cached for up to an hour
CLOCK_LEEWAY = 60  # seconds of clock difference tolerated on ID token times
# Asymmetric signatures only: a public client has no secret to check an HMAC with, and "none" is no signature.
SIGNATURE_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
_WHO = "the CIS2 sign-in service"
_WHO_FIRST = "The CIS2 sign-in service"  # str.capitalize() would lower-case "CIS2"
_AGAIN = "Try signing in again."
_IT = "If it keeps happening, ask your IT team."


@dataclass(frozen=True)
class ProviderMetadata:
    """What the discovery document says, checked."""

    issuer: str  # as the document spells it (CIS2 writes the default port: "…:443/…")
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    algorithms: tuple[str, ...]


@dataclass(frozen=True)
class AuthorizationRequest:
    """One sign-in attempt's secrets, kept until its answer arrives. Nothing of it appears in a ``repr``."""

    url: str = field(repr=False)
    redirect_uri: str
    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)


@dataclass(frozen=True)
class Cis2Tokens:
    """The tokens of a completed sign-in. Secret: ``repr`` and ``str`` leave them out."""

    access_token: str = field(repr=False)
    id_token: str = field(repr=False)
    subject: str  # the ID token's "sub"
    expires_in: float  # seconds from the token answer until the access token lapses
    selected_role: str | None = None  # "selected_roleid": the role CIS2 (or the Identity Agent) selected

    def __str__(self) -> str:
        return f"Cis2Tokens(subject={self.subject!r}, …)"


@dataclass(frozen=True)
class Cis2User:
    user_id: str  # nhsid_useruid: the SDS user id, as on the smartcard
    user_name: str
    roles: tuple[RoleProfile, ...]


@dataclass(frozen=True)
class ClientCredentials:
    """How this app authenticates at the token endpoint. Secret: ``repr`` leaves the secret and key out."""

    method: str = "none"  # one of CLIENT_AUTH_METHODS
    secret: str = field(default="", repr=False)  # client_secret_post
    key: RSAKey | None = field(default=None, repr=False)  # private_key_jwt
    key_id: str = ""

    @classmethod
    def from_settings(cls, settings: Cis2Settings) -> ClientCredentials:
        """Reads the key or secret file the settings name; a missing or unusable one is a settings error that
        names the setting, never the content."""
        method = settings.token_auth_method
        if method not in CLIENT_AUTH_METHODS:
            raise ConfigError("settings", "cis2.token_auth_method", f"must be one of {', '.join(CLIENT_AUTH_METHODS)}")
        if method == "private_key_jwt":
            pem = _read_secret_file(settings.private_key, "cis2.private_key", "a PEM private key")
            try:
                key = RSAKey.import_key(pem)
            except (JoseError, ValueError, TypeError):
                raise ConfigError("settings", "cis2.private_key", "is not an RSA private key in PEM") from None
            if not key.is_private:
                raise ConfigError("settings", "cis2.private_key", "holds a public key, not the private key")
            return cls(method, key=key, key_id=settings.private_key_id or key.thumbprint())
        if method == "client_secret_post":
            secret = _read_secret_file(settings.client_secret_file, "cis2.client_secret_file", "the client secret")
            return cls(method, secret=secret.decode("utf-8", "replace").strip())
        return cls()

    def token_fields(self, client_id: str, token_endpoint: str) -> dict[str, str]:
        """The client authentication of one token request (RFC 6749 §2.3.1, RFC 7523 §2.2)."""
        if self.method == "client_secret_post":
            return {"client_id": client_id, "client_secret": self.secret}
        if self.method == "private_key_jwt":
            assert self.key is not None
            # The audience is the token endpoint exactly as discovery spells it: CIS2 matches it, ":443" and all.
            assertion = private_key_jwt_sign(
                self.key,
                client_id,
                token_endpoint,
                alg="RS256",
                header={"kid": self.key_id, "typ": "JWT"},
                expires_in=CLIENT_ASSERTION_LIFETIME,
            )
            return {
                "client_id": client_id,
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": str(assertion),
            }
        return {"client_id": client_id}


def _read_secret_file(path: Path | None, key: str, what: str) -> bytes:
    if path is None:
        raise ConfigError("settings", key, f"is needed for {what} but is not set")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), key, f"cannot be read ({exc.strerror})") from None
    if not content.strip():
        raise ConfigError(str(path), key, "is empty")
    return content


def same_issuer(a: str, b: str) -> bool:
    """Whether two issuer URLs name the same issuer once the scheme and host case, an explicit default port
    (``:443`` for https) and a trailing slash are set aside; the path must match exactly."""
    return _normal_issuer(a) == _normal_issuer(b)


def _normal_issuer(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    netloc = host if port in (None, 443) and parts.scheme.lower() == "https" else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), parts.query, ""))


class Cis2Client:
    """HTTPS to one CIS2 issuer. Thread-safe; every call blocks until the provider answers."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        ca_bundle: Path | None,
        *,
        scopes: tuple[str, ...] = Cis2Settings.scopes,
        credentials: ClientCredentials | None = None,
        max_auth_age: float = Cis2Settings.max_auth_age,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        deadline: float = 20.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not issuer:
            raise ConfigError("settings", "cis2.issuer", "no CIS2 issuer is configured")
        if not issuer.startswith("https://"):
            raise ConfigError("settings", "cis2.issuer", "the CIS2 issuer must start with https://")
        if not client_id:
            raise ConfigError("settings", "cis2.client_id", "no CIS2 client id is configured")
        if "openid" not in scopes:
            raise ConfigError("settings", "cis2.scopes", "must include openid")
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.scopes = scopes
        self._credentials = credentials or ClientCredentials()
        self._max_auth_age = max_auth_age
        self._clock = clock
        self._client = https_client(
            verified_context(ca_bundle, "cis2.ca_bundle", checking="the CIS2 service", system_trust=True),
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            deadline=deadline,
            transport=transport,
        )
        self._lock = threading.Lock()
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: KeySet | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Cis2Client:
        cis2 = settings.cis2
        return cls(
            cis2.issuer,
            cis2.client_id,
            cis2.ca_bundle,
            scopes=cis2.scopes,
            credentials=ClientCredentials.from_settings(cis2),
            max_auth_age=cis2.max_auth_age,
            connect_timeout=settings.spine.connect_timeout,
            read_timeout=settings.spine.read_timeout,
            deadline=settings.spine.read_deadline,
        )

    # --- the flow's steps ------------------------------------------------------------------------------------

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            if self._metadata is not None and self._clock() < self._metadata[0]:
                return self._metadata[1]
        found = _metadata(self._get(f"{self.issuer}/.well-known/openid-configuration", "discovery"), self.issuer)
        with self._lock:
            self._metadata = (self._clock() + METADATA_LIFETIME, found)
        return found

    def authorization_request(self, redirect_uri: str, *, change_role: bool = False) -> AuthorizationRequest:
        """A fresh state, nonce and PKCE verifier, and the authorize URL that carries them. ``change_role`` asks
        CIS2 to offer the role choice again (``changedrole`` in place of ``selectedrole``)."""
        endpoint = self.metadata().authorization_endpoint
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        scopes = [scope for scope in self.scopes if not (change_role and scope == "selectedrole")]
        if change_role:
            scopes.append("changedrole")
        url = prepare_grant_uri(
            endpoint,
            client_id=self.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=" ".join(scopes),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
            acr_values=REQUESTED_ACR,
            prompt="login",  # a shared workstation: never ride on whoever signed in in this browser before (and
            # CIS2 asks for it with selectedrole)
        )
        return AuthorizationRequest(str(url), redirect_uri, state, nonce, verifier)

    def redeem(self, request: AuthorizationRequest, answer: Mapping[str, str]) -> Cis2Tokens:
        """Exchange the browser's answer for tokens, and verify the ID token."""
        if not hmac.compare_digest(answer.get("state", "").encode(), request.state.encode()):
            raise SignInFailed(
                f"The browser returned a sign-in answer this app did not ask for, so you were not signed in. {_AGAIN}",
                "CIS2 redirect refused: state is not the one sent",
                retryable=True,
            )
        if "error" in answer:
            raise _provider_refused(answer["error"])
        code = answer.get("code", "")
        if not code:
            raise _unreadable("redirect without a code")
        metadata = self.metadata()
        body = prepare_token_request(
            "authorization_code",
            code=code,
            redirect_uri=request.redirect_uri,
            code_verifier=request.code_verifier,
            **self._credentials.token_fields(self.client_id, metadata.token_endpoint),
        )
        status, document = self._request(
            "POST",
            metadata.token_endpoint,
            "token",
            content=str(body).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 200 or document is None:
            raise _token_refused(status, document)
        access_token = _text(document, "access_token")
        id_token = _text(document, "id_token")
        if str(document.get("token_type", "")).lower() != "bearer":
            raise _unreadable("token_type is not Bearer")
        expires_in = document.get("expires_in")
        if not isinstance(expires_in, int | float) or isinstance(expires_in, bool) or expires_in <= 0:
            raise _unreadable("expires_in is not a positive number")
        claims = self._verified_claims(id_token, access_token, request.nonce, metadata)
        selected = claims.get("selected_roleid")
        if selected is not None and (not isinstance(selected, str) or not selected):
            raise _unreadable("selected_roleid is not text")
        return Cis2Tokens(access_token, id_token, str(claims["sub"]), float(expires_in), selected)

    def user(self, tokens: Cis2Tokens) -> Cis2User:
        """Who signed in, and their role profiles, from userinfo."""
        status, document = self._request(
            "GET",
            self.metadata().userinfo_endpoint,
            "userinfo",
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
        if status != 200 or document is None:
            raise SignInFailed(
                f"{_WHO_FIRST} would not say who signed in. {_AGAIN} {_IT}",
                f"CIS2 userinfo: HTTP {status}",
                retryable=True,
            )
        if document.get("sub") != tokens.subject:  # OpenID Connect Core §5.3.2
            raise _unreadable("userinfo is about a different subject from the ID token")
        user = _user(document)
        if user.user_id != tokens.subject:  # the SDS user id is the subject (NHS England's CIS2 app checks it too)
            raise _unreadable("nhsid_useruid differs from the ID token's subject")
        return user

    def end_session(self, tokens: Cis2Tokens) -> None:
        """Tell the provider the sign-in is over (its end-session endpoint, the ID token as the hint), where it
        has one. Called by the app itself, not through the browser, so no window pops up at sign-out. A GET with
        query parameters, the one form AM documents; the request line carries the ID token, so it goes over
        verified TLS straight to the provider and this app never logs a request line."""
        endpoint = self.metadata().end_session_endpoint
        if endpoint is None:
            return
        separator = "&" if urlsplit(endpoint).query else "?"
        query = urlencode({"id_token_hint": tokens.id_token, "client_id": self.client_id})
        status, _ = self._request("GET", f"{endpoint}{separator}{query}", "end session", json_answer=False)
        if status >= 400:
            raise SignInFailed(
                f"{_WHO_FIRST} could not end your session.", f"CIS2 end session: HTTP {status}", retryable=True
            )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Cis2Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals -------------------------------------------------------------------------------------------

    def _verified_claims(
        self, id_token: str, access_token: str, nonce: str, metadata: ProviderMetadata
    ) -> dict[str, Any]:
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(metadata, refresh=False), algorithms=metadata.algorithms)
            except InvalidKeyIdError:  # the provider may have rotated its keys since they were fetched
                decoded = jwt.decode(id_token, self._key_set(metadata, refresh=True), algorithms=metadata.algorithms)
            now = self._clock()
            options = {
                "iss": {"essential": True, "validate": lambda _claims, value: same_issuer(str(value), metadata.issuer)},
                "aud": {"essential": True, "value": self.client_id},
                "sub": {"essential": True},
                # A missing acr is read as AAL3_ANY, as NHS England's EPS does; the assurance levels below carry
                # the check either way.
                "acr": {"essential": False, "validate": lambda _claims, value: str(value).startswith("AAL3_")},
                "id_assurance_level": {"essential": True, "validate": _at_least(MIN_ASSURANCE)},
                "authentication_assurance_level": {"essential": True, "validate": _at_least(MIN_ASSURANCE)},
                "auth_time": {
                    "essential": True,
                    "validate": lambda _claims, value: _recent(value, now, self._max_auth_age),
                },
            }
            params = {"nonce": nonce, "client_id": self.client_id, "access_token": access_token}
            claims = CodeIDToken(decoded.claims, decoded.header, options, params)
            claims.validate(now=int(now), leeway=CLOCK_LEEWAY)
        except ExpiredTokenError:
            raise SignInFailed(
                "The sign-in answer had already expired when it arrived, so you were not signed in. Check this "
                f"computer's date and time, then try again. {_IT}",
                "CIS2 ID token refused: expired",
                retryable=True,
            ) from None
        except JoseError as exc:
            claim = getattr(exc, "claim", "")
            if claim in ("acr", "id_assurance_level", "authentication_assurance_level"):
                raise SignInFailed(
                    "CIS2 says you signed in in a way that is not strong enough for this app. Sign in again with "
                    "your NHS smartcard or another high-assurance (AAL3) method.",
                    f"CIS2 ID token refused: {exc.error} ({claim})",
                    retryable=True,
                ) from None
            if claim == "auth_time":
                raise SignInFailed(
                    "The sign-in answer was for an earlier sign-in, so you were not signed in. Check this "
                    f"computer's date and time, then try again. {_IT}",
                    f"CIS2 ID token refused: {exc.error} (auth_time)",
                    retryable=True,
                ) from None
            raise SignInFailed(
                f"{_WHO_FIRST}'s answer could not be verified, so you were not signed in. {_AGAIN} {_IT}",
                f"CIS2 ID token refused: {exc.error}{f' ({claim})' if claim else ''}",
                retryable=True,
            ) from None
        return dict(claims)

    def _key_set(self, metadata: ProviderMetadata, *, refresh: bool) -> KeySet:
        with self._lock:
            if self._keys is not None and not refresh:
                return self._keys
        document = self._get(metadata.jwks_uri, "JWKS")
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise _unreadable(f"JWKS not usable ({type(exc).__name__})") from None
        with self._lock:
            self._keys = keys
        return keys

    def _get(self, url: str, what: str) -> dict[str, object]:
        status, document = self._request("GET", url, what)
        if status != 200 or document is None:
            raise SignInFailed(
                f"{_WHO_FIRST} is not working properly. Try again in a moment; {_IT.lower()}",
                f"CIS2 {what}: HTTP {status}{'' if document is not None else ', not a JSON object'}",
                retryable=True,
            )
        return document

    def _request(
        self, method: str, url: str, what: str, *, json_answer: bool = True, **kwargs: Any
    ) -> tuple[int, dict[str, object] | None]:
        headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
        try:
            with self._client.stream(method, url, headers=headers, **kwargs) as response:
                received = bytearray()
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) > MAX_ANSWER:
                        raise _unreadable(f"{what} answer over {MAX_ANSWER} bytes")
                status = response.status_code
        except httpx.ConnectError as exc:
            raise _connect_failure(exc, what) from None
        except httpx.TimeoutException as exc:
            raise SignInFailed(
                f"{_WHO_FIRST} did not answer in time. Try again in a moment.",
                f"CIS2 {what}: {type(exc).__name__}",
                retryable=True,
            ) from None
        except httpx.HTTPError as exc:
            raise SignInFailed(
                f"The connection to {_WHO} was lost. Try again in a moment.",
                f"CIS2 {what}: {type(exc).__name__}",
                retryable=True,
            ) from None
        return status, json_object(bytes(received)) if json_answer else None


# --- answers -------------------------------------------------------------------------------------------------


def _at_least(minimum: int) -> Callable[[object, object], bool]:
    """An assurance level claim, a number or its text (NHS's fixtures have both), of at least ``minimum``."""

    def check(_claims: object, value: object) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        return isinstance(value, int) and value >= minimum

    return check


def _recent(value: object, now: float, max_age: float) -> bool:
    """auth_time no older than ``max_age`` and not in the future, within the clock leeway."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return now - max_age - CLOCK_LEEWAY <= value <= now + CLOCK_LEEWAY


def _metadata(document: Mapping[str, object], issuer: str) -> ProviderMetadata:
    published = document.get("issuer")
    # OpenID Connect Discovery §4.3 wants the configured issuer; CIS2 publishes its discovery URL without ":443"
    # but writes the issuer with it, so the default port is set aside when comparing (docs/cis2.md).
    if not isinstance(published, str) or not same_issuer(published, issuer):
        raise SignInFailed(
            f"{_WHO_FIRST} is not the one this app is set up for, so you were not signed in. Ask your IT team.",
            "CIS2 discovery document names a different issuer from cis2.issuer",
        )

    def endpoint(name: str) -> str:
        value = _text(document, name)
        if not value.startswith("https://"):
            raise _unreadable(f"discovery: {name} is not an https URL")
        return value

    end_session = document.get("end_session_endpoint")
    offered = document.get("id_token_signing_alg_values_supported")
    usable = tuple(a for a in SIGNATURE_ALGORITHMS if isinstance(offered, list) and a in offered)
    if not usable:
        raise _unreadable("discovery: no asymmetric ID token signature algorithm offered")
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise _unreadable("discovery: PKCE S256 not supported")
    return ProviderMetadata(
        issuer=published,
        authorization_endpoint=endpoint("authorization_endpoint"),
        token_endpoint=endpoint("token_endpoint"),
        userinfo_endpoint=endpoint("userinfo_endpoint"),
        jwks_uri=endpoint("jwks_uri"),
        end_session_endpoint=endpoint("end_session_endpoint") if end_session is not None else None,
        algorithms=usable,
    )


def _user(document: Mapping[str, object]) -> Cis2User:
    user_id = _text(document, "nhsid_useruid")
    organisations: dict[str, str] = {}
    for org in _objects(document.get("nhsid_user_orgs", [])):
        code, name = org.get("org_code"), org.get("org_name")
        if isinstance(code, str) and isinstance(name, str):
            organisations[code] = name
    roles = []
    for item in _objects(document.get("nhsid_nrbac_roles", [])):
        org_code = _text(item, "org_code")
        activities = item.get("activity_codes", [])
        if not isinstance(activities, list) or not all(isinstance(code, str) for code in activities):
            raise _unreadable("activity_codes is not a list of text")
        roles.append(
            RoleProfile(
                role_profile_id=_text(item, "person_roleid"),
                org_code=org_code,
                org_name=organisations.get(org_code, org_code),
                job_role_code=_text(item, "role_code"),
                job_role_name=job_role_name(_text(item, "role_name")),
                activities=frozenset(activities),
            )
        )
    return Cis2User(user_id, _display_name(document), tuple(roles))


def _display_name(document: Mapping[str, object]) -> str:
    parts = [document.get(name) for name in ("title", "given_name", "family_name")]
    words = [part for part in parts if isinstance(part, str) and part]
    if len(words) >= 2:
        return " ".join(words)
    name = document.get("name")
    return name if isinstance(name, str) else ""


def _objects(value: object) -> list[dict[str, object]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _unreadable("a userinfo list is not a list of objects")
    return value


def _text(document: Mapping[str, object], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise _unreadable(f"{name} is missing or not text")
    return value


def _provider_refused(error: str) -> SignInFailed:
    if error == "access_denied":
        return SignInFailed("Sign-in was cancelled in the browser.", "CIS2 authorize: access_denied", retryable=True)
    return SignInFailed(
        f"{_WHO_FIRST} refused to sign you in. {_AGAIN} {_IT}",
        f"CIS2 authorize refused: {error[:60]}",
        retryable=True,
    )


def _token_refused(status: int, document: Mapping[str, object] | None) -> SignInFailed:
    error = document.get("error") if document is not None else None
    if error == "invalid_grant":
        return SignInFailed(
            f"This sign-in could not be completed: its one-time code had already been used or had expired. {_AGAIN}",
            f"CIS2 token: HTTP {status} invalid_grant",
            retryable=True,
        )
    return SignInFailed(
        f"{_WHO_FIRST} refused to complete the sign-in. {_AGAIN} {_IT}",
        f"CIS2 token: HTTP {status} {error if isinstance(error, str) else 'without an error code'}"[:120],
        retryable=True,
    )


def _unreadable(details: str) -> SignInFailed:
    return SignInFailed(
        f"{_WHO_FIRST} gave an answer this app could not understand. {_AGAIN} {_IT}",
        f"CIS2 answer not understood: {details}",
        retryable=True,
    )


def _connect_failure(exc: httpx.ConnectError, what: str) -> SignInFailed:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return SignInFailed(
                f"The connection to {_WHO} was stopped because its certificate could not be trusted. Ask your IT team.",
                f"CIS2 {what}: server certificate verification failed: {cause.verify_message}",
            )
        if isinstance(cause, ssl.SSLError):
            return SignInFailed(
                f"A secure connection to {_WHO} could not be set up. Ask your IT team.",
                f"CIS2 {what}: TLS handshake failed: {cause.reason or type(cause).__name__}",
            )
        cause = cause.__cause__ or cause.__context__
    return SignInFailed(
        f"{_WHO_FIRST} could not be reached. Check the network connection and try again.",
        f"CIS2 {what}: connect failed",
        retryable=True,
    )

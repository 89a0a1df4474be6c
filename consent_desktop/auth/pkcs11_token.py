"""The smartcard through its middleware's PKCS#11 library (python-pkcs11).

python-pkcs11 calls ``C_Initialize(NULL)``: the module gets no locking callbacks, so nothing makes concurrent calls
safe. Every PKCS#11 call therefore runs on one worker thread that each token owns, and only one token in the process
may own a given module at a time (``C_Initialize`` and ``C_Finalize`` are process-wide).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import pkcs11
from cryptography import x509
from pkcs11 import Attribute, Mechanism, ObjectClass, TokenFlag
from pkcs11 import exceptions as p11
from pkcs11.types import Session, SignMixin, Token

from consent_desktop.auth.card import CardIdentity, PinState
from consent_desktop.auth.card_certificate import card_identity, load_card_cas
from consent_desktop.config import Settings
from consent_desktop.domain.errors import (
    CardError,
    CardRemoved,
    CertificateInvalid,
    ConfigError,
    MiddlewareError,
    NoCard,
    NotAnNhsCard,
    PinFormatInvalid,
    PinIncorrect,
    PinLocked,
    SessionNotActive,
    SeveralCards,
)

if TYPE_CHECKING:
    from pkcs11 import _pkcs11

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# What a module raises when the card has left the reader, or took its sessions with it.
_CARD_GONE = (p11.TokenNotPresent, p11.DeviceRemoved, p11.SessionHandleInvalid, p11.SessionClosed)

# Well-formed UTF-8 (RFC 3629, as the W3C's table spells it): checked on the bytes, because decoding would make the
# very str copy of the PIN that _PinInPlace avoids.
_UTF8 = re.compile(
    rb"(?:[\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})*"
)

_claims_lock = threading.Lock()
_claimed: set[str] = set()


@contextmanager
def module_claim(module_path: str) -> Iterator[None]:
    """Hold a PKCS#11 module exclusively in this process while the block runs."""
    key = os.path.realpath(module_path)
    with _claims_lock:
        if key in _claimed:
            raise MiddlewareError(f"PKCS#11 module {module_path} is already in use in this process")
        _claimed.add(key)
    try:
        yield
    finally:
        with _claims_lock:
            _claimed.discard(key)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Pkcs11CardToken:
    """:class:`~consent_desktop.auth.card.CardToken` over a PKCS#11 module. Public methods block the caller until
    the worker thread has the card's answer; they raise only the card errors of :mod:`~consent_desktop.domain.errors`.
    """

    def __init__(
        self,
        module_path: str | Path,
        trusted_cas: Sequence[x509.Certificate],
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._module_path = str(module_path)
        self._trusted_cas = tuple(trusted_cas)
        self._clock = clock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pkcs11-card")
        self._closed = False
        # Touched on the worker thread only.
        self._lib: _pkcs11.lib | None = None
        self._claim = ExitStack()
        self._session: Session | None = None
        self._key: SignMixin | None = None  # the private key, able to sign

    def __enter__(self) -> Pkcs11CardToken:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # --- CardToken -------------------------------------------------------------------------------------------

    def pin_state(self, token_label: str | None = None) -> PinState:
        return self._call(self._read_pin_state, token_label)

    def login(self, pin: bytearray, token_label: str | None = None) -> CardIdentity:
        try:
            return self._call(self._login, pin, token_label)
        finally:
            pin[:] = bytes(len(pin))

    def read_identity(self, token_label: str | None = None) -> CardIdentity:
        return self._call(self._read_identity, token_label)

    def sign(self, data: bytes) -> bytes:
        return self._call(self._sign, data)

    def logout(self) -> None:
        self._call(self._end_session)

    def close(self) -> None:
        if self._closed:
            return
        try:
            self._call(self._shut_down)
        finally:
            self._closed = True
            self._executor.shutdown(wait=True)

    # --- on the worker thread --------------------------------------------------------------------------------

    def _call(self, work: Callable[..., _T], *args: Any) -> _T:
        try:
            future = self._executor.submit(work, *args)
        except RuntimeError as exc:  # the executor has been shut down
            raise MiddlewareError("smartcard token used after close()") from exc
        return future.result()

    def _library(self) -> _pkcs11.lib:
        if self._lib is not None:
            return self._lib
        if not Path(self._module_path).is_file():
            raise MiddlewareError(f"PKCS#11 module not found: {self._module_path}")
        self._claim.enter_context(module_claim(self._module_path))
        try:
            self._lib = pkcs11.lib(self._module_path)
        except p11.PKCS11Error as exc:
            self._claim.close()
            raise MiddlewareError(f"PKCS#11 module {self._module_path} could not be loaded: {_describe(exc)}") from exc
        return self._lib

    def _read_pin_state(self, token_label: str | None) -> PinState:
        with _card_errors():
            return _pin_state(self._find_token(token_label))

    def _login(self, pin: bytearray, token_label: str | None) -> CardIdentity:
        self._end_session()  # a new login replaces any earlier one
        with _card_errors():
            token = self._find_token(token_label)
            if _pin_state(token) is PinState.LOCKED:
                raise PinLocked()  # never offer a locked card another attempt
            if not pin:
                raise PinFormatInvalid()  # an empty passcode would cost a real attempt on some cards
            if not _UTF8.fullmatch(pin):
                raise PinFormatInvalid()  # PKCS#11 PINs are UTF-8; anything else would cost an attempt for nothing
            try:
                session = token.open(user_pin=_PinInPlace(pin))
            except p11.PKCS11Error as exc:
                # Token.open leaves the session it opened behind when C_Login fails; re-initialising the module
                # closes it (no other session of ours is open at this point).
                self._library().reinitialize()
                if isinstance(exc, p11.PinIncorrect):
                    after = _pin_state(self._find_token(token.label))
                    if after is PinState.LOCKED:
                        raise PinLocked() from exc
                    raise PinIncorrect(final_try=after is PinState.FINAL_TRY) from exc
                raise
            try:
                identity, key = self._identity_and_key(session)
            except BaseException:
                session.close()
                raise
            self._session, self._key = session, key
            log.debug("smartcard login succeeded")
            return identity

    def _read_identity(self, token_label: str | None) -> CardIdentity:
        """The certificate as anyone may read it: private keys stay hidden until a login, so the first
        certificate that passes the checks is the card's."""
        with _card_errors():
            session = self._find_token(token_label).open()  # a public session: no PIN, no login
            try:
                refused: CardError | None = None
                for certificate in list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})):
                    try:
                        return card_identity(certificate[Attribute.VALUE], self._trusted_cas, now=self._clock())
                    except (NotAnNhsCard, CertificateInvalid) as exc:
                        refused = refused or exc
                raise refused or NotAnNhsCard("no certificate on the card")
            finally:
                session.close()

    def _identity_and_key(self, session: Session) -> tuple[CardIdentity, SignMixin]:
        """The first certificate that has its private key (same CKA_ID) on the card and passes the checks."""
        refused: CardError | None = None
        for certificate in list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})):
            same_id = {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: certificate[Attribute.ID]}
            keys = [key for key in session.get_objects(same_id) if isinstance(key, SignMixin)]
            if len(keys) != 1:
                continue
            try:
                return card_identity(certificate[Attribute.VALUE], self._trusted_cas, now=self._clock()), keys[0]
            except (NotAnNhsCard, CertificateInvalid) as exc:
                refused = refused or exc
        raise refused or NotAnNhsCard("no certificate with a matching private key on the card")

    def _sign(self, data: bytes) -> bytes:
        if self._key is None:
            raise SessionNotActive("Sign in with your smartcard first.")
        with _card_errors():
            try:
                return bytes(self._key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))
            except _CARD_GONE:
                self._session = self._key = None  # the card took the session with it
                raise

    def _end_session(self) -> None:
        session, self._session, self._key = self._session, None, None
        if session is None:
            return
        with _card_errors():
            try:
                session.close()  # C_Logout, then C_CloseSession
            except (*_CARD_GONE, p11.UserNotLoggedIn) as exc:
                log.debug("smartcard session already ended by the card (%s)", type(exc).__name__)

    def _shut_down(self) -> None:
        try:
            self._end_session()
        finally:
            lib, self._lib = self._lib, None
            with self._claim, _card_errors():
                if lib is not None:
                    lib.finalize()

    def _find_token(self, token_label: str | None) -> Token:
        lib = self._library()
        if token_label is not None:
            matches = list(lib.get_tokens(token_label=token_label))
            if not matches:
                raise NoCard(f"no PKCS#11 token labelled {token_label!r}")
            if len(matches) > 1:
                raise SeveralCards(f"{len(matches)} PKCS#11 tokens labelled {token_label!r}")
            return matches[0]
        holders = [t for t in lib.get_tokens(token_flags=TokenFlag.TOKEN_INITIALIZED) if _holds_certificate(t)]
        if not holders:
            raise NoCard("no PKCS#11 token holding a certificate")
        if len(holders) > 1:
            raise SeveralCards(f"{len(holders)} PKCS#11 tokens hold a certificate")
        return holders[0]


class _PinInPlace:
    """The PIN for ``Token.open`` without a copy. python-pkcs11 calls ``user_pin.encode("utf-8")`` and hands what
    it gets to C_Login as a ``CK_UTF8CHAR*``; a str would leave immutable copies that can never be zeroed, so this
    answers with the caller's own bytearray, which ``login`` zeroes afterwards. A deliberate reliance on
    python-pkcs11 0.10's ``Token.open`` (its stub types ``user_pin`` as ``object``); the SoftHSM2 tests sign in
    through it."""

    def __init__(self, pin: bytearray) -> None:
        self._pin = pin

    def encode(self, encoding: str = "utf-8") -> bytearray:
        return self._pin


def card_token_from_settings(settings: Settings) -> Pkcs11CardToken:
    """The card token the settings describe. In training mode, points SoftHSM2 at the software cards first."""
    auth = settings.auth
    if not auth.pkcs11_module:
        raise ConfigError("settings", "auth.pkcs11_module", "no smartcard middleware (PKCS#11 library) is configured")
    if auth.softhsm2_conf is not None:
        if not settings.app.training_mode:
            raise ConfigError("settings", "auth.softhsm2_conf", "is for the training-mode software card only")
        os.environ["SOFTHSM2_CONF"] = str(auth.softhsm2_conf)  # SoftHSM2 reads it when the module initialises
    return Pkcs11CardToken(auth.pkcs11_module, load_card_cas(auth.card_ca_bundle))


def _pin_state(token: Token) -> PinState:
    flags = token.flags
    if flags & TokenFlag.USER_PIN_LOCKED:
        return PinState.LOCKED
    if flags & TokenFlag.USER_PIN_FINAL_TRY:
        return PinState.FINAL_TRY
    if flags & TokenFlag.USER_PIN_COUNT_LOW:
        return PinState.COUNT_LOW
    return PinState.OK


def _holds_certificate(token: Token) -> bool:
    session = token.open()
    try:
        # Exhaust the search: an abandoned python-pkcs11 search ends itself later, on a closed session.
        return bool(list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})))
    finally:
        session.close()


def _describe(exc: p11.PKCS11Error) -> str:
    """The exception type, plus python-pkcs11's own text where it has one (load failures, unmapped codes)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def _card_errors() -> Iterator[None]:
    """PKCS#11 exceptions (which carry no message) as card errors, by type. Never includes a PIN."""
    try:
        yield
    except p11.PinLocked as exc:
        raise PinLocked() from exc
    except (p11.PinLenRange, p11.PinInvalid) as exc:
        raise PinFormatInvalid() from exc
    except _CARD_GONE as exc:
        raise CardRemoved(f"PKCS#11 {type(exc).__name__}") from exc
    except p11.NoSuchToken as exc:
        raise NoCard(f"PKCS#11 {type(exc).__name__}") from exc
    except p11.PKCS11Error as exc:
        raise MiddlewareError(f"PKCS#11 call failed: {_describe(exc)}") from exc

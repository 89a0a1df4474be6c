"""The smartcard as the rest of the app sees it: a token that logs in with a PIN, holds the user's
authentication certificate and signs challenges; and the events of a card entering or leaving a reader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol


class CardStatus(Enum):
    """The card as the sign-in and lock screens describe it."""

    NO_READER = "No smartcard reader found"
    NO_CARD = "Insert your smartcard"
    READY = "Smartcard ready"


class PinState(Enum):
    """What the token says about its user PIN before anyone types one (PKCS#11 token flags)."""

    OK = "ok"
    COUNT_LOW = "count low"  # at least one wrong attempt since the last good one
    FINAL_TRY = "final try"  # one more wrong PIN locks the card
    LOCKED = "locked"  # no attempt may be made


@dataclass(frozen=True)
class CardIdentity:
    """Read from the card's authentication certificate (after a PIN login, or without one to see whose card
    is in the reader)."""

    user_id: str  # the 12-digit SDS user id: the certificate's subject CN
    subject: str
    issuer: str
    not_after: datetime
    certificate_der: bytes


class CardToken(Protocol):
    """PKCS#11 access to the card. Implementations run every call on one dedicated thread; these methods block
    the caller (never the GUI thread) until the card answers."""

    def pin_state(self, token_label: str | None = None) -> PinState: ...

    def login(self, pin: bytearray, token_label: str | None = None) -> CardIdentity:
        """Log in and read the certificate. ``pin`` is overwritten with zeros before this returns, whatever
        happens. Raises the card errors of :mod:`consent_desktop.domain.errors`."""
        ...

    def read_identity(self, token_label: str | None = None) -> CardIdentity:
        """Read and check the card's certificate without logging in (no PIN): whose card is in the reader.
        Raises the card errors of :mod:`consent_desktop.domain.errors`."""
        ...

    def sign(self, data: bytes, digest: str = "sha256") -> bytes:
        """Sign with the authentication key of the logged-in card: RSA PKCS#1 v1.5 with ``digest``, "sha1" (the
        legacy Identity Agent's ``CKM_SHA1_RSA_PKCS``) or "sha256" (``CKM_SHA256_RSA_PKCS``)."""
        ...

    def logout(self) -> None: ...

    def close(self) -> None:
        """Log out, close every session and finalise the library."""
        ...


@dataclass(frozen=True)
class CardEvent:
    """Something PC/SC (or the training-mode software card) reported."""

    kind: str  # "inserted", "removed", "failed" (presence can no longer be known: treat as removed)
    reader: str = ""
    token_label: str | None = None  # known for software cards only; None for a real reader
    detail: str = ""


CardListener = Callable[[CardEvent], None]


class CardPresence(Protocol):
    """Reports cards entering and leaving readers. Listeners are called on the presence thread; they must only
    hand the event on (for example by emitting a queued Qt signal)."""

    def start(self, listener: CardListener) -> None: ...

    def stop(self) -> None: ...

    def card_present(self) -> bool:
        """A cheap, current check (no waiting), used before every sensitive action."""
        ...

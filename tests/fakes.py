"""Pure-Python stand-ins for the smartcard (no PC/SC, no SoftHSM): a card token with a real RSA key and a
certificate from a given CA, a PIN counter that locks like a card's, and card presence driven by the test."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from consent_desktop.auth.card import CardEvent, CardIdentity, CardListener, PinState
from consent_desktop.domain.errors import MiddlewareError, NoCard, NoReader, PinIncorrect, PinLocked
from consent_desktop.sandbox import pki
from consent_desktop.sandbox.users import TRAINING_PIN, SandboxUser


@dataclass
class FakeCard:
    issued: pki.Issued  # the authentication certificate and its key
    pin: bytes = TRAINING_PIN.encode()
    max_tries: int = 3
    failures: int = 0
    signing_key: rsa.RSAPrivateKey | None = None  # set to make a card whose key does not match its certificate

    @property
    def identity(self) -> CardIdentity:
        certificate = self.issued.certificate
        return CardIdentity(
            user_id=str(certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value),
            subject=certificate.subject.rfc4514_string(),
            issuer=certificate.issuer.rfc4514_string(),
            not_after=certificate.not_valid_after_utc,
            certificate_der=certificate.public_bytes(Encoding.DER),
        )


def card_for(ca: pki.Issued, user_id: str, *, validity: str = "valid") -> FakeCard:
    """A card issued by ``ca``; ``validity`` is "valid", "expired" or "not yet valid"."""
    now = datetime.now(UTC)
    not_before = {
        "valid": now - timedelta(minutes=5),
        "expired": now - timedelta(days=800),
        "not yet valid": now + timedelta(days=1),
    }[validity]
    return FakeCard(pki.card_certificate(ca, user_id, not_before=not_before))


def card_for_user(card_ca: pki.Issued, user: SandboxUser) -> FakeCard:
    """The card a sandbox user carries: "untrusted" cards come from a CA the sandbox has never seen."""
    if user.card == "untrusted":
        return card_for(pki.new_ca("Unknown SubCA"), user.user_id)
    return card_for(card_ca, user.user_id, validity="expired" if user.card == "expired" else "valid")


class FakeCardToken:
    """A :class:`~consent_desktop.auth.card.CardToken` over whichever :class:`FakeCard` is in the reader.

    Like an ISO 7816 card under OpenSC, the last wrong PIN answers "incorrect" and every attempt after it
    "locked". Counters let tests see what reached the card; the PIN itself is never kept.
    """

    def __init__(self, card: FakeCard | None = None, *, sign_delay: float = 0.0) -> None:
        self.card = card
        self.sign_delay = sign_delay
        self.logged_in = False
        self.login_attempts = 0
        self.signed: list[bytes] = []
        self.digests: list[str] = []  # the hash each signature was made with
        self.logouts = 0
        self.identity_reads = 0  # certificate reads without a PIN

    def insert(self, card: FakeCard) -> None:
        self.card = card
        self.logged_in = False

    def remove(self) -> None:
        self.card = None
        self.logged_in = False

    def _card(self) -> FakeCard:
        if self.card is None:
            raise NoCard()
        return self.card

    def pin_state(self, token_label: str | None = None) -> PinState:
        card = self._card()
        if card.failures >= card.max_tries:
            return PinState.LOCKED
        if card.failures == card.max_tries - 1:
            return PinState.FINAL_TRY
        return PinState.COUNT_LOW if card.failures else PinState.OK

    def login(self, pin: bytearray, token_label: str | None = None) -> CardIdentity:
        try:
            card = self._card()
            self.login_attempts += 1
            if card.failures >= card.max_tries:
                raise PinLocked()
            if bytes(pin) != card.pin:
                card.failures += 1
                raise PinIncorrect(final_try=card.failures == card.max_tries - 1)
            card.failures = 0
            self.logged_in = True
            return card.identity
        finally:
            pin[:] = bytes(len(pin))

    def read_identity(self, token_label: str | None = None) -> CardIdentity:
        self.identity_reads += 1
        return self._card().identity

    def sign(self, data: bytes, digest: str = "sha256") -> bytes:
        card = self._card()
        if not self.logged_in:
            raise MiddlewareError("sign requested without a logged-in session")
        if self.sign_delay:
            time.sleep(self.sign_delay)
        key = card.signing_key or card.issued.key
        assert isinstance(key, rsa.RSAPrivateKey)
        self.signed.append(data)
        self.digests.append(digest)
        return key.sign(data, padding.PKCS1v15(), {"sha1": hashes.SHA1(), "sha256": hashes.SHA256()}[digest])

    def logout(self) -> None:
        self.logged_in = False
        self.logouts += 1

    def close(self) -> None:
        self.logout()


class FakePresence:
    """A :class:`~consent_desktop.auth.card.CardPresence` whose events come from the test: ``fire`` one now, or
    ``next_event`` to play the next of a script given up front."""

    def __init__(self, script: Iterable[CardEvent] = (), *, present: bool = True) -> None:
        self.present = present
        self.broken = False  # card_present() raises, as when the PC/SC service has gone
        self._script = deque(script)
        self._listener: CardListener | None = None

    def start(self, listener: CardListener) -> None:
        self._listener = listener

    def stop(self) -> None:
        self._listener = None

    def card_present(self) -> bool:
        if self.broken:
            raise NoReader("PC/SC service unavailable")
        return self.present

    def fire(self, kind: str, reader: str = "Fake Reader 0") -> CardEvent:
        return self._deliver(CardEvent(kind, reader))

    def next_event(self) -> CardEvent:
        return self._deliver(self._script.popleft())

    def _deliver(self, event: CardEvent) -> CardEvent:
        if event.kind == "inserted":
            self.present = True
        elif event.kind in ("removed", "failed"):
            self.present = False
        if self._listener is not None:
            self._listener(event)
        return event

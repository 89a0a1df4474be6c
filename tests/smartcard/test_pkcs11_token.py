"""The PKCS#11 card token against SoftHSM2 software cards, and against SoftHSM2 behind the PIN-lock shim."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, ObjectClass

from consent_desktop.auth.card import PinState
from consent_desktop.auth.pkcs11_token import Pkcs11CardToken
from consent_desktop.domain.errors import (
    CertificateInvalid,
    MiddlewareError,
    NoCard,
    NotAnNhsCard,
    PinFormatInvalid,
    PinIncorrect,
    PinLocked,
    SessionNotActive,
    SeveralCards,
)
from consent_desktop.sandbox import pki
from consent_desktop.sandbox.datadir import SandboxData
from consent_desktop.sandbox.softcard import SoftCards, provision, store_credentials
from consent_desktop.sandbox.users import EXPIRED_CARD, GP, RECEPTIONIST, TRAINING_PIN, UNTRUSTED_CARD
from tests.required_packages import missing
from tests.smartcard.conftest import LockingCard

pytestmark = pytest.mark.smartcard

RIGHT = TRAINING_PIN.encode()
WRONG = b"000000"


@pytest.fixture
def token(soft_cards: SoftCards, trusted_cas: tuple[x509.Certificate, ...]) -> Iterator[Pkcs11CardToken]:
    with Pkcs11CardToken(soft_cards.module_path, trusted_cas) as card_token:
        yield card_token


@pytest.fixture
def shim_token(locking_card: LockingCard, trusted_cas: tuple[x509.Certificate, ...]) -> Iterator[Pkcs11CardToken]:
    with Pkcs11CardToken(locking_card.module, trusted_cas) as card_token:
        yield card_token


def test_login_reads_the_card_holder_and_signs_with_the_certificates_key(token: Pkcs11CardToken) -> None:
    pin = bytearray(RIGHT)

    identity = token.login(pin, RECEPTIONIST.token_label)
    signature = token.sign(b"challenge from CIS")

    assert pin == bytearray(len(RIGHT)), "the PIN must be overwritten"
    assert identity.user_id == RECEPTIONIST.user_id
    assert identity.subject == f"CN={RECEPTIONIST.user_id},OU=people,O=nhs"
    certificate = x509.load_der_x509_certificate(identity.certificate_der)
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(signature, b"challenge from CIS", padding.PKCS1v15(), hashes.SHA256())


def test_calls_run_on_the_tokens_own_thread_whoever_calls(token: Pkcs11CardToken) -> None:
    states: list[PinState] = []
    callers = [threading.Thread(target=lambda: states.append(token.pin_state(GP.token_label))) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    workers = {thread.name for thread in threading.enumerate() if thread.name.startswith("pkcs11-card")}

    assert states == [PinState.OK] * 4
    assert len(workers) == 1


def test_logout_ends_the_session(token: Pkcs11CardToken) -> None:
    token.login(bytearray(RIGHT), GP.token_label)
    token.logout()

    with pytest.raises(SessionNotActive):
        token.sign(b"data")


def test_a_token_is_found_by_label_or_as_the_only_card(token: Pkcs11CardToken) -> None:
    with pytest.raises(NoCard):
        token.pin_state("NHS-CARD-999999999999")
    with pytest.raises(SeveralCards) as several:  # the sandbox has a card for every user
        token.pin_state()
    assert "More than one smartcard" in several.value.user_message


@pytest.mark.hazard("HAZ-005")
def test_expired_certificate_is_refused(token: Pkcs11CardToken) -> None:
    with pytest.raises(CertificateInvalid) as refused:
        token.login(bytearray(RIGHT), EXPIRED_CARD.token_label)

    assert refused.value.user_message == (
        "Your smartcard's certificate has expired. Contact your Registration Authority."
    )
    with pytest.raises(SessionNotActive):  # no session is left behind
        token.sign(b"data")


@pytest.mark.hazard("HAZ-005")
def test_certificate_from_an_untrusted_ca_is_refused(token: Pkcs11CardToken) -> None:
    with pytest.raises(CertificateInvalid) as refused:
        token.login(bytearray(RIGHT), UNTRUSTED_CARD.token_label)

    assert "not issued by a trusted NHS authority" in refused.value.user_message


def test_validity_is_judged_by_the_injected_clock(
    soft_cards: SoftCards, trusted_cas: tuple[x509.Certificate, ...]
) -> None:
    three_years_on = datetime.now(UTC) + timedelta(days=3 * 365)
    with (
        Pkcs11CardToken(soft_cards.module_path, trusted_cas, clock=lambda: three_years_on) as later,
        pytest.raises(CertificateInvalid, match="expired"),
    ):
        later.login(bytearray(RIGHT), RECEPTIONIST.token_label)


def test_a_card_without_an_nhs_certificate_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = provision(tmp_path)  # a sandbox of its own, so the session's cards stay as they are
    ca = SandboxData(tmp_path).card_ca()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "nhs"),
            x509.NameAttribute(NameOID.COMMON_NAME, "www.example.org"),
        ]
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(other.conf_path))
    _replace_credentials(other, RECEPTIONIST.token_label, _rsa_certificate(ca, subject))

    with (
        Pkcs11CardToken(other.module_path, (ca.certificate,)) as card_token,
        pytest.raises(NotAnNhsCard) as refused,
    ):
        card_token.login(bytearray(RIGHT), RECEPTIONIST.token_label)
    assert refused.value.user_message == "This card is not an NHS smartcard."


def _rsa_certificate(ca: pki.Issued, subject: x509.Name) -> pki.Issued:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .sign(ca.key, hashes.SHA256())
    )
    return pki.Issued(certificate, key)


def _replace_credentials(cards: SoftCards, label: str, issued: pki.Issued) -> None:
    lib = pkcs11.lib(str(cards.module_path))
    try:
        with lib.get_token(token_label=label).open(rw=True, user_pin=TRAINING_PIN) as session:
            for kind in (ObjectClass.CERTIFICATE, ObjectClass.PRIVATE_KEY):
                for item in list(session.get_objects({Attribute.CLASS: kind})):
                    item.destroy()
            store_credentials(session, issued)
    finally:
        lib.finalize()


@pytest.mark.hazard("HAZ-012")
def test_missing_module_is_a_middleware_error(tmp_path: Path, trusted_cas: tuple[x509.Certificate, ...]) -> None:
    missing_module = tmp_path / "no-such-pkcs11.so"
    with Pkcs11CardToken(missing_module, trusted_cas) as card_token, pytest.raises(MiddlewareError) as missing:
        card_token.pin_state()
    assert "missing or not working" in missing.value.user_message
    assert "not found" in missing.value.details


@pytest.mark.hazard("HAZ-012")
@pytest.mark.parametrize("kind", ["not a library", "a library without PKCS#11"])
def test_broken_module_is_a_middleware_error(
    tmp_path: Path, trusted_cas: tuple[x509.Certificate, ...], kind: str
) -> None:
    broken = tmp_path / "broken-pkcs11.so"
    if kind == "not a library":
        broken.write_text("not a shared library")
    else:
        gcc = shutil.which("gcc") or missing("a C compiler, to build a library", ["gcc"])
        source = tmp_path / "nothing.c"
        source.write_text("int nothing(void) { return 0; }\n")
        subprocess.run([gcc, "-shared", "-fPIC", "-o", str(broken), str(source)], check=True)

    with Pkcs11CardToken(broken, trusted_cas) as card_token, pytest.raises(MiddlewareError) as refused:
        card_token.login(bytearray(RIGHT))

    assert "could not be loaded" in refused.value.details


def test_a_closed_token_refuses_work(token: Pkcs11CardToken) -> None:
    token.close()
    with pytest.raises(MiddlewareError):
        token.pin_state(GP.token_label)


# --- the PIN counter (SoftHSM2 behind the PIN-lock shim) -----------------------------------------------------


def test_two_wrong_pins_then_the_right_one_signs_in_and_resets_the_count(
    shim_token: Pkcs11CardToken, locking_card: LockingCard
) -> None:
    label = RECEPTIONIST.token_label
    with pytest.raises(PinIncorrect) as first:
        shim_token.login(bytearray(WRONG), label)
    assert not first.value.final_try
    assert shim_token.pin_state(label) is PinState.COUNT_LOW

    with pytest.raises(PinIncorrect) as second:
        shim_token.login(bytearray(WRONG), label)
    assert second.value.final_try
    assert second.value.user_message == "The passcode was not correct. One attempt left before your card is locked."
    assert shim_token.pin_state(label) is PinState.FINAL_TRY

    assert shim_token.login(bytearray(RIGHT), label).user_id == RECEPTIONIST.user_id
    assert locking_card.wrong_pins() == 0
    assert shim_token.pin_state(label) is PinState.OK


@pytest.mark.hazard("HAZ-005")
def test_three_wrong_pins_lock_the_card_and_no_fourth_pin_reaches_it(
    shim_token: Pkcs11CardToken, locking_card: LockingCard
) -> None:
    label = RECEPTIONIST.token_label
    for _ in range(2):
        with pytest.raises(PinIncorrect):
            shim_token.login(bytearray(WRONG), label)
    with pytest.raises(PinLocked):  # the third wrong PIN: the card now says it is locked
        shim_token.login(bytearray(WRONG), label)
    assert locking_card.login_calls() == 3
    assert shim_token.pin_state(label) is PinState.LOCKED

    pin = bytearray(RIGHT)
    with pytest.raises(PinLocked) as locked:
        shim_token.login(pin, label)

    assert locking_card.login_calls() == 3, "a locked card must never be offered a PIN"
    assert locking_card.wrong_pins() == 3
    assert pin == bytearray(len(RIGHT))
    assert "Registration Authority" in locked.value.user_message


def test_the_lock_outlives_the_process_holding_the_token(
    locking_card: LockingCard, trusted_cas: tuple[x509.Certificate, ...]
) -> None:
    locking_card.state.write_text("3\n")  # as another process (or computer) left it

    with Pkcs11CardToken(locking_card.module, trusted_cas) as fresh, pytest.raises(PinLocked):
        fresh.login(bytearray(RIGHT), RECEPTIONIST.token_label)
    assert locking_card.login_calls() == 0


@pytest.mark.parametrize("pin", [b"", b"12", b"123456789", "½½½½".encode("latin-1")])
def test_a_malformed_pin_is_refused_without_costing_an_attempt(
    shim_token: Pkcs11CardToken, locking_card: LockingCard, pin: bytes
) -> None:
    with pytest.raises(PinFormatInvalid):
        shim_token.login(bytearray(pin), RECEPTIONIST.token_label)

    assert locking_card.wrong_pins() == 0
    assert shim_token.pin_state(RECEPTIONIST.token_label) is PinState.OK

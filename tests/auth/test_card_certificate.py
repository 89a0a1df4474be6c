"""Reading and judging a smartcard's authentication certificate (pure: no card, an injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from consent_desktop.auth.card_certificate import card_identity, load_card_cas
from consent_desktop.domain.errors import CertificateInvalid, ConfigError, NotAnNhsCard
from consent_desktop.sandbox import pki

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
USER_ID = "555000000001"


@pytest.fixture(scope="module")
def ca() -> pki.Issued:
    return pki.new_ca("Sandbox SubCA")


@pytest.fixture(scope="module")
def card_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(
    issuer: pki.Issued,
    key: rsa.RSAPrivateKey,
    subject: list[tuple[x509.ObjectIdentifier, str]] | x509.Name,
    *,
    not_before: datetime = NOW - timedelta(days=30),
    days: int = 730,
) -> bytes:
    name = subject if isinstance(subject, x509.Name) else x509.Name([x509.NameAttribute(o, v) for o, v in subject])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .sign(issuer.key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.DER)


NHS = [(NameOID.ORGANIZATION_NAME, "nhs"), (NameOID.ORGANIZATIONAL_UNIT_NAME, "people"), (NameOID.COMMON_NAME, USER_ID)]


def test_an_nhs_card_certificate_gives_the_card_holder(ca: pki.Issued, card_key: rsa.RSAPrivateKey) -> None:
    der = _certificate(ca, card_key, NHS)

    identity = card_identity(der, [ca.certificate], now=NOW)

    assert identity.user_id == USER_ID
    assert identity.subject == f"CN={USER_ID},OU=people,O=nhs"
    assert identity.issuer == "CN=Sandbox SubCA,OU=CA,O=nhs"
    assert identity.not_after == NOW - timedelta(days=30) + timedelta(days=730)
    assert identity.certificate_der == der


def test_the_issuer_may_be_any_ca_in_the_bundle(ca: pki.Issued, card_key: rsa.RSAPrivateKey) -> None:
    others = [pki.new_ca("Sandbox SubCA 01").certificate, pki.new_ca("Sandbox SubCA 03").certificate]
    identity = card_identity(_certificate(ca, card_key, NHS), [*others, ca.certificate], now=NOW)
    assert identity.user_id == USER_ID


@pytest.mark.hazard("HAZ-005")
def test_a_look_alike_ca_with_the_same_name_is_not_trusted(ca: pki.Issued, card_key: rsa.RSAPrivateKey) -> None:
    look_alike = pki.new_ca("Sandbox SubCA")  # same subject, different key: only the signature differs
    der = _certificate(look_alike, card_key, NHS)

    with pytest.raises(CertificateInvalid) as refused:
        card_identity(der, [ca.certificate], now=NOW)

    assert refused.value.user_message == (
        "Your smartcard was not issued by a trusted NHS authority. Contact your Registration Authority."
    )
    assert "auth.card_ca_bundle" in refused.value.details


@pytest.mark.hazard("HAZ-005")
def test_an_expired_certificate_is_refused(ca: pki.Issued, card_key: rsa.RSAPrivateKey) -> None:
    der = _certificate(ca, card_key, NHS, not_before=NOW - timedelta(days=400), days=365)

    with pytest.raises(CertificateInvalid) as refused:
        card_identity(der, [ca.certificate], now=NOW)

    assert (
        refused.value.user_message == "Your smartcard's certificate has expired. Contact your Registration Authority."
    )


def test_validity_follows_the_clock_given(ca: pki.Issued, card_key: rsa.RSAPrivateKey) -> None:
    der = _certificate(ca, card_key, NHS, not_before=NOW, days=10)

    assert card_identity(der, [ca.certificate], now=NOW + timedelta(days=9)).user_id == USER_ID
    with pytest.raises(CertificateInvalid, match="expired"):
        card_identity(der, [ca.certificate], now=NOW + timedelta(days=11))
    with pytest.raises(CertificateInvalid, match="not valid yet"):
        card_identity(der, [ca.certificate], now=NOW - timedelta(seconds=1))


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param([(NameOID.ORGANIZATION_NAME, "nhs"), (NameOID.COMMON_NAME, USER_ID)], id="no OU"),
        pytest.param(
            [
                (NameOID.ORGANIZATION_NAME, "acme"),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "people"),
                (NameOID.COMMON_NAME, USER_ID),
            ],
            id="other organisation",
        ),
        pytest.param(
            [
                (NameOID.ORGANIZATION_NAME, "nhs"),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "CA"),
                (NameOID.COMMON_NAME, USER_ID),
            ],
            id="a CA, not a person",
        ),
        pytest.param(
            [
                (NameOID.ORGANIZATION_NAME, "nhs"),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "people"),
                (NameOID.COMMON_NAME, "55500000001"),
            ],
            id="11 digits",
        ),
        pytest.param(
            [
                (NameOID.ORGANIZATION_NAME, "nhs"),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "people"),
                (NameOID.COMMON_NAME, "Alex Morgan"),
            ],
            id="a name for CN",
        ),
        pytest.param(
            [
                (NameOID.COMMON_NAME, USER_ID),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "people"),
                (NameOID.ORGANIZATION_NAME, "nhs"),
            ],
            id="reversed order",
        ),
        pytest.param([*NHS, (NameOID.EMAIL_ADDRESS, "someone@example.org")], id="an extra attribute"),
        pytest.param(
            x509.Name(
                [
                    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "nhs")]),
                    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "people")]),
                    x509.RelativeDistinguishedName(
                        [
                            x509.NameAttribute(NameOID.COMMON_NAME, USER_ID),
                            x509.NameAttribute(NameOID.SURNAME, "Morgan"),
                        ]
                    ),
                ]
            ),
            id="multi-valued CN",
        ),
    ],
)
def test_a_certificate_without_the_nhs_subject_is_not_an_nhs_card(
    ca: pki.Issued, card_key: rsa.RSAPrivateKey, subject: list[tuple[x509.ObjectIdentifier, str]] | x509.Name
) -> None:
    with pytest.raises(NotAnNhsCard) as refused:
        card_identity(_certificate(ca, card_key, subject), [ca.certificate], now=NOW)
    assert refused.value.user_message == "This card is not an NHS smartcard."


def test_bytes_that_are_not_a_certificate_are_not_an_nhs_card(ca: pki.Issued) -> None:
    with pytest.raises(NotAnNhsCard):
        card_identity(b"\x30\x03\x02\x01\x00", [ca.certificate], now=NOW)


@pytest.mark.hazard("HAZ-005", "HAZ-012")
def test_without_trusted_cas_nothing_is_believed(ca: pki.Issued, card_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ConfigError) as refused:
        card_identity(_certificate(ca, card_key, NHS), [], now=NOW)
    assert refused.value.key == "auth.card_ca_bundle"


def test_the_bundle_may_hold_several_cas(tmp_path: Path) -> None:
    first, second = pki.new_ca("SubCA 01"), pki.new_ca("SubCA 02")
    bundle = tmp_path / "card-cas.pem"
    bundle.write_bytes(first.cert_pem() + second.cert_pem())

    assert load_card_cas(bundle) == (first.certificate, second.certificate)


@pytest.mark.hazard("HAZ-012")
def test_no_bundle_configured_names_the_setting() -> None:
    with pytest.raises(ConfigError) as refused:
        load_card_cas(None)
    assert refused.value.key == "auth.card_ca_bundle"
    assert "Ask your IT team" in refused.value.user_message


@pytest.mark.hazard("HAZ-012")
@pytest.mark.parametrize(
    ("content", "problem"), [(None, "cannot be read"), (b"not a certificate", "no readable PEM certificate")]
)
def test_an_unusable_bundle_names_the_file_and_setting(tmp_path: Path, content: bytes | None, problem: str) -> None:
    bundle = tmp_path / "card-cas.pem"
    if content is not None:
        bundle.write_bytes(content)

    with pytest.raises(ConfigError) as refused:
        load_card_cas(bundle)

    assert (refused.value.source, refused.value.key) == (str(bundle), "auth.card_ca_bundle")
    assert problem in refused.value.problem

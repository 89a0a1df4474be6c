"""Who a smartcard belongs to, read from its authentication certificate, and whether to believe it.

A card certificate is believed only if its subject has the NHS shape ``O=nhs, OU=people, CN=<12-digit user id>``,
it was signed by one of the configured card CAs (``auth.card_ca_bundle``) and it is within its validity period.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from consent_desktop.auth.card import CardIdentity
from consent_desktop.domain.errors import CertificateInvalid, ConfigError, NotAnNhsCard

BUNDLE_KEY = "auth.card_ca_bundle"
_USER_ID = re.compile(r"[0-9]{12}")
_NHS_SUBJECT = (NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.COMMON_NAME)
_ASK_RA = "Contact your Registration Authority."


def load_card_cas(bundle: Path | None) -> tuple[x509.Certificate, ...]:
    """The CA certificates trusted to issue smartcards, from the PEM bundle ``auth.card_ca_bundle`` names."""
    if bundle is None:
        raise ConfigError("settings", BUNDLE_KEY, "no bundle of trusted smartcard CA certificates is configured")
    try:
        pem = bundle.read_bytes()
    except OSError as exc:
        raise ConfigError(str(bundle), BUNDLE_KEY, f"cannot be read ({exc.strerror})") from exc
    try:
        return tuple(x509.load_pem_x509_certificates(pem))
    except ValueError as exc:
        raise ConfigError(str(bundle), BUNDLE_KEY, "holds no readable PEM certificate") from exc


def card_identity(certificate_der: bytes, trusted_cas: Sequence[x509.Certificate], *, now: datetime) -> CardIdentity:
    """The card's identity, or the card error that says why it cannot be used. ``now`` must be timezone-aware."""
    if not trusted_cas:
        raise ConfigError("settings", BUNDLE_KEY, "the bundle of trusted smartcard CA certificates is empty")
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
    except ValueError as exc:
        raise NotAnNhsCard("card certificate is not a readable X.509 certificate") from exc
    user_id = _nhs_user_id(certificate.subject)
    if not any(_issued_by(certificate, ca) for ca in trusted_cas):
        raise CertificateInvalid(
            f"Your smartcard was not issued by a trusted NHS authority. {_ASK_RA}",
            f"card certificate issuer {certificate.issuer.rfc4514_string()} is not in {BUNDLE_KEY} "
            "or its signature does not verify",
        )
    if now < certificate.not_valid_before_utc:
        raise CertificateInvalid(
            "Your smartcard's certificate is not valid yet. Check this computer's date and time; if they are "
            "right, contact your Registration Authority.",
            f"card certificate not valid before {certificate.not_valid_before_utc.isoformat()}",
        )
    if now > certificate.not_valid_after_utc:
        raise CertificateInvalid(
            f"Your smartcard's certificate has expired. {_ASK_RA}",
            f"card certificate expired {certificate.not_valid_after_utc.isoformat()}",
        )
    return CardIdentity(
        user_id=user_id,
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        not_after=certificate.not_valid_after_utc,
        certificate_der=certificate_der,
    )


def _nhs_user_id(subject: x509.Name) -> str:
    """The user id from a subject of exactly ``O=nhs, OU=people, CN=<12 digits>``, in that order."""
    attributes = list(subject.rdns)
    shape = [next(iter(rdn)).oid if len(rdn) == 1 else None for rdn in attributes]
    if tuple(shape) != _NHS_SUBJECT:
        raise NotAnNhsCard(f"card certificate subject {subject.rfc4514_string()!r} is not O=nhs, OU=people, CN=<id>")
    organisation, unit, common_name = (str(next(iter(rdn)).value) for rdn in attributes)
    if organisation.lower() != "nhs" or unit.lower() != "people" or not _USER_ID.fullmatch(common_name):
        raise NotAnNhsCard(f"card certificate subject {subject.rfc4514_string()!r} is not O=nhs, OU=people, CN=<id>")
    return common_name


def _issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):  # other issuer name, unsupported key type, bad signature
        return False
    return True

"""The sandbox's own certificate authorities and the certificates issued from them (``cryptography``).

Two CAs, as on the real network: a TLS CA for the Spine endpoint certificates (the sandbox server's and the
client's), and a smartcard CA that issues users' card certificates (subject ``O=nhs, OU=people, CN=<user id>``).
The sandbox trusts card certificates from its own smartcard CA only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: PrivateKey

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def write(self, cert_path: Path, key_path: Path | None = None) -> None:
        cert_path.write_bytes(self.cert_pem())
        if key_path is not None:
            key_path.touch(mode=0o600)
            key_path.write_bytes(self.key_pem())


def _name(*parts: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: object, not_before: datetime, days: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
    )


def new_ca(common_name: str, *, days: int = 3650) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(
        (NameOID.ORGANIZATION_NAME, "nhs"), (NameOID.ORGANIZATIONAL_UNIT_NAME, "CA"), (NameOID.COMMON_NAME, common_name)
    )
    now = datetime.now(UTC) - timedelta(minutes=5)
    certificate = (
        _builder(name, name, key.public_key(), now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate, key)


def _issue(
    ca: Issued,
    subject: x509.Name,
    key: PrivateKey,
    *,
    usage: x509.ObjectIdentifier,
    days: int,
    not_before: datetime | None = None,
    hosts: tuple[str, ...] = (),
) -> Issued:
    start = not_before or datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        _builder(subject, ca.certificate.subject, key.public_key(), start, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if hosts:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    signing_key: CertificateIssuerPrivateKeyTypes = ca.key
    return Issued(builder.sign(signing_key, hashes.SHA256()), key)


def server_certificate(ca: Issued, hosts: tuple[str, ...] = ("127.0.0.1", "localhost"), *, days: int = 825) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name((NameOID.ORGANIZATION_NAME, "nhs"), (NameOID.COMMON_NAME, hosts[0]))
    return _issue(ca, subject, key, usage=ExtendedKeyUsageOID.SERVER_AUTH, days=days, hosts=hosts)


def client_certificate(ca: Issued, common_name: str, *, days: int = 825, not_before: datetime | None = None) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name((NameOID.ORGANIZATION_NAME, "nhs"), (NameOID.COMMON_NAME, common_name))
    return _issue(ca, subject, key, usage=ExtendedKeyUsageOID.CLIENT_AUTH, days=days, not_before=not_before)


def card_certificate(ca: Issued, user_id: str, *, days: int = 730, not_before: datetime | None = None) -> Issued:
    """A smartcard authentication certificate: RSA, subject ``O=nhs, OU=people, CN=<12-digit user id>``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(
        (NameOID.ORGANIZATION_NAME, "nhs"), (NameOID.ORGANIZATIONAL_UNIT_NAME, "people"), (NameOID.COMMON_NAME, user_id)
    )
    return _issue(ca, subject, key, usage=ExtendedKeyUsageOID.CLIENT_AUTH, days=days, not_before=not_before)


def load(cert_path: Path, key_path: Path) -> Issued:
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError(f"unsupported key type in {key_path}")
    return Issued(certificate, key)

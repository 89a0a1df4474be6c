"""The card signs the legacy CIS challenge as the Identity Agent does (NHSbuntu-identity-agent ``card.py``): with the
private key that has CKA_DECRYPT set and the certificate of its CKA_ID, and CKM_SHA1_RSA_PKCS (SHA-256 a
variant). Against a SoftHSM2 token holding two key pairs for the same user."""

from __future__ import annotations

from pathlib import Path

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pkcs11 import Attribute, MechanismFlag, ObjectClass
from pkcs11.types import Session
from pkcs11.util.rsa import decode_rsa_private_key
from pkcs11.util.x509 import decode_x509_certificate

from consent_desktop.auth.pkcs11_token import Pkcs11CardToken
from consent_desktop.sandbox import pki
from consent_desktop.sandbox.datadir import SandboxData
from consent_desktop.sandbox.softcard import provision
from consent_desktop.sandbox.users import RECEPTIONIST, TRAINING_PIN
from tests.softhsm import require_softhsm

pytestmark = pytest.mark.smartcard
CHALLENGE = b"a challenge from authactivate"


def store_pair(session: Session, issued: pki.Issued, *, decrypt: bool) -> None:
    """A key pair under one CKA_ID; with ``decrypt`` the private key may also decrypt (CKA_DECRYPT)."""
    key = issued.key
    assert isinstance(key, rsa.RSAPrivateKey)
    key_id = x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    capabilities = MechanismFlag.SIGN | MechanismFlag.DECRYPT if decrypt else MechanismFlag.SIGN
    private = decode_rsa_private_key(der, capabilities=capabilities)
    private.update({Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True, Attribute.ID: key_id})
    session.create_object(private)
    certificate = decode_x509_certificate(issued.certificate.public_bytes(serialization.Encoding.DER))
    certificate.update({Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.ID: key_id})
    session.create_object(certificate)


@pytest.mark.parametrize("decrypting_first", [True, False])
@pytest.mark.hazard("HAZ-018")
def test_the_decrypting_key_signs_with_sha1_and_sha256_as_a_variant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, decrypting_first: bool
) -> None:
    require_softhsm()
    cards = provision(tmp_path)
    ca = SandboxData(tmp_path).card_ca()
    authentication = pki.card_certificate(ca, RECEPTIONIST.user_id)
    signing_only = pki.card_certificate(ca, RECEPTIONIST.user_id)
    monkeypatch.setenv("SOFTHSM2_CONF", str(cards.conf_path))
    lib = pkcs11.lib(str(cards.module_path))
    try:
        with lib.get_token(token_label=RECEPTIONIST.token_label).open(rw=True, user_pin=TRAINING_PIN) as session:
            for kind in (ObjectClass.CERTIFICATE, ObjectClass.PRIVATE_KEY):
                for item in list(session.get_objects({Attribute.CLASS: kind})):
                    item.destroy()
            pairs = [(authentication, True), (signing_only, False)]
            for issued, decrypt in pairs if decrypting_first else reversed(pairs):
                store_pair(session, issued, decrypt=decrypt)
    finally:
        lib.finalize()

    with Pkcs11CardToken(cards.module_path, (ca.certificate,)) as token:
        identity = token.login(bytearray(TRAINING_PIN.encode()), RECEPTIONIST.token_label)
        sha1 = token.sign(CHALLENGE, "sha1")
        sha256 = token.sign(CHALLENGE, "sha256")

    assert identity.certificate_der == authentication.certificate.public_bytes(serialization.Encoding.DER)
    public = authentication.certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(sha1, CHALLENGE, padding.PKCS1v15(), hashes.SHA1())  # CKM_SHA1_RSA_PKCS
    public.verify(sha256, CHALLENGE, padding.PKCS1v15(), hashes.SHA256())

"""The legacy CIS ``authvalidate`` response: the card's signature of the challenge as a CMS SignedData in S/MIME.

As the Identity Agent sends it (``../shared/docs/identity-protocols.md`` §1.5; NHSbuntu-identity-agent's
``cms.py``): SignedData version 1; one digest algorithm (SHA-1, or SHA-256 as a variant); the challenge bytes
attached as ``id-data``; the card certificate embedded; one SignerInfo with issuerAndSerialNumber, the digest
algorithm, ``rsaEncryption`` and **no signed attributes**, so the signature is the card's own PKCS#1 v1.5 signature
of the challenge. DER, then base64 under S/MIME headers (``application/x-pkcs7-mime``, ``smime.p7m``), then the
whole text base64 again for the ``response`` gpPARAM.

asn1crypto builds it: it takes a signature made elsewhere (on the card). cryptography's PKCS#7 builder cannot: it
signs with a private key it holds itself and adds signed attributes.
"""

from __future__ import annotations

import base64
from email.mime.application import MIMEApplication
from email.policy import SMTP

from asn1crypto import cms, x509

DIGESTS = ("sha1", "sha256")  # sha1: what the Identity Agent and its cards use; sha256: a documented variant


def signed_data(content: bytes, certificate_der: bytes, signature: bytes, digest: str) -> bytes:
    """DER of a CMS ContentInfo holding the SignedData described above."""
    if digest not in DIGESTS:
        raise ValueError(f"digest must be one of {DIGESTS}")
    certificate = x509.Certificate.load(certificate_der)
    algorithm = {"algorithm": digest}
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                "issuer_and_serial_number",
                cms.IssuerAndSerialNumber({"issuer": certificate.issuer, "serial_number": certificate.serial_number}),
            ),
            "digest_algorithm": algorithm,
            "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},  # the OID rsaEncryption, with NULL
            "signature": signature,
        }
    )
    data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algorithm],
            "encap_content_info": {"content_type": "data", "content": content},
            "certificates": [certificate],
            "signer_infos": [signer],
        }
    )
    der: bytes = cms.ContentInfo({"content_type": "signed_data", "content": data}).dump()
    return der


def smime_response(der: bytes) -> str:
    """The ``response`` gpPARAM's value: the S/MIME text (headers, then the DER in base64), base64 again."""
    part = MIMEApplication(der, "x-pkcs7-mime", name="smime.p7m")  # base64 transfer encoding by default
    part.add_header("Content-Disposition", "attachment", filename="smime.p7m")
    return base64.b64encode(part.as_bytes(policy=SMTP)).decode("ascii")

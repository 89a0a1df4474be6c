"""Software smartcards for training mode and tests: one SoftHSM2 token per sandbox user.

Each token holds an RSA key and its card certificate under one CKA_ID, with the user's ``token_label`` and the
training PIN. The certificates come from the sandbox's smartcard CA, except for the user whose card is "expired"
(validity period over) and the one whose card is "untrusted" (issued by a look-alike CA the sandbox does not trust).
Provisioning writes ``<data dir>/cards/`` once and reuses it while the sandbox's smartcard CA stays the same.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pkcs11 import Attribute, MechanismFlag
from pkcs11.types import Session
from pkcs11.util.rsa import decode_rsa_private_key
from pkcs11.util.x509 import decode_x509_certificate

from consent_desktop.auth.pkcs11_token import module_claim
from consent_desktop.domain.errors import MiddlewareError
from consent_desktop.sandbox import pki
from consent_desktop.sandbox.datadir import SandboxData
from consent_desktop.sandbox.users import TRAINING_PIN, USERS, SandboxUser

if TYPE_CHECKING:
    from pkcs11 import _pkcs11

SO_PIN = "87654321"  # the security officer PIN of every software card; training only
KEY_LABEL = "NHS Authentication"
_MODULE_NAME = "libsofthsm2.so"
_MODULE_DIRS = ("/usr/lib/softhsm", "/usr/lib/*-linux-gnu/softhsm", "/usr/local/lib/softhsm", "/usr/lib64/softhsm")


@dataclass(frozen=True)
class SoftCards:
    """Everything the training-mode launcher needs to use the software cards."""

    module_path: Path  # the SoftHSM2 PKCS#11 library (auth.pkcs11_module)
    conf_path: Path  # its configuration (auth.softhsm2_conf, exported as SOFTHSM2_CONF)
    card_ca_bundle: Path  # the sandbox's smartcard CA (auth.card_ca_bundle)
    token_labels: Mapping[str, str]  # user id -> token label
    pin: str = TRAINING_PIN


def softhsm_module() -> Path:
    """Where SoftHSM2's PKCS#11 library is installed (Debian and other Linux layouts)."""
    for pattern in _MODULE_DIRS:
        for directory in sorted(Path("/").glob(pattern.lstrip("/"))):
            if (directory / _MODULE_NAME).is_file():
                return directory / _MODULE_NAME
    raise MiddlewareError(
        f"SoftHSM2 is not installed: no {_MODULE_NAME} in {', '.join(_MODULE_DIRS)} (Debian package softhsm2)"
    )


def provision(data_dir: Path) -> SoftCards:
    """Create (or reuse) the software cards of every sandbox user under ``<data_dir>/cards``."""
    data = SandboxData(data_dir)
    data.ensure_pki()
    module = softhsm_module()
    cards = data_dir / "cards"
    result = SoftCards(
        module_path=module,
        conf_path=cards / "softhsm2.conf",
        card_ca_bundle=data.pem("card-ca"),
        token_labels={user.user_id: user.token_label for user in USERS},
    )
    card_ca = data.card_ca()
    stamp = {
        "card_ca_sha256": card_ca.certificate.fingerprint(hashes.SHA256()).hex(),
        "token_labels": dict(result.token_labels),
    }
    manifest = cards / "cards.json"
    if _read_manifest(manifest) == stamp and result.conf_path.is_file():
        return result

    if cards.exists():
        shutil.rmtree(cards)
    (cards / "tokens").mkdir(parents=True)
    result.conf_path.write_text(
        f"directories.tokendir = {cards / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
        "slots.removable = false\n"
    )
    for user in USERS:
        _init_token(result.conf_path, user.token_label)
    # Like a real card CA, only the signature tells the look-alike apart: it has the same name as the real one.
    ca_name = card_ca.certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    look_alike_ca = pki.new_ca(str(ca_name))
    with _softhsm(module, result.conf_path) as lib:
        for user in USERS:
            issued = _card_certificate(user, look_alike_ca if user.card == "untrusted" else card_ca)
            with lib.get_token(token_label=user.token_label).open(rw=True, user_pin=TRAINING_PIN) as session:
                store_credentials(session, issued)
    manifest.write_text(json.dumps(stamp))  # written last: a half-made folder is made again next time
    return result


def _read_manifest(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):  # never provisioned, or damaged: provision again
        return None


def _init_token(conf: Path, label: str) -> None:
    """With SoftHSM2's own tool, because python-pkcs11 has no C_InitToken."""
    util = shutil.which("softhsm2-util")
    if util is None:
        raise MiddlewareError("SoftHSM2 is not installed: softhsm2-util is not on PATH (Debian package softhsm2)")
    command = [util, "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", TRAINING_PIN]
    done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        command, env={**os.environ, "SOFTHSM2_CONF": str(conf)}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise MiddlewareError(f"softhsm2-util --init-token failed ({done.returncode}): {done.stderr.strip()}")


@contextmanager
def _softhsm(module: Path, conf: Path) -> Iterator[_pkcs11.lib]:
    """SoftHSM2 initialised with ``conf``, finalised afterwards so that a card token can initialise it again."""
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read by SoftHSM2 in C_Initialize
    try:
        with module_claim(str(module)):
            lib = pkcs11.lib(str(module))
            try:
                yield lib
            finally:
                lib.finalize()
    finally:
        if previous is None:
            del os.environ["SOFTHSM2_CONF"]
        else:
            os.environ["SOFTHSM2_CONF"] = previous


def _card_certificate(user: SandboxUser, ca: pki.Issued) -> pki.Issued:
    if user.card == "expired":
        return pki.card_certificate(ca, user.user_id, days=365, not_before=datetime.now(UTC) - timedelta(days=400))
    return pki.card_certificate(ca, user.user_id)


def store_credentials(session: Session, issued: pki.Issued) -> None:
    """Put an RSA key and its certificate on a software card (an R/W session logged in as the user)."""
    key = issued.key
    assert isinstance(key, rsa.RSAPrivateKey)  # pki.card_certificate issues RSA keys, as NHS cards hold
    key_id = x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest
    pkcs1 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    private = decode_rsa_private_key(pkcs1, capabilities=MechanismFlag.SIGN)
    private.update(
        {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.ID: key_id,
            Attribute.LABEL: KEY_LABEL,
        }
    )
    session.create_object(private)
    certificate = decode_x509_certificate(issued.certificate.public_bytes(serialization.Encoding.DER))
    certificate.update(
        {Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.ID: key_id, Attribute.LABEL: KEY_LABEL}
    )
    session.create_object(certificate)

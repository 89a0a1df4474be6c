"""Where a sandbox keeps its state: certificates, the SQLite store and the client configuration it writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from consent_desktop.sandbox import pki

SPINE_ASID = "928942012545"  # the sandbox's own Spine ASID (a PDS INT value seen in public samples)
CLIENT_ASID = "200000001162"  # the ASID the sandbox issues to its client endpoint


@dataclass(frozen=True)
class SandboxData:
    root: Path

    @property
    def pki_dir(self) -> Path:
        return self.root / "pki"

    @property
    def database(self) -> Path:
        return self.root / "sandbox.db"

    @property
    def client_config(self) -> Path:
        return self.root / "client.toml"

    @property
    def state_file(self) -> Path:
        """Ports and PID of the running sandbox, for ``consent-desktop-sandbox fault`` and scripts."""
        return self.root / "sandbox.json"

    def pem(self, name: str) -> Path:
        return self.pki_dir / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.pki_dir / f"{name}.key"

    def ensure_pki(self) -> None:
        """Create the CAs and endpoint certificates on first run; reuse them afterwards."""
        self.pki_dir.mkdir(parents=True, exist_ok=True)
        if not self.pem("tls-ca").exists():
            tls_ca = pki.new_ca("Sandbox Spine TLS CA")
            tls_ca.write(self.pem("tls-ca"), self.key("tls-ca"))
            pki.server_certificate(tls_ca).write(self.pem("server"), self.key("server"))
            pki.client_certificate(tls_ca, f"consent-desktop endpoint {CLIENT_ASID}").write(
                self.pem("client"), self.key("client")
            )
        if not self.pem("card-ca").exists():
            pki.new_ca("Sandbox SubCA").write(self.pem("card-ca"), self.key("card-ca"))

    def tls_ca(self) -> pki.Issued:
        return pki.load(self.pem("tls-ca"), self.key("tls-ca"))

    def card_ca(self) -> pki.Issued:
        return pki.load(self.pem("card-ca"), self.key("card-ca"))

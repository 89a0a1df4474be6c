"""Start and stop a sandbox in this process: for ``consent-desktop-sandbox serve``, training mode and tests."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import tomli_w

from consent_desktop.sandbox import cis2_service, cis_service, http, patients, softcard
from consent_desktop.sandbox.acs_service import AcsService
from consent_desktop.sandbox.datadir import CLIENT_ASID, SPINE_ASID, SandboxData
from consent_desktop.sandbox.pds_service import PdsService
from consent_desktop.sandbox.spine_endpoint import PATH, Operation, SpineEndpoint
from consent_desktop.sandbox.store import Store
from consent_desktop.sandbox.users import RECEPTIONIST

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


class Sandbox:
    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 0,
        identity_port: int = 0,
        ticket_lifetime: float = cis_service.DEFAULT_TICKET_LIFETIME,
        challenge_lifetime: float = cis_service.DEFAULT_CHALLENGE_LIFETIME,
        software_cards: bool = False,
        cis2_token_lifetime: float = cis2_service.DEFAULT_TOKEN_LIFETIME,
    ) -> None:
        self.data = SandboxData(data_dir)
        self._ports = (port, identity_port)
        self._cis_lifetimes = (ticket_lifetime, challenge_lifetime)
        self.cis: cis_service.CisService | None = None
        self._cis2_token_lifetime = cis2_token_lifetime
        self.cis2: cis2_service.Cis2Service | None = None
        self._listeners: list[http.Listener] = []
        self.store: Store | None = None
        self._acs: AcsService | None = None
        self._software_cards = software_cards
        self.cards: softcard.SoftCards | None = None

    def start(self) -> Sandbox:
        self.data.root.mkdir(parents=True, exist_ok=True)
        self.data.ensure_pki()
        if self._software_cards:
            self.cards = softcard.provision(self.data.root)
        store = self.store = Store(self.data.database)
        store.seed_once([(nhs, f, p) for nhs, items in patients.INITIAL_CONSENT.items() for f, p in items])

        spine = SpineEndpoint(store)
        acs = self._acs = AcsService(store)
        spine.register(
            "GET_RESOURCE_PERMISSIONS_INUK01",
            Operation("get", lambda incoming, faults: acs.get(incoming, other_patient="other-patient" in faults)),
        )
        spine.register("SET_RESOURCE_PERMISSIONS_INUK01", Operation("set", acs.set))
        pds = PdsService()
        spine.register(
            "QUPA_IN000008UK02",
            Operation("pds", lambda incoming, faults: pds.retrieve(incoming, other_patient="other-patient" in faults)),
        )
        spine.register("QUPA_IN000005UK01", Operation("pds", lambda incoming, _faults: pds.trace(incoming)))
        spine_router = http.Router()
        spine_router.add("POST", PATH, spine)

        identity_router = http.Router()
        ticket_lifetime, challenge_lifetime = self._cis_lifetimes
        cis = self.cis = cis_service.CisService(
            self.data.card_ca().certificate, ticket_lifetime=ticket_lifetime, challenge_lifetime=challenge_lifetime
        )
        cis.register(identity_router)
        key_file = self.data.pki_dir / cis2_service.KEY_FILE
        self.cis2 = cis2_service.Cis2Service(
            cis2_service.signing_key(key_file),
            # As the app's client.toml below: private_key_jwt, so the public-client assumption is never what the
            # sandbox's own runs rely on (identity-protocols.md §4.3).
            profile=cis2_service.Cis2Profile(
                client_auth="private_key_jwt", client_key=cis2_service.public_key(self._cis2_client_key)
            ),
            token_lifetime=self._cis2_token_lifetime,
            key_file=key_file,
        )
        self.cis2.register(identity_router)

        def refuse_tls() -> bool:
            return store.take_fault("tls-refuse")

        spine_context = http.server_context(self.data.pem("server"), self.data.key("server"), self.data.pem("tls-ca"))
        identity_context = http.server_context(self.data.pem("server"), self.data.key("server"), None)
        self._listeners = [
            http.start(HOST, self._ports[0], spine_context, spine_router, refuse_tls),
            http.start(HOST, self._ports[1], identity_context, identity_router),
        ]
        self.cis2.issuer = self.cis2_issuer
        cis.base_url = self.identity_url.rstrip("/")
        self._write_client_config()
        self.data.state_file.write_text(
            json.dumps({"pid": os.getpid(), "spine_port": self.spine_port, "identity_port": self.identity_port})
        )
        return self

    @property
    def spine_port(self) -> int:
        return self._listeners[0].port

    @property
    def identity_port(self) -> int:
        return self._listeners[1].port

    @property
    def spine_url(self) -> str:
        return f"https://{HOST}:{self.spine_port}/"

    @property
    def identity_url(self) -> str:
        return f"https://{HOST}:{self.identity_port}/"

    @property
    def _cis2_client_key(self) -> Path:
        """The app's private_key_jwt key: the sandbox registers its public half; client.toml names the file."""
        return self.data.pki_dir / cis2_service.CLIENT_KEY_FILE

    @property
    def cis2_issuer(self) -> str:
        return f"https://{HOST}:{self.identity_port}{cis2_service.PATH}"

    def client_settings(self) -> dict[str, dict[str, object]]:
        """The complete client configuration for this sandbox (paths relative to the data folder)."""
        endpoint = f"https://{HOST}:{self.spine_port}{PATH}"
        auth: dict[str, object] = {
            # The legacy route, explicitly: the command line signs in with the card's passcode, and the README's
            # walkthrough uses it. Training mode and the app's default use CIS2 (training.py).
            "provider": "cis",
            "cis_url": self.identity_url.rstrip("/"),
            "card_ca_bundle": "pki/card-ca.pem",
            "allow_virtual_readers": True,
        }
        if self.cards is not None:
            auth |= self._card_settings()
        return {
            "spine": {
                "endpoint": endpoint,
                "spine_asid": SPINE_ASID,
                "local_asid": CLIENT_ASID,
                "connect_timeout": 5.0,
                "read_timeout": 10.0,
                "read_deadline": 10.0,
                "change_deadline": 10.0,
            },
            "tls": {"ca_bundle": "pki/tls-ca.pem", "client_cert": "pki/client.pem", "client_key": "pki/client.key"},
            "auth": auth,
            # auth.provider = "cis2" switches to the sandbox's CIS2 provider; its certificate is the TLS CA's
            "cis2": {
                "issuer": self.cis2_issuer,
                "client_id": cis2_service.CLIENT_ID,
                "ca_bundle": "pki/tls-ca.pem",
                "token_auth_method": "private_key_jwt",
                "private_key": f"pki/{cis2_service.CLIENT_KEY_FILE}",
            },
            "app": {"training_mode": True, "data_dir": "audit"},  # its own audit, beside the sandbox
        }

    def _card_settings(self) -> dict[str, object]:
        """The software cards: SoftHSM2 as the middleware, and the receptionist's card in the reader."""
        assert self.cards is not None
        return {
            "pkcs11_module": str(self.cards.module_path),
            "softhsm2_conf": str(self.cards.conf_path.relative_to(self.data.root)),
            "token_label": RECEPTIONIST.token_label,
        }

    def _write_client_config(self) -> None:
        header = (
            "# Written by consent-desktop-sandbox: a client configuration for this sandbox. Regenerated on start.\n"
        )
        self.data.client_config.write_text(header + tomli_w.dumps(self.client_settings()))

    def stop(self) -> None:
        for listener in self._listeners:
            listener.stop()
        self._listeners = []
        if self._acs is not None:
            self._acs.close()
            self._acs = None
        if self.store is not None:
            self.store.close()
            self.store = None
        self.data.state_file.unlink(missing_ok=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""Builds a workstation's parts from settings: the one place that chooses real implementations."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from consent_desktop.audit import AuditLog
from consent_desktop.auth.card import CardPresence, CardToken
from consent_desktop.auth.cis import CisClient
from consent_desktop.auth.pkcs11_token import card_token_from_settings
from consent_desktop.auth.presence import PcscPresence
from consent_desktop.auth.session import Session
from consent_desktop.auth.sign_in import SignInFlow
from consent_desktop.auth.training_presence import TrainingPresence
from consent_desktop.config import APP_AUTHOR, APP_NAME, Settings
from consent_desktop.controller.workstation import Parts, Workstation
from consent_desktop.spine.acs_client import AcsClient, AcsEndpoint
from consent_desktop.spine.pds_client import PdsClient, PdsEndpoint
from consent_desktop.spine.transport import SpineTransport


def data_dir(settings: Settings) -> Path:
    return settings.app.data_dir or Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def choose_presence(settings: Settings) -> CardPresence:
    """Training mode with software cards has its on-screen "reader"; everything else uses PC/SC."""
    if settings.app.training_mode and settings.auth.softhsm2_conf is not None:
        training = TrainingPresence()
        if settings.auth.token_label:
            training.insert(settings.auth.token_label)
        return training
    return PcscPresence(allow_virtual_readers=settings.app.training_mode and settings.auth.allow_virtual_readers)


def assemble(
    settings: Settings, *, presence: CardPresence | None = None, token: CardToken | None = None
) -> Workstation:
    presence = presence or choose_presence(settings)
    token = token or card_token_from_settings(settings)
    session = Session(settings.auth, presence=presence)
    cis = CisClient.from_settings(settings)
    transport = SpineTransport(settings.spine, settings.tls)
    attempts = settings.spine.get_attempts
    acs = AcsClient(
        transport,
        AcsEndpoint(settings.spine.acs_endpoint, settings.spine.acs_receiver_asid, settings.spine.local_asid),
        session,
        attempts=attempts,
    )
    patients = PdsClient(transport, PdsEndpoint.from_settings(settings.spine), session, attempts=attempts)
    parts = Parts(
        settings=settings,
        session=session,
        sign_in=SignInFlow(token, cis, session),
        presence=presence,
        acs=acs,
        patients=patients,
        audit=AuditLog(data_dir(settings) / "audit.jsonl"),
    )

    def close() -> None:
        token.close()
        cis.close()
        transport.close()

    return Workstation(parts, on_close=close)

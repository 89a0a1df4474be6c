"""Builds a workstation's parts from settings: the one place that chooses real implementations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import platformdirs

from consent_desktop.audit import AuditLog
from consent_desktop.auth.card import CardPresence, CardToken
from consent_desktop.auth.cis import CisClient
from consent_desktop.auth.pkcs11_token import card_token_from_settings
from consent_desktop.auth.providers import PROVIDERS
from consent_desktop.auth.session import Session
from consent_desktop.auth.sign_in import IdentityFlow, SignInFlow
from consent_desktop.config import APP_AUTHOR, APP_NAME, Settings
from consent_desktop.controller.presence_choice import choose_presence
from consent_desktop.controller.settings_check import check_files, check_settings
from consent_desktop.controller.workstation import Parts, Workstation
from consent_desktop.domain.errors import ConfigError
from consent_desktop.spine.acs_client import AcsClient
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.pds_client import PdsClient
from consent_desktop.spine.transport import SpineTransport

AUDIT_FOLDER = "audit"  # in the machine-wide data folder; on Windows the installer makes it, with its access rights


def data_dir(settings: Settings) -> Path:
    """The workstation's, not one user's: ``audit`` in the machine-wide data folder (on Windows
    ``C:\\ProgramData\\NHS\\consent-desktop\\audit``, on Linux ``/usr/local/share/consent-desktop/audit``). Not the
    folder itself: on Windows that holds the per-machine settings file, and the app's users may write to this one."""
    return settings.app.data_dir or Path(platformdirs.site_data_dir(APP_NAME, APP_AUTHOR)) / AUDIT_FOLDER


def audit_path(settings: Settings) -> Path:
    """Training keeps its own audit, so practice changes never appear in a real patient's history."""
    return data_dir(settings) / ("training-audit.jsonl" if settings.app.training_mode else "audit.jsonl")


def earlier_audit_path() -> Path:
    """Where earlier versions kept a per-user audit. It is left where it is (a record in its own right, unsealed)
    and no longer written; ``diagnose`` mentions it when it is there."""
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)) / "audit.jsonl"


Browser = Callable[[str], bool]  # opens the CIS2 sign-in page: webbrowser.open, or a test playing the browser


def choose_sign_in(
    settings: Settings,
    token: CardToken,
    session: Session,
    presence: CardPresence,
    *,
    browser: Browser | None = None,
    browser_timeout: float | None = None,
) -> tuple[IdentityFlow, Callable[[], None]]:
    """The identity provider ``auth.provider`` names, and what closes its connections."""
    if settings.auth.provider == "cis2":
        # Loaded only when chosen: the OpenID Connect libraries cost start-up time a CIS workstation never needs.
        from consent_desktop.auth.cis2 import Cis2Client
        from consent_desktop.auth.cis2_sign_in import Cis2SignInFlow
        from consent_desktop.auth.loopback import DEFAULT_TIMEOUT

        client = Cis2Client.from_settings(settings)
        extra = {"browser": browser} if browser is not None else {}
        flow = Cis2SignInFlow(
            client,
            token,
            session,
            presence,
            settings.auth,
            browser_timeout=DEFAULT_TIMEOUT if browser_timeout is None else browser_timeout,
            redirect_port=settings.cis2.redirect_port,
            **extra,
        )
        return flow, client.close
    legacy = SignInFlow(token, CisClient.from_settings(settings), session)
    return legacy, legacy.close


def assemble(
    settings: Settings,
    *,
    presence: CardPresence | None = None,
    token: CardToken | None = None,
    browser: Browser | None = None,
    browser_timeout: float | None = None,
) -> Workstation:
    """``browser`` opens the CIS2 sign-in page (default: the system browser); tests play the browser with it."""
    if settings.auth.provider not in PROVIDERS:
        raise ConfigError("settings", "auth.provider", f"must be one of {', '.join(PROVIDERS)}")
    check_settings(settings)  # before a card, a connection or the audit is touched
    presence = presence or choose_presence(settings)
    if token is None:
        check_files(settings)
        token = card_token_from_settings(settings)
    session = Session(settings.auth, presence=presence)
    sign_in, close_sign_in = choose_sign_in(
        settings, token, session, presence, browser=browser, browser_timeout=browser_timeout
    )
    transport = SpineTransport(settings.spine, settings.tls)
    attempts = settings.spine.get_attempts
    acs = AcsClient(
        transport,
        SpineEndpoint.for_acs(settings.spine),
        session,
        attempts=attempts,
        change_deadline=settings.spine.change_deadline,
    )
    patients = PdsClient(transport, SpineEndpoint.for_pds(settings.spine), session, attempts=attempts)
    parts = Parts(
        settings=settings,
        session=session,
        sign_in=sign_in,
        presence=presence,
        token=token,
        acs=acs,
        patients=patients,
        audit=AuditLog(audit_path(settings)),
    )

    def close() -> None:
        token.close()
        close_sign_in()
        transport.close()

    return Workstation(parts, on_close=close)

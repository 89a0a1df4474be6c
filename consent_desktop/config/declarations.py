"""Every setting, declared once: its type, default, help text and who may set it (the field's metadata).

- ``user``: a user-interface preference, the only kind the per-user file may set.
- ``security``: where the app connects, whom it trusts, how a session is kept and where the audit goes. The
  environment and ``--config`` never set these outside training mode, unless machine policy allows developer
  overrides (:mod:`consent_desktop.config.merge`).
- ``policy_only``: set by machine policy or machine settings only, never by the environment or ``--config``.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

APP_NAME = "consent-desktop"
APP_AUTHOR = "NHS"


def _s(help_text: str, *, user: bool = False, security: bool = False, policy_only: bool = False) -> dict[str, Any]:
    return {"help": help_text, "user": user, "security": security, "policy_only": policy_only}


@dataclass(frozen=True)
class SpineSettings:
    endpoint: str = field(
        default="",
        metadata=_s("Spine's synchronous HTTPS endpoint (ACS and PDS unless overridden)", security=True),
    )
    acs_url: str = field(default="", metadata=_s("ACS endpoint, when it differs from spine.endpoint", security=True))
    pds_url: str = field(default="", metadata=_s("PDS endpoint, when it differs from spine.endpoint", security=True))
    spine_asid: str = field(default="", metadata=_s("Spine's ASID (receiver) for ACS and PDS unless overridden"))
    acs_asid: str = field(default="", metadata=_s("Spine's ASID for ACS, when it differs from spine.spine_asid"))
    pds_asid: str = field(default="", metadata=_s("Spine's ASID for PDS, when it differs from spine.spine_asid"))
    local_asid: str = field(default="", metadata=_s("This system's accredited system id (sender)"))
    connect_timeout: float = field(default=10.0, metadata=_s("Seconds to wait for a connection"))
    read_timeout: float = field(default=30.0, metadata=_s("Seconds to wait for Spine's answer"))
    get_attempts: int = field(default=3, metadata=_s("Attempts for a read that failed in a retriable way"))
    read_deadline: float = field(
        default=20.0,
        metadata=_s("Seconds a Spine, PDS or sign-in request may take in all: connecting, sending, the whole answer"),
    )
    change_deadline: float = field(
        default=30.0,
        metadata=_s("Seconds a consent change may take in all; after that its outcome is unknown and Spine is read"),
    )

    @property
    def acs_endpoint(self) -> str:
        return self.acs_url or self.endpoint

    @property
    def pds_endpoint(self) -> str:
        return self.pds_url or self.endpoint

    @property
    def acs_receiver_asid(self) -> str:
        return self.acs_asid or self.spine_asid

    @property
    def pds_receiver_asid(self) -> str:
        return self.pds_asid or self.spine_asid


@dataclass(frozen=True)
class TlsSettings:
    ca_bundle: Path | None = field(
        default=None, metadata=_s("CA certificates that Spine's certificate must chain to", security=True)
    )
    client_cert: Path | None = field(
        default=None, metadata=_s("This endpoint's client certificate (PEM)", security=True)
    )
    client_key: Path | None = field(
        default=None, metadata=_s("The client certificate's private key (PEM)", security=True)
    )


@dataclass(frozen=True)
class AuthSettings:
    provider: str = field(
        default="cis2",
        metadata=_s(
            "Identity provider: 'cis2' (NHS CIS2 Authentication, OpenID Connect) or 'cis' (the legacy smartcard "
            "route; NHS support for current cards ends 28 February 2027)",
            security=True,
        ),
    )
    cis_url: str = field(
        default="", metadata=_s("Base URL of the CIS authentication service (GAS), legacy route", security=True)
    )
    # The session ticket is sent here to read the user's roles and RBAC codes.
    cis_role_assertion_url: str = field(
        default="",
        metadata=_s(
            "Base URL of the SSB SAML RoleAssertion service, legacy route (blank: auth.cis_url)", security=True
        ),
    )
    cis_signature_digest: str = field(
        default="sha1",
        metadata=_s(
            "Hash of the card's CIS signature: 'sha1' (as the Identity Agent) or 'sha256' (a variant)", security=True
        ),
    )
    pkcs11_module: Path | None = field(
        default=None, metadata=_s("Full path of the smartcard middleware's PKCS#11 library", security=True)
    )
    card_ca_bundle: Path | None = field(
        default=None, metadata=_s("CA certificates trusted to issue smartcards", security=True)
    )
    lock_on_card_removal: bool = field(
        default=True, metadata=_s("Lock the session when the card leaves the reader", security=True)
    )
    allow_virtual_readers: bool = field(
        default=False, metadata=_s("Accept virtual card readers (training only)", security=True)
    )
    softhsm2_conf: Path | None = field(
        default=None, metadata=_s("SoftHSM2 configuration of the training-mode software card (training mode only)")
    )
    token_label: str = field(default="", metadata=_s("PKCS#11 label of the card to use (blank: the one card present)"))
    change_consent_activities: tuple[str, ...] = field(
        default=("B0020",), metadata=_s("RBAC activity codes a role needs to change consent")
    )
    ods_code: str = field(default="", metadata=_s("ODS code of this workstation's organisation"))


@dataclass(frozen=True)
class Cis2Settings:
    issuer: str = field(default="", metadata=_s("CIS2 OpenID Connect issuer URL", security=True))
    client_id: str = field(default="", metadata=_s("This app's CIS2 client id", security=True))
    # CIS2's scopes for the user's id and name ("nhsperson"), role profiles ("nationalrbacaccess"), the names of
    # their organisations ("associatedorgs"), and CIS2's role choice ("selectedrole": the ID token's selected_roleid
    # is then the session's role). Not a security setting: it changes neither where the app connects nor whom it
    # trusts, and the client refuses scopes without openid; without selectedrole the app offers the roles itself.
    scopes: tuple[str, ...] = field(
        default=("openid", "profile", "nhsperson", "nationalrbacaccess", "associatedorgs", "selectedrole"),
        metadata=_s("OpenID Connect scopes asked for at sign-in (must include openid)"),
    )
    ca_bundle: Path | None = field(
        default=None, metadata=_s("CA bundle for the CIS2 endpoints (blank: OS trust store)", security=True)
    )
    # How this app proves itself at the token endpoint: to be settled at CIS2 onboarding (docs/cis2.md).
    token_auth_method: str = field(
        default="none",
        metadata=_s(
            "Token endpoint client authentication: 'none' (public client, PKCE), 'private_key_jwt' or "
            "'client_secret_post'",
            security=True,
        ),
    )
    # A machine-held key: the file must be readable by this app's users only.
    private_key: Path | None = field(
        default=None, metadata=_s("PEM private key that signs the private_key_jwt client assertion", security=True)
    )
    private_key_id: str = field(
        default="",
        metadata=_s("Key id (kid) registered with CIS2 for that key (blank: its RFC 7638 thumbprint)", security=True),
    )
    # The secret itself is never a setting, so it never shows in diagnose, the registry or a log.
    client_secret_file: Path | None = field(
        default=None,
        metadata=_s("File holding the client secret for client_secret_post (readable by the app only)", security=True),
    )
    redirect_port: int = field(
        default=0,
        metadata=_s("Fixed loopback port of the sign-in redirect, as registered (0: any free port)", security=True),
    )
    max_auth_age: float = field(
        default=300.0, metadata=_s("Seconds the ID token's auth_time may lie in the past", security=True)
    )


@dataclass(frozen=True)
class AppSettings:
    # Not a security setting, on purpose: training mode confines every address to this computer
    # (controller/settings_check.py), and IT can hold it off by policy.
    training_mode: bool = field(default=False, metadata=_s("Talk to the local sandbox, not the real Spine"))
    log_level: str = field(default="INFO", metadata=_s("Diagnostic log level"))
    data_dir: Path | None = field(
        default=None, metadata=_s("Where the audit log lives (blank: the platform default)", security=True)
    )
    allow_developer_overrides: bool = field(
        default=False,
        metadata=_s(
            "Let environment variables and --config set security settings (developer machines only)",
            policy_only=True,
        ),
    )


@dataclass(frozen=True)
class UiSettings:
    text_scale: float = field(default=1.0, metadata=_s("Text size multiplier", user=True))


@dataclass(frozen=True)
class IgnoredOverride:
    """A value the environment or ``--config`` gave that was not applied, and why. Its value is not kept."""

    key: str
    source: str
    reason: str


@dataclass(frozen=True)
class Settings:
    spine: SpineSettings = field(default_factory=SpineSettings)
    tls: TlsSettings = field(default_factory=TlsSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    cis2: Cis2Settings = field(default_factory=Cis2Settings)
    app: AppSettings = field(default_factory=AppSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    locked: frozenset[str] = field(default=frozenset(), compare=False)  # keys machine policy set
    ignored: tuple[IgnoredOverride, ...] = field(default=(), compare=False)

    def source_of(self, key: str) -> str:
        return self.sources.get(key, "default")

    def value(self, key: str) -> object:
        section, name = key.split(".", 1)
        return getattr(getattr(self, section), name)


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: Any
    default: object
    help: str
    user: bool
    security: bool
    policy_only: bool


_NOT_SETTINGS = {"sources", "locked", "ignored"}


def section_types() -> dict[str, type]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in fields(Settings) if f.name not in _NOT_SETTINGS}


def setting_specs() -> tuple[SettingSpec, ...]:
    """Every setting the app has, in declaration order."""
    specs: list[SettingSpec] = []
    for section, section_type in section_types().items():
        hints = typing.get_type_hints(section_type)
        defaults = section_type()
        for f in fields(section_type):
            specs.append(
                SettingSpec(
                    key=f"{section}.{f.name}",
                    type=hints[f.name],
                    default=getattr(defaults, f.name),
                    help=str(f.metadata.get("help", "")),
                    user=bool(f.metadata.get("user", False)),
                    security=bool(f.metadata.get("security", False)),
                    policy_only=bool(f.metadata.get("policy_only", False)),
                )
            )
    return tuple(specs)


SPECS: dict[str, SettingSpec] = {spec.key: spec for spec in setting_specs()}

"""Typed settings, declared once, read from layered sources that each say where a value came from.

Precedence, highest first: environment overrides (tests only) > Group Policy > MSI-written machine settings >
per-machine file > per-user file (UI preferences only) > defaults. The two registry layers exist on Windows
only; see :mod:`consent_desktop.config_registry`.
"""

from __future__ import annotations

import os
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import platformdirs

from consent_desktop.config_registry import registry_sources
from consent_desktop.domain.errors import ConfigError

APP_NAME = "consent-desktop"
APP_AUTHOR = "NHS"
ENV_PREFIX = "CONSENT_DESKTOP__"  # CONSENT_DESKTOP__SPINE__ACS_URL overrides spine.acs_url


def _s(help_text: str, *, user: bool = False) -> dict[str, Any]:
    return {"help": help_text, "user": user}


@dataclass(frozen=True)
class SpineSettings:
    endpoint: str = field(default="", metadata=_s("Spine's synchronous HTTPS endpoint (ACS and PDS unless overridden)"))
    acs_url: str = field(default="", metadata=_s("ACS endpoint, when it differs from spine.endpoint"))
    pds_url: str = field(default="", metadata=_s("PDS endpoint, when it differs from spine.endpoint"))
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
    ca_bundle: Path | None = field(default=None, metadata=_s("CA certificates that Spine's certificate must chain to"))
    client_cert: Path | None = field(default=None, metadata=_s("This endpoint's client certificate (PEM)"))
    client_key: Path | None = field(default=None, metadata=_s("The client certificate's private key (PEM)"))


@dataclass(frozen=True)
class AuthSettings:
    provider: str = field(default="cis", metadata=_s("Identity provider: 'cis' (smartcard) or 'cis2' (OpenID Connect)"))
    cis_url: str = field(default="", metadata=_s("Base URL of the CIS sign-in service"))
    pkcs11_module: str = field(default="", metadata=_s("Path of the smartcard middleware's PKCS#11 library"))
    card_ca_bundle: Path | None = field(default=None, metadata=_s("CA certificates trusted to issue smartcards"))
    lock_on_card_removal: bool = field(default=True, metadata=_s("Lock the session when the card leaves the reader"))
    allow_virtual_readers: bool = field(default=False, metadata=_s("Accept virtual card readers (training only)"))
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
    issuer: str = field(default="", metadata=_s("CIS2 OpenID Connect issuer URL"))
    client_id: str = field(default="", metadata=_s("This app's CIS2 client id"))
    ca_bundle: Path | None = field(
        default=None, metadata=_s("CA bundle for the CIS2 endpoints (blank: OS trust store)")
    )


@dataclass(frozen=True)
class AppSettings:
    training_mode: bool = field(default=False, metadata=_s("Talk to the local sandbox, not the real Spine"))
    log_level: str = field(default="INFO", metadata=_s("Diagnostic log level"))
    data_dir: Path | None = field(default=None, metadata=_s("Where the audit log lives (blank: the platform default)"))


@dataclass(frozen=True)
class UiSettings:
    text_scale: float = field(default=1.0, metadata=_s("Text size multiplier", user=True))


@dataclass(frozen=True)
class Settings:
    spine: SpineSettings = field(default_factory=SpineSettings)
    tls: TlsSettings = field(default_factory=TlsSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    cis2: Cis2Settings = field(default_factory=Cis2Settings)
    app: AppSettings = field(default_factory=AppSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

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


def _section_types() -> dict[str, type]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in fields(Settings) if f.name != "sources"}


def setting_specs() -> tuple[SettingSpec, ...]:
    """Every setting the app has, in declaration order."""
    specs: list[SettingSpec] = []
    for section, section_type in _section_types().items():
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
                )
            )
    return tuple(specs)


SPECS: dict[str, SettingSpec] = {spec.key: spec for spec in setting_specs()}


class ConfigSource(Protocol):
    """One layer: a name for provenance and flat ``section.name`` keys with raw values."""

    @property
    def name(self) -> str: ...

    def read(self) -> Mapping[str, object]: ...


@dataclass(frozen=True)
class TomlFileSource:
    """A TOML file with ``[section]`` tables. A missing file is an empty layer; a broken one is an error."""

    path: Path
    label: str
    user_level: bool = False

    @property
    def name(self) -> str:
        return f"{self.label} {self.path}"

    def read(self) -> Mapping[str, object]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(str(self.path), None, f"cannot be read ({exc.strerror})") from exc
        try:
            document = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(str(self.path), None, f"is not valid TOML ({exc})") from exc
        flat: dict[str, object] = {}
        for section, table in document.items():
            if not isinstance(table, dict):
                raise ConfigError(str(self.path), section, "expected a [section] table")
            for name, value in table.items():
                key = f"{section}.{name}"
                if key not in SPECS:
                    raise ConfigError(str(self.path), key, "is not a setting this app knows")
                if self.user_level and not SPECS[key].user:
                    raise ConfigError(str(self.path), key, "only user-interface preferences may be set per user")
                if isinstance(value, str) and _is_path(SPECS[key].type) and value:
                    flat[key] = str((self.path.parent / value).resolve())  # relative to the file
                else:
                    flat[key] = value
        return flat


@dataclass(frozen=True)
class MappingSource:
    """Values from code: the sandbox's own settings, or a test's."""

    name: str
    values: Mapping[str, object]

    def read(self) -> Mapping[str, object]:
        for key in self.values:
            if key not in SPECS:
                raise ConfigError(self.name, key, "is not a setting this app knows")
        return self.values


@dataclass(frozen=True)
class EnvironmentSource:
    """``CONSENT_DESKTOP__SECTION__NAME=value`` overrides, for tests."""

    environ: Mapping[str, str]
    name: str = "environment"

    def read(self) -> Mapping[str, object]:
        flat: dict[str, object] = {}
        for var, value in self.environ.items():
            if not var.startswith(ENV_PREFIX):
                continue
            key = var.removeprefix(ENV_PREFIX).lower().replace("__", ".", 1)
            if key not in SPECS:
                raise ConfigError(f"environment variable {var}", key, "is not a setting this app knows")
            flat[key] = value
        return flat


def machine_config_path() -> Path:
    return Path(platformdirs.site_config_dir(APP_NAME, APP_AUTHOR)) / "config.toml"


def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)) / "config.toml"


def default_sources(config_file: Path | None = None, environ: Mapping[str, str] | None = None) -> list[ConfigSource]:
    """The standard layers, lowest precedence first. ``config_file`` stands in for the per-machine file."""
    sources: list[ConfigSource] = [TomlFileSource(user_config_path(), "per-user file", user_level=True)]
    sources.append(TomlFileSource(config_file or machine_config_path(), "per-machine file"))
    sources.extend(registry_sources())
    sources.append(EnvironmentSource(os.environ if environ is None else environ))
    return sources


def load_settings(sources: Iterable[ConfigSource]) -> Settings:
    """Merge layers (lowest precedence first), converting and checking every value against its declared type."""
    merged: dict[str, tuple[object, str]] = {}
    for source in sources:
        for key, raw in source.read().items():
            merged[key] = (_convert(raw, SPECS[key].type, source.name, key), source.name)
    sections: dict[str, Any] = {}
    for section, section_type in _section_types().items():
        values = {
            f.name: merged[f"{section}.{f.name}"][0] for f in fields(section_type) if f"{section}.{f.name}" in merged
        }
        sections[section] = section_type(**values)
    return Settings(**sections, sources={key: source for key, (_, source) in merged.items()})


def _is_path(tp: Any) -> bool:
    return tp is Path or (isinstance(tp, types.UnionType) and Path in typing.get_args(tp))


def _convert(raw: object, tp: Any, source: str, key: str) -> object:
    def bad(expected: str) -> ConfigError:
        return ConfigError(source, key, f"expected {expected}, got {raw!r}")

    if isinstance(tp, types.UnionType):  # Path | None: blank means "not set"
        if raw in ("", None):
            return None
        tp = next(arg for arg in typing.get_args(tp) if arg is not type(None))
    if tp is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):  # registry DWORDs
            return bool(raw)
        if isinstance(raw, str) and raw.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
            return raw.strip().lower() in ("true", "1", "yes")
        raise bad("true or false")
    if tp is int:
        if isinstance(raw, bool):
            raise bad("a whole number")
        try:
            return int(raw)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise bad("a whole number") from None
    if tp is float:
        if isinstance(raw, bool):
            raise bad("a number")
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise bad("a number") from None
        if value < 0:
            raise bad("a number of zero or more")
        return value
    if tp is str:
        if isinstance(raw, str):
            return raw
        raise bad("text")
    if tp is Path:
        if isinstance(raw, str | Path):
            return Path(raw)
        raise bad("a file path")
    if typing.get_origin(tp) is tuple:
        if isinstance(raw, str):  # registry REG_SZ / environment: comma separated
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if isinstance(raw, Sequence) and all(isinstance(item, str) for item in raw):
            return tuple(raw)
        raise bad("a list of text values")
    raise AssertionError(f"unsupported setting type {tp!r}")  # pragma: no cover - declaration error


def describe(settings: Settings) -> list[tuple[str, object, str]]:
    """(key, effective value, where it came from) for every setting, for ``diagnose``."""
    return [(spec.key, settings.value(spec.key), settings.source_of(spec.key)) for spec in SPECS.values()]

r"""Windows registry layers: MSI-written machine settings, and Group Policy above them.

Off Windows there are no registry layers; the machine layer is the per-machine file (platformdirs' site config
directory, under /etc on Linux).

Every machine-level setting has one registry value name derived from its key (``spine.endpoint`` is
``SpineEndpoint``, ``auth.lock_on_card_removal`` is ``AuthLockOnCardRemoval``). The installer
(``packaging/windows/consent-desktop.wxs``) and the Group Policy template (``packaging/windows/policy/``) use the
same names; tests hold the three together. Booleans and numbers are REG_DWORD, everything else REG_SZ (lists
comma-separated). An empty REG_SZ means "not set": the installer writes one for every property it was not given.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from consent_desktop.config.declarations import SPECS, SettingSpec
from consent_desktop.config.layer import ConfigSource, Layer
from consent_desktop.config.values import checked_path, is_path
from consent_desktop.domain.errors import ConfigError

MACHINE_KEY = r"Software\NHS\ConsentDesktop"
POLICY_KEY = r"Software\Policies\NHS\ConsentDesktop"
MACHINE_SOURCE = rf"machine settings from the installer (HKLM\{MACHINE_KEY})"
POLICY_SOURCE = rf"Group Policy (HKLM\{POLICY_KEY})"

# Registry value types, numbered as winreg numbers them (winreg itself exists only on Windows).
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_MULTI_SZ = 7
REG_QWORD = 11
_TYPE_NAMES = {
    REG_SZ: "REG_SZ",
    REG_EXPAND_SZ: "REG_EXPAND_SZ",
    REG_BINARY: "REG_BINARY",
    REG_DWORD: "REG_DWORD",
    REG_MULTI_SZ: "REG_MULTI_SZ",
    REG_QWORD: "REG_QWORD",
}

# The installer's public properties (``msiexec /i ... NAME=value``) and the setting each one writes.
INSTALLER_PROPERTIES: dict[str, str] = {
    "SPINE_ENDPOINT": "spine.endpoint",
    "SPINE_ASID": "spine.spine_asid",
    "LOCAL_ASID": "spine.local_asid",
    "ODS_CODE": "auth.ods_code",
    "PKCS11_MODULE": "auth.pkcs11_module",
    "CA_BUNDLE": "tls.ca_bundle",
    "CLIENT_CERT": "tls.client_cert",
    "CLIENT_KEY": "tls.client_key",
    "CIS_URL": "auth.cis_url",
    "AUTH_PROVIDER": "auth.provider",
    "CIS2_ISSUER": "cis2.issuer",
    "CIS2_CLIENT_ID": "cis2.client_id",
    "CIS2_SCOPES": "cis2.scopes",
}

# What Group Policy may set: what an IT team manages centrally or must be able to lock. The template
# (packaging/windows/policy/ConsentDesktop.admx) offers exactly these; other settings come from the installer's
# machine settings or the per-machine file.
POLICY_SETTINGS: frozenset[str] = frozenset(
    {
        "spine.endpoint",
        "spine.acs_url",
        "spine.pds_url",
        "spine.spine_asid",
        "spine.acs_asid",
        "spine.pds_asid",
        "spine.local_asid",
        "spine.connect_timeout",
        "spine.read_timeout",
        "tls.ca_bundle",
        "tls.client_cert",
        "tls.client_key",
        "auth.provider",
        "auth.cis_url",
        "auth.pkcs11_module",
        "auth.card_ca_bundle",
        "auth.lock_on_card_removal",
        "auth.allow_virtual_readers",
        "auth.change_consent_activities",
        "auth.ods_code",
        "cis2.issuer",
        "cis2.client_id",
        "cis2.scopes",
        "app.training_mode",
        "app.log_level",
        "app.allow_developer_overrides",
    }
)


def value_name(key: str) -> str:
    """The registry value name of a setting: ``spine.read_timeout`` is ``SpineReadTimeout``.

    A name that repeats its section drops the repeat (``spine.spine_asid`` is ``SpineAsid``).
    """
    section, name = key.split(".", 1)
    words = name.split("_")
    if words[0] == section:
        words = words[1:]
    return "".join(word.capitalize() for word in [section, *words])


@cache
def registry_value_names() -> dict[str, str]:
    """Setting key → registry value name, for every setting the installer's key may set (all but per-user ones)."""
    return {key: value_name(key) for key, spec in SPECS.items() if not spec.user}


@cache
def _specs_by_value_name() -> dict[str, SettingSpec]:
    # Registry value names are case-insensitive.
    return {value_name(key).casefold(): spec for key, spec in SPECS.items()}


class RegistryReader(Protocol):
    """Reads one key under HKEY_LOCAL_MACHINE; tests pass a fake."""

    def values(self, key: str) -> Mapping[str, tuple[object, int]]:
        """The values directly under ``HKLM\\key``, as name → (data, REG_* type); empty if the key is absent."""
        ...


class WindowsRegistry:
    """The real HKEY_LOCAL_MACHINE, 64-bit view (where the x64 installer and Group Policy write)."""

    def values(self, key: str) -> Mapping[str, tuple[object, int]]:
        if sys.platform != "win32":
            raise OSError(f"there is no Windows registry on {sys.platform}")
        import winreg

        try:
            handle = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY)
        except FileNotFoundError:
            return {}
        with handle:
            _, value_count, _ = winreg.QueryInfoKey(handle)
            found: dict[str, tuple[object, int]] = {}
            for index in range(value_count):
                name, data, kind = winreg.EnumValue(handle, index)
                found[name] = (data, kind)
            return found


@dataclass(frozen=True)
class RegistrySource:
    """One registry key as a settings layer: machine-level settings only; for Group Policy, only POLICY_SETTINGS."""

    name: str
    key: str
    reader: RegistryReader
    layer: Layer = Layer.MACHINE

    def read(self) -> Mapping[str, object]:
        try:
            found = self.reader.values(self.key)
        except OSError as exc:
            raise ConfigError(self.name, None, f"cannot be read ({exc.strerror or exc})") from exc
        flat: dict[str, object] = {}
        for name, (data, kind) in found.items():
            where = f"{self.name}, registry value {name!r}"
            spec = _specs_by_value_name().get(name.casefold())
            if spec is None:
                raise ConfigError(where, None, "is not a setting this app knows")
            if spec.user:
                raise ConfigError(where, spec.key, "is a per-user preference and cannot be set for the machine")
            if self.layer is Layer.POLICY and spec.key not in POLICY_SETTINGS:
                raise ConfigError(where, spec.key, "is not offered by the Group Policy template; set it per machine")
            value = _decode(data, kind, spec, where)
            if value is not None:
                flat[spec.key] = value
        return flat


def _decode(data: object, kind: int, spec: SettingSpec, where: str) -> object:
    """The raw value for ``config`` to convert, or None for an empty string (not set)."""

    def error(problem: str) -> ConfigError:
        return ConfigError(where, spec.key, problem)

    kind_name = _TYPE_NAMES.get(kind, f"registry type {kind}")
    setting_type = spec.type
    if setting_type in (bool, int, float):
        if kind != REG_DWORD or not isinstance(data, int):
            raise error(f"expected a REG_DWORD number, found {kind_name}")
        if setting_type is bool:
            if data not in (0, 1):
                raise error(f"expected 1 (on) or 0 (off), found {data}")
            return bool(data)
        return data
    if kind != REG_SZ or not isinstance(data, str):
        raise error(f"expected REG_SZ text, found {kind_name}")
    if not data.strip():
        return None
    if is_path(setting_type):
        return checked_path(data, spec.key, where, windows=True)
    return data


def registry_sources(reader: RegistryReader | None = None) -> list[ConfigSource]:
    """The registry layers: installer settings, and Group Policy above them.

    None off Windows, unless a ``reader`` stands in for the registry (tests).
    """
    if reader is None:
        if sys.platform != "win32":
            return []
        reader = WindowsRegistry()
    return [
        RegistrySource(MACHINE_SOURCE, MACHINE_KEY, reader),
        RegistrySource(POLICY_SOURCE, POLICY_KEY, reader, layer=Layer.POLICY),
    ]

"""Typed settings, declared once, read from layers that each say where a value came from.

The sources (``toml_file``, ``environment``, ``registry``) sit below ``merge``, which joins them; see
:mod:`consent_desktop.config.merge` for the order, and for why the environment and ``--config`` never set a
security setting outside training mode.
"""

from consent_desktop.config.declarations import (
    APP_AUTHOR,
    APP_NAME,
    SPECS,
    AppSettings,
    AuthSettings,
    Cis2Settings,
    IgnoredOverride,
    Settings,
    SettingSpec,
    SpineSettings,
    TlsSettings,
    UiSettings,
    setting_specs,
)
from consent_desktop.config.environment import ENV_PREFIX, EnvironmentSource
from consent_desktop.config.layer import ConfigSource, Layer, MappingSource
from consent_desktop.config.merge import default_sources, load_settings
from consent_desktop.config.states import SettingState, describe, locked_by_policy, setting_states
from consent_desktop.config.toml_file import TomlFileSource, machine_config_path, user_config_path

__all__ = [
    "APP_AUTHOR",
    "APP_NAME",
    "ENV_PREFIX",
    "SPECS",
    "AppSettings",
    "AuthSettings",
    "Cis2Settings",
    "ConfigSource",
    "EnvironmentSource",
    "IgnoredOverride",
    "Layer",
    "MappingSource",
    "SettingSpec",
    "SettingState",
    "Settings",
    "SpineSettings",
    "TlsSettings",
    "TomlFileSource",
    "UiSettings",
    "default_sources",
    "describe",
    "load_settings",
    "locked_by_policy",
    "machine_config_path",
    "setting_specs",
    "setting_states",
    "user_config_path",
]

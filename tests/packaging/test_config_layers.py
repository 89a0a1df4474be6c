r"""Settings layers on a clinical workstation: Group Policy > installer settings > machine file > user file > defaults.

The registry is a fake here (``RegistryReader``); the Windows workflow checks the real one after a real install.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path, PureWindowsPath

import platformdirs
import pytest

from consent_desktop import config
from consent_desktop.config import SPECS, Settings, default_sources, describe, load_settings, locked_by_policy
from consent_desktop.config import merge as config_merge
from consent_desktop.config.registry import (
    INSTALLER_PROPERTIES,
    MACHINE_KEY,
    MACHINE_SOURCE,
    POLICY_KEY,
    POLICY_SETTINGS,
    POLICY_SOURCE,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_SZ,
    registry_sources,
    registry_value_names,
    value_name,
)
from consent_desktop.domain.errors import ConfigError


class FakeRegistry:
    """HKLM as a dict: key → {value name: (data, REG_* type)}."""

    def __init__(self, keys: Mapping[str, Mapping[str, tuple[object, int]]]) -> None:
        self.keys = keys

    def values(self, key: str) -> Mapping[str, tuple[object, int]]:
        return self.keys.get(key, {})


class UnreadableRegistry:
    def values(self, key: str) -> Mapping[str, tuple[object, int]]:
        raise PermissionError(13, "Access is denied")


def settings_from(
    machine: Mapping[str, tuple[object, int]], policy: Mapping[str, tuple[object, int]] | None = None
) -> Settings:
    return load_settings(registry_sources(FakeRegistry({MACHINE_KEY: machine, POLICY_KEY: policy or {}})))


def test_source_names_say_which_registry_key() -> None:
    assert POLICY_SOURCE == r"Group Policy (HKLM\Software\Policies\NHS\ConsentDesktop)"
    assert MACHINE_SOURCE == r"machine settings from the installer (HKLM\Software\NHS\ConsentDesktop)"


@pytest.mark.hazard("HAZ-012")
def test_every_layer_in_its_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home-config"))
    user_file = config.user_config_path()
    user_file.parent.mkdir(parents=True)
    user_file.write_text("[ui]\ntext_scale = 1.25\n", encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "site-config"))
    machine_file = config.machine_config_path()
    machine_file.parent.mkdir(parents=True)
    machine_file.write_text(
        '[spine]\nendpoint = "https://file.example/sync"\nread_timeout = 12\nget_attempts = 5\n'
        '[auth]\nods_code = "FILE1"\n',
        encoding="utf-8",
    )
    registry = FakeRegistry(
        {
            MACHINE_KEY: {
                "SpineEndpoint": ("https://installer.example/sync", REG_SZ),
                "AuthOdsCode": ("MSI01", REG_SZ),
                "SpineReadTimeout": (20, REG_DWORD),
                "TlsCaBundle": ("", REG_SZ),  # an installer property left blank
            },
            POLICY_KEY: {
                "SpineEndpoint": ("https://policy.example/sync", REG_SZ),
                "AuthLockOnCardRemoval": (0, REG_DWORD),
            },
        }
    )
    monkeypatch.setattr(config_merge, "registry_sources", lambda: registry_sources(registry))
    environ = {"CONSENT_DESKTOP__SPINE__CONNECT_TIMEOUT": "4"}

    settings = load_settings(default_sources(environ=environ))

    assert settings.spine.endpoint == "https://policy.example/sync"
    assert settings.source_of("spine.endpoint") == POLICY_SOURCE
    assert settings.auth.lock_on_card_removal is False
    assert settings.source_of("auth.lock_on_card_removal") == POLICY_SOURCE
    assert (settings.auth.ods_code, settings.source_of("auth.ods_code")) == ("MSI01", MACHINE_SOURCE)
    assert (settings.spine.read_timeout, settings.source_of("spine.read_timeout")) == (20.0, MACHINE_SOURCE)
    assert settings.spine.get_attempts == 5
    assert settings.source_of("spine.get_attempts") == f"per-machine file {machine_file}"
    assert settings.ui.text_scale == 1.25
    assert settings.source_of("ui.text_scale") == f"per-user file {user_file}"
    assert (settings.tls.ca_bundle, settings.source_of("tls.ca_bundle")) == (None, "default")
    assert (settings.spine.connect_timeout, settings.source_of("spine.connect_timeout")) == (4.0, "environment")

    rows = {key: (value, source) for key, value, source in describe(settings)}
    assert rows["spine.endpoint"] == ("https://policy.example/sync", POLICY_SOURCE)
    assert rows["auth.ods_code"] == ("MSI01", MACHINE_SOURCE)


@pytest.mark.hazard("HAZ-012")
def test_settings_set_by_policy_are_locked() -> None:
    settings = settings_from(
        {"SpineEndpoint": ("https://installer.example/sync", REG_SZ), "AuthOdsCode": ("MSI01", REG_SZ)},
        {"SpineEndpoint": ("https://policy.example/sync", REG_SZ), "AppLogLevel": ("DEBUG", REG_SZ)},
    )
    assert locked_by_policy(settings, "spine.endpoint")
    assert locked_by_policy(settings, "app.log_level")
    assert not locked_by_policy(settings, "auth.ods_code")  # the installer's value: IT may change it locally
    assert not locked_by_policy(settings, "spine.read_timeout")  # default
    with pytest.raises(KeyError):
        locked_by_policy(settings, "spine.endpiont")


@pytest.mark.hazard("HAZ-012")
def test_registry_values_are_converted_like_any_other_layer() -> None:
    settings = settings_from(
        {
            "spineendpoint": ("https://installer.example/sync", REG_SZ),  # value names are case-insensitive
            "AuthChangeConsentActivities": ("B0020, B0018", REG_SZ),
            "TlsCaBundle": (r"C:\ProgramData\NHS\ConsentDesktop\spine-ca.pem", REG_SZ),
            "AuthAllowVirtualReaders": (1, REG_DWORD),
            "SpineGetAttempts": (2, REG_DWORD),
        }
    )
    assert settings.spine.endpoint == "https://installer.example/sync"
    assert settings.auth.change_consent_activities == ("B0020", "B0018")
    assert settings.tls.ca_bundle is not None
    assert PureWindowsPath(settings.tls.ca_bundle) == PureWindowsPath(r"C:\ProgramData\NHS\ConsentDesktop\spine-ca.pem")
    assert settings.auth.allow_virtual_readers is True
    assert settings.spine.get_attempts == 2


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("SpineReadTimeout", ("30", REG_SZ), "expected a REG_DWORD number, found REG_SZ"),
        ("AuthLockOnCardRemoval", (2, REG_DWORD), "expected 1 (on) or 0 (off), found 2"),
        ("SpineEndpoint", (1, REG_DWORD), "expected REG_SZ text, found REG_DWORD"),
        ("SpineEndpoint", ("%SPINE%", REG_EXPAND_SZ), "expected REG_SZ text, found REG_EXPAND_SZ"),
        ("AuthChangeConsentActivities", (["B0020", "B0018"], REG_MULTI_SZ), "found REG_MULTI_SZ"),
        ("TlsCaBundle", (r"certs\ca.pem", REG_SZ), "expected a full path"),
        ("SpineEndpiont", ("https://x.example", REG_SZ), "is not a setting this app knows"),
        ("UiTextScale", (2, REG_DWORD), "is a per-user preference"),
    ],
)
@pytest.mark.hazard("HAZ-012")
def test_a_bad_installer_value_names_the_registry_value(key: str, value: tuple[object, int], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from({key: value})
    error = caught.value
    assert error.source == f"{MACHINE_SOURCE}, registry value {key!r}"
    assert problem in error.problem
    assert f"registry value {key!r}" in error.user_message
    assert "Ask your IT team" in error.user_message


def test_group_policy_offers_only_its_own_settings() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from({}, {"AppDataDir": (r"C:\ProgramData\Consent", REG_SZ)})
    assert caught.value.source == f"{POLICY_SOURCE}, registry value 'AppDataDir'"
    assert caught.value.key == "app.data_dir"
    assert "not offered by the Group Policy template" in caught.value.problem
    # The same value from the installer's key is accepted.
    settings = settings_from({"AppDataDir": (r"C:\ProgramData\Consent", REG_SZ)})
    assert settings.source_of("app.data_dir") == MACHINE_SOURCE


def test_an_unreadable_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(registry_sources(UnreadableRegistry()))
    assert caught.value.source == MACHINE_SOURCE
    assert "cannot be read (Access is denied)" in caught.value.problem


def test_one_registry_name_per_setting_both_ways() -> None:
    names = registry_value_names()
    assert value_name("spine.endpoint") == "SpineEndpoint"
    assert value_name("spine.spine_asid") == "SpineAsid"
    assert value_name("auth.pkcs11_module") == "AuthPkcs11Module"
    assert len({name.casefold() for name in names.values()}) == len(names)
    assert set(names) == {key for key, spec in SPECS.items() if not spec.user}
    assert set(names) >= POLICY_SETTINGS
    assert set(INSTALLER_PROPERTIES.values()) <= set(names)


@pytest.mark.skipif(sys.platform == "win32", reason="off Windows the machine layer is a file")
def test_off_windows_the_machine_layer_is_the_site_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    assert registry_sources() == []
    names = [source.name for source in default_sources(environ={})]
    site_file = Path(platformdirs.site_config_dir(config.APP_NAME, config.APP_AUTHOR)) / "config.toml"
    assert names == [f"per-user file {config.user_config_path()}", f"per-machine file {site_file}", "environment"]

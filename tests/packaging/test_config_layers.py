r"""Settings layers on a clinical workstation: Group Policy > environment > --config > installer settings >
machine file > user file > defaults, and the environment and --config never set a security setting outside
training mode unless machine policy allows developer overrides.

The registry is a fake here (``RegistryReader``); the Windows workflow checks the real one after a real install.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path, PureWindowsPath

import pytest

from consent_desktop import cli
from consent_desktop.config import (
    SPECS,
    EnvironmentSource,
    Settings,
    default_sources,
    describe,
    load_settings,
    locked_by_policy,
    setting_states,
)
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


def platform_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The per-user and per-machine files' paths, spelled out rather than asked of the code under test."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home-config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "site-config"))
    user_file = tmp_path / "home-config" / "consent-desktop" / "config.toml"
    machine_file = tmp_path / "site-config" / "consent-desktop" / "config.toml"
    for path in (user_file, machine_file):
        path.parent.mkdir(parents=True)
    return user_file, machine_file


def with_registry(monkeypatch: pytest.MonkeyPatch, registry: FakeRegistry) -> None:
    """A normal start (``default_sources``) reads this fake registry."""
    monkeypatch.setattr(config_merge, "registry_sources", lambda: registry_sources(registry))


@pytest.mark.skipif(sys.platform == "win32", reason="the file paths are the XDG ones")
@pytest.mark.hazard("HAZ-012")
def test_every_layer_in_its_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_file, machine_file = platform_folders(tmp_path, monkeypatch)
    user_file.write_text("[ui]\ntext_scale = 1.25\n", encoding="utf-8")
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
    with_registry(monkeypatch, registry)
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
    assert value_name("app.allow_developer_overrides") == "AppAllowDeveloperOverrides"
    assert len({name.casefold() for name in names.values()}) == len(names)
    assert "ui.text_scale" not in names  # a per-user preference has no machine value
    assert {"app.data_dir", "auth.softhsm2_conf", "spine.get_attempts"} <= set(names)
    assert len(names) == len(SPECS) - 1
    assert set(names) >= POLICY_SETTINGS
    assert set(INSTALLER_PROPERTIES.values()) <= set(names)


@pytest.mark.skipif(sys.platform == "win32", reason="off Windows the machine layer is a file")
def test_off_windows_the_machine_layer_is_the_site_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_file, machine_file = platform_folders(tmp_path, monkeypatch)
    assert registry_sources() == []
    names = [source.name for source in default_sources(environ={})]
    assert names == [f"per-user file {user_file}", f"per-machine file {machine_file}", "environment"]
    named = tmp_path / "dev.toml"
    names = [source.name for source in default_sources(named, environ={})]
    assert names[-2:] == [f"--config file {named}", "environment"]  # the machine file is still read


# --- machine policy over every override ---------------------------------------------------------------------------

# The list, spelled out here so that a declaration losing its "security" flag fails this file.
SECURITY_SETTINGS = {
    "spine.endpoint": "https://elsewhere.invalid/sync",
    "spine.acs_url": "https://elsewhere.invalid/acs",
    "spine.pds_url": "https://elsewhere.invalid/pds",
    "auth.cis_url": "https://elsewhere.invalid/cis",
    "cis2.issuer": "https://elsewhere.invalid/oidc",
    "cis2.client_id": "someone-elses-client",
    "tls.ca_bundle": "/elsewhere/ca.pem",
    "tls.client_cert": "/elsewhere/client.pem",
    "tls.client_key": "/elsewhere/client.key",
    "auth.card_ca_bundle": "/elsewhere/card-ca.pem",
    "cis2.ca_bundle": "/elsewhere/cis2-ca.pem",
    "auth.provider": "cis2",
    "auth.lock_on_card_removal": "false",
    "auth.allow_virtual_readers": "true",
    "auth.pkcs11_module": "/elsewhere/pkcs11.so",
    "app.data_dir": "/elsewhere/audit",
}
POLICY_ENDPOINT = "https://policy.example/sync"


def env_name(key: str) -> str:
    return "CONSENT_DESKTOP__" + key.upper().replace(".", "__")


def test_the_security_settings_are_the_ones_declared_so() -> None:
    assert {key for key, spec in SPECS.items() if spec.security} == set(SECURITY_SETTINGS)
    assert {key for key, spec in SPECS.items() if spec.policy_only} == {"app.allow_developer_overrides"}


@pytest.mark.hazard("HAZ-012")
@pytest.mark.parametrize("key", sorted(SECURITY_SETTINGS))
@pytest.mark.parametrize("route", ["environment", "--config"])
def test_overrides_never_set_a_security_setting_outside_training(
    key: str, route: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, machine_file = platform_folders(tmp_path, monkeypatch)
    machine_file.write_text('[spine]\nendpoint = "https://machine.example/sync"\n', encoding="utf-8")
    with_registry(monkeypatch, FakeRegistry({}))
    section, name = key.split(".")
    config_file = tmp_path / "elsewhere.toml"
    config_file.write_text(f'[{section}]\n{name} = "{SECURITY_SETTINGS[key]}"\n', encoding="utf-8")
    environ = {env_name(key): SECURITY_SETTINGS[key]}

    if route == "environment":
        settings = load_settings(default_sources(environ=environ))
    else:
        settings = load_settings(default_sources(config_file, environ={}))

    assert settings.value(key) == (Settings().value(key) if key != "spine.endpoint" else "https://machine.example/sync")
    assert settings.source_of(key) == ("default" if key != "spine.endpoint" else f"per-machine file {machine_file}")
    [ignored] = settings.ignored
    assert (ignored.key, ignored.reason) == (key, config_merge.SECURITY_SETTING)
    assert ignored.source == ("environment" if route == "environment" else f"--config file {config_file}")


@pytest.mark.hazard("HAZ-012")
def test_policy_beats_the_environment_and_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform_folders(tmp_path, monkeypatch)
    policy = {"SpineEndpoint": (POLICY_ENDPOINT, REG_SZ), "AppLogLevel": ("WARNING", REG_SZ)}
    with_registry(monkeypatch, FakeRegistry({POLICY_KEY: policy}))
    config_file = tmp_path / "elsewhere.toml"
    config_file.write_text(
        '[spine]\nendpoint = "https://config.invalid/sync"\nread_timeout = 7\n[app]\nlog_level = "DEBUG"\n',
        encoding="utf-8",
    )
    environ = {
        "CONSENT_DESKTOP__SPINE__ENDPOINT": "https://env.invalid/sync",
        "CONSENT_DESKTOP__APP__LOG_LEVEL": "ERROR",
    }

    settings = load_settings(default_sources(config_file, environ))

    assert (settings.spine.endpoint, settings.source_of("spine.endpoint")) == (POLICY_ENDPOINT, POLICY_SOURCE)
    assert (settings.app.log_level, settings.source_of("app.log_level")) == ("WARNING", POLICY_SOURCE)
    # where policy is silent, --config is honoured for an ordinary setting
    assert (settings.spine.read_timeout, settings.source_of("spine.read_timeout")) == (
        7.0,
        f"--config file {config_file}",
    )
    assert {(o.key, o.source, o.reason) for o in settings.ignored} == {
        ("spine.endpoint", f"--config file {config_file}", config_merge.SECURITY_SETTING),
        ("spine.endpoint", "environment", config_merge.SECURITY_SETTING),
        ("app.log_level", f"--config file {config_file}", config_merge.POLICY_SETS_IT),
        ("app.log_level", "environment", config_merge.POLICY_SETS_IT),
    }


@pytest.mark.hazard("HAZ-012")
def test_overrides_set_security_settings_in_training_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform_folders(tmp_path, monkeypatch)
    with_registry(monkeypatch, FakeRegistry({}))
    config_file = tmp_path / "client.toml"  # as the sandbox writes it: training mode, loopback addresses
    config_file.write_text(
        '[spine]\nendpoint = "https://127.0.0.1:9443/sync"\n[app]\ntraining_mode = true\n', encoding="utf-8"
    )
    environ = {"CONSENT_DESKTOP__AUTH__LOCK_ON_CARD_REMOVAL": "false"}

    settings = load_settings(default_sources(config_file, environ))

    assert settings.app.training_mode
    assert (settings.spine.endpoint, settings.source_of("spine.endpoint")) == (
        "https://127.0.0.1:9443/sync",
        f"--config file {config_file}",
    )
    assert (settings.auth.lock_on_card_removal, settings.source_of("auth.lock_on_card_removal")) == (
        False,
        "environment",
    )
    assert settings.ignored == ()


@pytest.mark.hazard("HAZ-012")
def test_policy_holds_training_mode_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform_folders(tmp_path, monkeypatch)
    with_registry(monkeypatch, FakeRegistry({POLICY_KEY: {"AppTrainingMode": (0, REG_DWORD)}}))
    environ = {"CONSENT_DESKTOP__APP__TRAINING_MODE": "true", "CONSENT_DESKTOP__SPINE__ENDPOINT": "https://127.0.0.1/s"}

    settings = load_settings(default_sources(environ=environ))

    assert not settings.app.training_mode
    assert settings.spine.endpoint == ""
    assert {(o.key, o.reason) for o in settings.ignored} == {
        ("app.training_mode", config_merge.POLICY_SETS_IT),
        ("spine.endpoint", config_merge.SECURITY_SETTING),
    }


@pytest.mark.hazard("HAZ-012")
@pytest.mark.parametrize("registry_key", [POLICY_KEY, MACHINE_KEY], ids=["group-policy", "installer"])
def test_a_machine_policy_can_allow_developer_overrides(
    registry_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform_folders(tmp_path, monkeypatch)
    allow = {"AppAllowDeveloperOverrides": (1, REG_DWORD)}
    policy = {"AuthCisUrl": ("https://cis.policy.example/", REG_SZ)}
    keys = {POLICY_KEY: policy} | (
        {MACHINE_KEY: allow} if registry_key == MACHINE_KEY else {POLICY_KEY: policy | allow}
    )
    with_registry(monkeypatch, FakeRegistry(keys))
    environ = {"CONSENT_DESKTOP__SPINE__ENDPOINT": "https://dev.example/sync", "CONSENT_DESKTOP__AUTH__CIS_URL": "x"}

    settings = load_settings(default_sources(environ=environ))

    assert settings.app.allow_developer_overrides
    assert (settings.spine.endpoint, settings.source_of("spine.endpoint")) == (
        "https://dev.example/sync",
        "environment",
    )
    assert settings.auth.cis_url == "https://cis.policy.example/"  # what policy sets still wins
    assert [(o.key, o.reason) for o in settings.ignored] == [("auth.cis_url", config_merge.POLICY_SETS_IT)]


@pytest.mark.hazard("HAZ-012")
def test_only_the_machine_may_allow_developer_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    platform_folders(tmp_path, monkeypatch)
    with_registry(monkeypatch, FakeRegistry({}))
    config_file = tmp_path / "dev.toml"
    config_file.write_text("[app]\nallow_developer_overrides = true\n", encoding="utf-8")
    environ = {
        "CONSENT_DESKTOP__APP__ALLOW_DEVELOPER_OVERRIDES": "true",
        "CONSENT_DESKTOP__SPINE__ENDPOINT": "https://dev.example/sync",
    }

    settings = load_settings(default_sources(config_file, environ))

    assert not settings.app.allow_developer_overrides
    assert settings.spine.endpoint == ""
    assert {(o.key, o.source, o.reason) for o in settings.ignored} == {
        ("app.allow_developer_overrides", f"--config file {config_file}", config_merge.POLICY_ONLY),
        ("app.allow_developer_overrides", "environment", config_merge.POLICY_ONLY),
        ("spine.endpoint", "environment", config_merge.SECURITY_SETTING),
    }


@pytest.mark.hazard("HAZ-012")
def test_the_settings_view_learns_value_source_lock_and_what_was_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform_folders(tmp_path, monkeypatch)
    with_registry(monkeypatch, FakeRegistry({POLICY_KEY: {"SpineEndpoint": (POLICY_ENDPOINT, REG_SZ)}}))
    environ = {
        "CONSENT_DESKTOP__SPINE__ENDPOINT": "https://env.invalid/sync",
        "CONSENT_DESKTOP__SPINE__READ_TIMEOUT": "9",
    }

    states = {state.key: state for state in setting_states(load_settings(default_sources(environ=environ)))}

    endpoint = states["spine.endpoint"]
    assert (endpoint.value, endpoint.source, endpoint.locked_by_policy) == (POLICY_ENDPOINT, POLICY_SOURCE, True)
    assert [(o.source, o.reason) for o in endpoint.ignored] == [("environment", config_merge.SECURITY_SETTING)]
    timeout = states["spine.read_timeout"]
    assert (timeout.value, timeout.source, timeout.locked_by_policy, timeout.ignored) == (9.0, "environment", False, ())
    assert list(states)[:2] == ["spine.endpoint", "spine.acs_url"]  # declaration order


@pytest.mark.hazard("HAZ-012")
def test_diagnose_names_every_ignored_override_but_not_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a new user would try it: policy sets the endpoint; an environment variable and a --config file point
    elsewhere; nothing changes, and diagnose says so."""
    platform_folders(tmp_path, monkeypatch)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the CLI's diagnostic log
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    with_registry(monkeypatch, FakeRegistry({POLICY_KEY: {"SpineEndpoint": ("https://spine.invalid/sync", REG_SZ)}}))
    config_file = tmp_path / "elsewhere.toml"
    config_file.write_text('[tls]\nca_bundle = "/tmp/their-ca.pem"\n[spine]\nendpoint = "https://config.invalid/s"\n')
    monkeypatch.setenv("CONSENT_DESKTOP__SPINE__ENDPOINT", "https://env.invalid/sync")

    cli.main(["--config", str(config_file), "diagnose", "--json"])
    report = json.loads(capsys.readouterr().out)
    cli.main(["--config", str(config_file), "diagnose"])
    text = capsys.readouterr().out

    rows = {row["key"]: row for row in report["settings"]}
    assert (rows["spine.endpoint"]["value"], rows["spine.endpoint"]["source"]) == (
        "https://spine.invalid/sync",
        POLICY_SOURCE,
    )
    assert (rows["tls.ca_bundle"]["value"], rows["tls.ca_bundle"]["source"]) == ("", "default")
    assert {(row["key"], row["source"]) for row in report["ignored"]} == {
        ("spine.endpoint", f"--config file {config_file}"),
        ("spine.endpoint", "environment"),
        ("tls.ca_bundle", f"--config file {config_file}"),
    }
    assert "Ignored overrides (not applied):" in text
    assert "tls.ca_bundle" in text.split("Ignored overrides")[1]
    for value in ("env.invalid", "config.invalid", "their-ca.pem"):
        assert value not in text and value not in json.dumps(report)


@pytest.mark.hazard("HAZ-012")
def test_an_ignored_override_is_logged_by_setting_name_only(caplog: pytest.LogCaptureFixture) -> None:
    environ = {"CONSENT_DESKTOP__TLS__CA_BUNDLE": "/home/someone/their-ca.pem"}
    with caplog.at_level(logging.WARNING, logger="consent_desktop.config"):
        load_settings([EnvironmentSource(environ)])
    [record] = caplog.records
    assert "tls.ca_bundle" in record.getMessage()
    assert "their-ca" not in record.getMessage() and "someone" not in record.getMessage()

from __future__ import annotations

from pathlib import Path

import pytest

from consent_desktop.config import (
    ConfigSource,
    EnvironmentSource,
    Layer,
    MappingSource,
    TomlFileSource,
    describe,
    load_settings,
)
from consent_desktop.config.registry import MACHINE_KEY, REG_SZ, registry_sources
from consent_desktop.controller.assembly import assemble
from consent_desktop.controller.diagnose import diagnose
from consent_desktop.controller.settings_check import check_files
from consent_desktop.domain.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.hazard("HAZ-005", "HAZ-007")
def test_defaults_when_nothing_is_configured(tmp_path: Path) -> None:
    settings = load_settings([TomlFileSource(tmp_path / "missing.toml", "per-machine file")])
    assert settings.spine.read_timeout == 30.0
    assert settings.auth.lock_on_card_removal is True
    assert settings.auth.change_consent_activities == ("B0020",)
    assert settings.source_of("spine.read_timeout") == "default"


@pytest.mark.hazard("HAZ-012")
def test_later_layers_win_and_each_value_says_where_it_came_from(tmp_path: Path) -> None:
    user = write(tmp_path / "user.toml", "[ui]\ntext_scale = 1.5\n")
    machine = write(tmp_path / "machine.toml", '[spine]\nendpoint = "https://a.example/sync"\nread_timeout = 12\n')
    env = {"CONSENT_DESKTOP__SPINE__READ_TIMEOUT": "3.5", "UNRELATED": "x"}
    settings = load_settings(
        [
            TomlFileSource(user, "per-user file", Layer.USER),
            TomlFileSource(machine, "per-machine file"),
            EnvironmentSource(env),
        ]
    )
    assert settings.ui.text_scale == 1.5
    assert settings.spine.acs_endpoint == "https://a.example/sync"
    assert settings.spine.pds_endpoint == "https://a.example/sync"
    assert settings.spine.read_timeout == 3.5
    assert settings.source_of("spine.read_timeout") == "environment"
    assert settings.source_of("spine.endpoint") == f"per-machine file {machine}"
    assert settings.source_of("ui.text_scale") == f"per-user file {user}"
    rows = {key: (value, source) for key, value, source in describe(settings)}
    assert rows["spine.endpoint"] == ("https://a.example/sync", f"per-machine file {machine}")
    assert rows["spine.read_timeout"] == (3.5, "environment")
    assert rows["tls.ca_bundle"] == (None, "default")


def test_per_service_overrides_beat_the_shared_endpoint() -> None:
    settings = load_settings(
        [
            MappingSource(
                "test", {"spine.endpoint": "https://e", "spine.pds_url": "https://pds", "spine.spine_asid": "1"}
            )
        ]
    )
    assert (settings.spine.acs_endpoint, settings.spine.pds_endpoint) == ("https://e", "https://pds")
    assert settings.spine.acs_receiver_asid == "1"


def test_relative_paths_in_a_file_are_relative_to_that_file(tmp_path: Path) -> None:
    machine = write(
        tmp_path / "client.toml",
        '[tls]\nca_bundle = "pki/ca.pem"\nclient_cert = ""\n[auth]\npkcs11_module = "lib/pkcs11.so"\n',
    )
    settings = load_settings([TomlFileSource(machine, "per-machine file")])
    assert settings.tls.ca_bundle == tmp_path / "pki" / "ca.pem"
    assert settings.auth.pkcs11_module == tmp_path / "lib" / "pkcs11.so"
    assert settings.tls.client_cert is None


class Registry:
    def __init__(self, values: dict[str, tuple[object, int]]) -> None:
        self.machine = values

    def values(self, key: str) -> dict[str, tuple[object, int]]:
        return self.machine if key == MACHINE_KEY else {}


MODULE = "/usr/lib/middleware/pkcs11.so"
WINDOWS_MODULE = r"C:\Program Files\Middleware\pkcs11.dll"
QUOTED = "is in quotes: give the path without them"


def path_sources(route: str, value: str, folder: Path) -> list[ConfigSource]:
    """``auth.pkcs11_module`` set to ``value`` by one route."""
    if route == "code":
        return [MappingSource("machine settings", {"auth.pkcs11_module": value})]
    if route == "environment":  # training mode, so that the environment may set a security setting at all
        return [
            MappingSource("machine settings", {"app.training_mode": True}),
            EnvironmentSource({"CONSENT_DESKTOP__AUTH__PKCS11_MODULE": value}),
        ]
    if route == "file":
        file = write(folder / "machine.toml", f"[auth]\npkcs11_module = '''{value}'''\n")
        return [TomlFileSource(file, "per-machine file")]
    return registry_sources(Registry({"AuthPkcs11Module": (value, REG_SZ)}))


@pytest.mark.hazard("HAZ-012")
@pytest.mark.parametrize(
    ("route", "value", "source", "problem"),
    [
        (
            "code",
            "lib/pkcs11.so",
            "machine settings",
            "expected a full path such as /usr/lib/..., found 'lib/pkcs11.so'",
        ),
        ("environment", f'"{MODULE}"', "environment", f"{QUOTED}, found '\"{MODULE}\"'"),
        ("environment", "pkcs11.so", "environment", "expected a full path"),
        ("file", f'"{MODULE}"', "per-machine file", QUOTED),
        ("registry", f'"{WINDOWS_MODULE}"', "machine settings from the installer", QUOTED),
        (
            "registry",
            r"Middleware\pkcs11.dll",
            "machine settings from the installer",
            "expected a full path such as C:",
        ),
    ],
)
def test_a_relative_or_quoted_path_is_refused_naming_setting_and_source(
    route: str, value: str, source: str, problem: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(path_sources(route, value, tmp_path))
    assert refused.value.key == "auth.pkcs11_module"
    assert refused.value.source.startswith(source)
    assert problem in refused.value.problem
    assert "auth.pkcs11_module" in refused.value.user_message


@pytest.mark.parametrize("route", ["code", "environment", "file", "registry"])
def test_a_full_path_is_taken_as_it_is(route: str, tmp_path: Path) -> None:
    value = WINDOWS_MODULE if route == "registry" else MODULE
    assert str(load_settings(path_sources(route, value, tmp_path)).auth.pkcs11_module) == value


@pytest.mark.hazard("HAZ-012")
def test_a_middleware_path_that_names_no_file_stops_the_start_and_diagnose_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "not-installed" / "pkcs11.so"
    source = f"per-machine file {tmp_path / 'config.toml'}"
    settings = load_settings([MappingSource(source, {"auth.pkcs11_module": str(missing)})])

    with pytest.raises(ConfigError) as refused:
        check_files(settings)
    assert (refused.value.key, refused.value.source) == ("auth.pkcs11_module", source)
    assert refused.value.problem == f"names no file ({missing}): is the smartcard middleware installed?"
    [check] = [c for c in diagnose(settings, timeout=0.1).checks if "auth.pkcs11_module" in c.name]
    assert not check.ok and check.detail == refused.value.problem

    missing.parent.mkdir()
    missing.write_bytes(b"")
    check_files(settings)  # there now: no complaint


@pytest.mark.hazard("HAZ-012")
def test_the_workstation_is_not_built_with_a_missing_middleware(tmp_path: Path) -> None:
    live = {
        "spine.endpoint": "https://spine.example.nhs.uk/sync",
        "spine.spine_asid": "928942012545",
        "spine.local_asid": "200000001162",
        "auth.cis_url": "https://cis.example.nhs.uk/login",
        "auth.pkcs11_module": str(tmp_path / "pkcs11.so"),
    }
    with pytest.raises(ConfigError) as refused:
        assemble(load_settings([MappingSource("machine settings", live)]))
    assert refused.value.key == "auth.pkcs11_module" and "names no file" in refused.value.problem


@pytest.mark.hazard("HAZ-012")
@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[spine]\nread_timeout = "soon"\n', "spine.read_timeout", "expected a number"),
        ("[spine]\nread_timeout = -1\n", "spine.read_timeout", "zero or more"),
        ('[auth]\nlock_on_card_removal = "maybe"\n', "auth.lock_on_card_removal", "true or false"),
        ('[spine]\nendpont = "https://typo"\n', "spine.endpont", "not a setting this app knows"),
        ("[auth]\nchange_consent_activities = [1, 2]\n", "auth.change_consent_activities", "list of text"),
        ("[spine]\nget_attempts = true\n", "spine.get_attempts", "whole number"),
    ],
)
def test_a_bad_value_names_the_file_and_the_key(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = write(tmp_path / "machine.toml", text)
    with pytest.raises(ConfigError) as raised:
        load_settings([TomlFileSource(path, "per-machine file")])
    assert raised.value.key == key
    assert str(path) in raised.value.user_message
    assert problem in raised.value.user_message


@pytest.mark.hazard("HAZ-012")
def test_a_broken_file_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "machine.toml", "[spine\nendpoint = 1")
    with pytest.raises(ConfigError) as raised:
        load_settings([TomlFileSource(path, "per-machine file")])
    assert str(path) in raised.value.user_message and "not valid TOML" in raised.value.user_message


@pytest.mark.hazard("HAZ-010", "HAZ-012")
def test_users_may_set_only_interface_preferences(tmp_path: Path) -> None:
    path = write(tmp_path / "user.toml", '[spine]\nendpoint = "https://elsewhere"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings([TomlFileSource(path, "per-user file", Layer.USER)])
    assert "only user-interface preferences" in raised.value.user_message


@pytest.mark.hazard("HAZ-012")
def test_unknown_environment_override_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings([EnvironmentSource({"CONSENT_DESKTOP__SPINE__NOPE": "1"})])
    assert raised.value.key == "spine.nope"

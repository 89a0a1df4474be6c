from __future__ import annotations

from pathlib import Path

import pytest

from consent_desktop.config import (
    SPECS,
    EnvironmentSource,
    Layer,
    MappingSource,
    TomlFileSource,
    describe,
    load_settings,
)
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
    assert set(rows) == set(SPECS)
    assert rows["spine.endpoint"] == ("https://a.example/sync", f"per-machine file {machine}")


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
    machine = write(tmp_path / "client.toml", '[tls]\nca_bundle = "pki/ca.pem"\nclient_cert = ""\n')
    settings = load_settings([TomlFileSource(machine, "per-machine file")])
    assert settings.tls.ca_bundle == (tmp_path / "pki" / "ca.pem").resolve()
    assert settings.tls.client_cert is None


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

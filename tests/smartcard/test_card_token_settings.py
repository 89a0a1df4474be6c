"""Building the card token from settings: what each missing or misplaced setting tells IT."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from consent_desktop.auth.pkcs11_token import card_token_from_settings
from consent_desktop.config import AppSettings, AuthSettings, Settings
from consent_desktop.domain.errors import ConfigError
from consent_desktop.sandbox.softcard import SoftCards
from consent_desktop.sandbox.users import GP, TRAINING_PIN


def _settings(*, training: bool = False, **auth: Any) -> Settings:
    return Settings(auth=AuthSettings(**auth), app=AppSettings(training_mode=training))


@pytest.mark.hazard("HAZ-012")
def test_no_middleware_configured_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        card_token_from_settings(_settings(card_ca_bundle=tmp_path / "ca.pem"))
    assert refused.value.key == "auth.pkcs11_module"


@pytest.mark.hazard("HAZ-012")
def test_no_card_ca_bundle_names_the_setting() -> None:
    with pytest.raises(ConfigError) as refused:
        card_token_from_settings(_settings(pkcs11_module="/usr/lib/some-middleware.so"))
    assert refused.value.key == "auth.card_ca_bundle"


@pytest.mark.hazard("HAZ-010")
def test_a_software_card_outside_training_mode_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOFTHSM2_CONF", raising=False)
    settings = _settings(pkcs11_module="/usr/lib/softhsm/libsofthsm2.so", softhsm2_conf=tmp_path / "softhsm2.conf")

    with pytest.raises(ConfigError) as refused:
        card_token_from_settings(settings)

    assert refused.value.key == "auth.softhsm2_conf"
    assert "SOFTHSM2_CONF" not in os.environ


@pytest.mark.smartcard
def test_training_mode_points_softhsm2_at_the_software_cards(
    soft_cards: SoftCards, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOFTHSM2_CONF")
    settings = _settings(
        training=True,
        pkcs11_module=str(soft_cards.module_path),
        card_ca_bundle=soft_cards.card_ca_bundle,
        softhsm2_conf=soft_cards.conf_path,
    )

    token = card_token_from_settings(settings)
    try:
        assert os.environ["SOFTHSM2_CONF"] == str(soft_cards.conf_path)
        assert token.login(bytearray(TRAINING_PIN.encode()), GP.token_label).user_id == GP.user_id
    finally:
        token.close()

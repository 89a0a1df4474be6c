"""CIS2 chosen by ``auth.provider`` and driven through the workstation and the GUI's controller, with the
sandbox's SoftHSM2 software cards as the card in the reader (read through PKCS#11 without a PIN)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from consent_desktop.auth.session import SessionState
from consent_desktop.auth.training_presence import TrainingPresence
from consent_desktop.config import Settings, TomlFileSource, load_settings
from consent_desktop.controller.assembly import assemble
from consent_desktop.controller.controller import Controller
from consent_desktop.controller.workstation import Workstation
from consent_desktop.domain.errors import ConfigError, SignInFailed
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.users import GP, RECEPTIONIST, TRAINING_PIN
from tests.cis2.conftest import PlayedBrowser

NHS = NhsNumber.parse("9434765919")


def card_sandbox_settings(sandbox: Sandbox, tmp_path: Path, provider: str = "cis2") -> Settings:
    settings = load_settings([TomlFileSource(sandbox.data.client_config, "client.toml")])
    return dataclasses.replace(
        settings,
        auth=dataclasses.replace(settings.auth, provider=provider),
        app=dataclasses.replace(settings.app, data_dir=tmp_path / "data"),
    )


@pytest.fixture
def workstation(card_sandbox: Sandbox, tmp_path: Path) -> Iterator[Workstation]:
    made = assemble(card_sandbox_settings(card_sandbox, tmp_path), browser=PlayedBrowser(card_sandbox))
    made.start()
    yield made
    made.close()


def training_card(workstation: Workstation) -> TrainingPresence:
    presence = workstation.parts.presence
    assert isinstance(presence, TrainingPresence)
    return presence


def test_the_sandbox_client_settings_switch_to_cis2_and_work(workstation: Workstation) -> None:
    assert workstation.parts.sign_in.provider == "cis2"
    assert workstation.sign_in() is SessionState.ACTIVE
    assert workstation.load_consent(NHS).choice.value == "ask"
    signed_in = [e.user_id for e in workstation.parts.audit.entries("") if e.event == "sign-in"]
    assert signed_in == [RECEPTIONIST.user_id]


def test_the_software_card_of_another_user_refuses_the_sign_in(workstation: Workstation) -> None:
    training_card(workstation).insert(GP.token_label)  # the GP's card is in; the receptionist signs in
    with pytest.raises(SignInFailed, match="belongs to someone other than"):
        workstation.sign_in(token_label=GP.token_label)
    assert workstation.session.state is SessionState.SIGNED_OUT


@pytest.mark.hazard("HAZ-012")
def test_an_unknown_provider_is_a_settings_error(card_sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"auth\.provider"):
        assemble(card_sandbox_settings(card_sandbox, tmp_path, provider="saml"))


def test_the_controller_names_the_provider_and_signs_in_without_a_pin(
    card_sandbox: Sandbox, qtbot: QtBot, tmp_path: Path
) -> None:
    browser = PlayedBrowser(card_sandbox)
    controller = Controller(assemble(card_sandbox_settings(card_sandbox, tmp_path), browser=browser))
    with qtbot.waitSignal(controller.card_status, timeout=5000):
        controller.start()
    try:
        assert (controller.provider, controller.provider_name, controller.sign_in_needs_pin) == (
            "cis2",
            "NHS CIS2 Authentication",
            False,
        )
        active = lambda change: change.state is SessionState.ACTIVE  # noqa: E731
        with qtbot.waitSignal(controller.session_changed, timeout=10000, check_params_cb=active):
            controller.sign_in()
        card = controller.training_card
        assert card is not None
        with qtbot.waitSignal(controller.session_changed, check_params_cb=lambda c: c.state is SessionState.LOCKED):
            card.remove()
        card.insert(RECEPTIONIST.token_label)
        with qtbot.waitSignal(controller.session_changed, timeout=5000, check_params_cb=active):
            controller.unlock(bytearray(TRAINING_PIN.encode()))
        assert card_sandbox.cis2 is not None and card_sandbox.cis2.live_sign_ins(RECEPTIONIST.user_id) == 1
        signed_out = lambda change: change.state is SessionState.SIGNED_OUT  # noqa: E731
        with qtbot.waitSignal(controller.session_changed, timeout=5000, check_params_cb=signed_out):
            controller.sign_out()
        qtbot.waitUntil(
            lambda: card_sandbox.cis2 is not None and not card_sandbox.cis2.live_sign_ins(RECEPTIONIST.user_id)
        )
    finally:
        controller.shutdown()


def test_the_controller_cancels_a_sign_in_waiting_for_the_browser(
    card_sandbox: Sandbox, qtbot: QtBot, tmp_path: Path
) -> None:
    idle_browser = PlayedBrowser(card_sandbox, user=None)
    controller = Controller(assemble(card_sandbox_settings(card_sandbox, tmp_path), browser=idle_browser))
    with qtbot.waitSignal(controller.card_status, timeout=5000):
        controller.start()
    try:
        controller.sign_in()
        qtbot.waitUntil(lambda: bool(idle_browser.opened), timeout=5000)
        with qtbot.waitSignal(controller.failed, timeout=5000) as failed:
            controller.cancel_sign_in()
        assert failed.args[0].user_message == "Sign-in was cancelled." and failed.args[1] == "sign in"
        assert controller.session_state is SessionState.SIGNED_OUT
    finally:
        controller.shutdown()


def test_the_cis_provider_still_asks_for_the_pin(card_sandbox: Sandbox, qtbot: QtBot, tmp_path: Path) -> None:
    controller = Controller(assemble(card_sandbox_settings(card_sandbox, tmp_path, provider="cis")))
    with qtbot.waitSignal(controller.card_status, timeout=5000):
        controller.start()
    try:
        assert (controller.provider, controller.sign_in_needs_pin) == ("cis", True)
        assert controller.provider_name == "NHS smartcard (CIS), legacy route"
        assert "28 February 2027" in controller.provider_notice
    finally:
        controller.shutdown()

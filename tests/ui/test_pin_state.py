"""Before anyone types a passcode, the screen says what the card says: a final try is warned of, and a locked card
gets the unlock guidance and no passcode box at all (SoftHSM2 has no counter, so the card's answer is scripted)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from consent_desktop.auth.card import PinState
from consent_desktop.config import MappingSource, TomlFileSource, load_settings
from consent_desktop.controller.assembly import assemble
from consent_desktop.controller.controller import Controller
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.users import RECEPTIONIST
from consent_desktop.training import training_kit
from consent_desktop.ui.main_window import MainWindow, build_main_window
from consent_desktop.ui.passcode_page import FINAL_TRY

pytestmark = pytest.mark.gui
WAIT_MS = 10_000


class ScriptedPinState:
    """The real software card, except for what it says about its passcode counter."""

    def __init__(self, token: object, state: PinState) -> None:
        self._token = token
        self.state = state

    def pin_state(self, token_label: str | None = None) -> PinState:
        return self.state

    def __getattr__(self, name: str) -> object:
        return getattr(self._token, name)


@pytest.fixture
def window_for(qtbot: QtBot, ui_sandbox: Sandbox, tmp_path: Path) -> Iterator[Callable[[PinState], MainWindow]]:
    made: list[tuple[Controller, MainWindow]] = []

    def make(state: PinState) -> MainWindow:
        settings = load_settings(
            [
                TomlFileSource(ui_sandbox.data.client_config, "sandbox client.toml"),
                MappingSource("test", {"app.data_dir": str(tmp_path / "audit")}),
            ]
        )
        from consent_desktop.auth.pkcs11_token import card_token_from_settings

        token = ScriptedPinState(card_token_from_settings(settings), state)
        controller = Controller(assemble(settings, token=token), progress_delay_ms=100)  # type: ignore[arg-type]
        window = build_main_window(controller, settings, training=training_kit(), preferences_path=tmp_path / "p")
        made.append((controller, window))
        controller.start()
        window.show()
        reader = controller.training_card
        assert reader is not None
        reader.insert(RECEPTIONIST.token_label)
        return window

    yield make
    for controller, window in made:
        controller.shutdown()
        window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.mark.hazard("HAZ-005")
def test_a_final_try_is_warned_of_before_typing(qtbot: QtBot, window_for: Callable[[PinState], MainWindow]) -> None:
    window = window_for(PinState.FINAL_TRY)
    page = window.sign_in
    qtbot.waitUntil(lambda: FINAL_TRY in page.message.message.text(), timeout=WAIT_MS)
    assert page.pin.field.isEnabled()


@pytest.mark.hazard("HAZ-005")
def test_a_locked_card_is_never_offered_an_attempt(qtbot: QtBot, window_for: Callable[[PinState], MainWindow]) -> None:
    window = window_for(PinState.LOCKED)
    page = window.sign_in
    qtbot.waitUntil(lambda: "Registration Authority" in page.message.message.text(), timeout=WAIT_MS)
    assert not page.pin.field.isEnabled() and not page.pin.button.isEnabled()

"""The app as `consent-desktop --sandbox` starts it: the window first, the workstation built behind it, and the
training reader on screen the very one the workstation follows."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from consent_desktop.app import start_app
from consent_desktop.auth.session import SessionState
from consent_desktop.sandbox.users import GP, TRAINING_PIN
from consent_desktop.training import TrainingRun

pytestmark = pytest.mark.gui
WAIT_MS = 15_000


@pytest.mark.hazard("HAZ-010")
def test_training_mode_starts_and_a_card_put_in_on_screen_signs_in(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOFTHSM2_CONF", "")  # the card token sets it for the process; put it back afterwards
    with TrainingRun(tmp_path / "training") as run:
        running = start_app(run.settings, training=run.kit, preferences_path=tmp_path / "preferences.toml")
        controller, window = running.controller, running.window
        try:
            window.show()
            assert window.sign_in.card.text.text().startswith("Checking for your smartcard")
            qtbot.waitUntil(lambda: controller.is_ready, timeout=WAIT_MS)
            panel = window.sign_in.training
            assert panel is not None
            panel.cards.setCurrentIndex(panel.cards.findData(GP.token_label))
            panel.insert.click()
            qtbot.waitUntil(lambda: controller.card_in_reader == GP.token_label, timeout=WAIT_MS)
            qtbot.waitUntil(window.sign_in.pin.field.isEnabled, timeout=WAIT_MS)
            qtbot.keyClicks(window.sign_in.pin.field, TRAINING_PIN)
            qtbot.keyClick(window.sign_in.pin.field, "\r")
            qtbot.waitUntil(lambda: controller.session_state is SessionState.CHOOSING_ROLE, timeout=WAIT_MS)
            qtbot.waitUntil(lambda: window.page is window.role, timeout=WAIT_MS)  # the GP's two roles, once told
        finally:
            controller.shutdown()
            window.deleteLater()
            QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

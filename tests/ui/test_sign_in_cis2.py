"""The sign-in screen when the machine is set to NHS CIS2: it names the service, asks for no passcode, and signs
in through the (test-played) browser; unlocking still takes the card's passcode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from consent_desktop.auth.card import CardStatus
from consent_desktop.auth.session import SessionState
from consent_desktop.config import MappingSource, TomlFileSource, load_settings
from consent_desktop.controller.assembly import assemble
from consent_desktop.controller.controller import Controller
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.training import training_kit
from consent_desktop.ui.main_window import MainWindow, build_main_window
from tests.cis2.conftest import PlayedBrowser

WAIT_MS = 10_000


@pytest.fixture
def cis2_window(qtbot: QtBot, ui_sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[MainWindow, Controller]]:
    settings = load_settings(
        [
            TomlFileSource(ui_sandbox.data.client_config, "sandbox client.toml"),
            MappingSource("test", {"app.data_dir": str(tmp_path / "audit"), "auth.provider": "cis2"}),
        ]
    )
    controller = Controller(assemble(settings, browser=PlayedBrowser(ui_sandbox)), progress_delay_ms=100)
    window = build_main_window(controller, settings, training=training_kit(), preferences_path=tmp_path / "p.toml")
    controller.start()
    window.show()
    yield window, controller
    controller.shutdown()
    window.hide()
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.mark.hazard("HAZ-005")
def test_cis2_sign_in_names_the_service_and_needs_no_passcode(
    qtbot: QtBot, cis2_window: tuple[MainWindow, Controller]
) -> None:
    window, controller = cis2_window
    page = window.sign_in
    assert page.title.text() == "Sign in with NHS CIS2"
    assert page.provider.text() == "Sign-in service: NHS CIS2 Authentication"
    assert not page.pin.isVisible()
    qtbot.waitUntil(page.browser_sign_in.isEnabled, timeout=WAIT_MS)
    # The passcode is typed in the NHS sign-in the browser opens, not here: the card line says what to do instead.
    qtbot.waitUntil(lambda: page.card.status is CardStatus.READY, timeout=WAIT_MS)
    assert page.card.text.text() == "Smartcard ready \N{EM DASH} choose Sign in in the browser."
    assert not page.cancel.isEnabled()
    qtbot.mouseClick(page.browser_sign_in, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.session_state is SessionState.ACTIVE, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.page is window.work, timeout=WAIT_MS)

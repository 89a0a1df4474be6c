"""A new receptionist's main task, by keyboard alone, at 200% text on a 1366 x 768 screen: find the patient,
confirm them, record an opt-out, see "Saved on Spine", print the slip. No screen on the way cuts text short or shows
a code or an internal term."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from consent_desktop.sandbox.patients import README_EXAMPLE
from consent_desktop.sandbox.users import TRAINING_PIN
from consent_desktop.ui import consent_panel
from tests.ui.conftest import Desk
from tests.ui.test_desk_wording import JARGON, desk_text, style_problems
from tests.ui.test_slip import PrintDialogStub, pages_of
from tests.ui.test_text_size import SCREEN, cut_short, in_view

pytestmark = pytest.mark.gui


@pytest.mark.hazard("HAZ-001", "HAZ-015")
def test_a_new_receptionist_does_the_main_task_by_keyboard_at_200_percent(
    make_desk: Callable[..., Desk], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed = PrintDialogStub(tmp_path / "slip.pdf", accept=True)
    monkeypatch.setattr(consent_panel, "print_dialog", printed)
    desk = make_desk(**{"ui.text_scale": 2.0})
    window, bot = desk.window, desk.qtbot
    window.resize(*SCREEN)
    window.activateWindow()
    bot.waitUntil(lambda: QApplication.activeWindow() is window)
    screens: list[QWidget] = []

    def look(root: QWidget) -> None:
        """What a user sees on this screen: nothing cut short, no jargon, the service manual's style."""
        assert cut_short(desk, root) == []
        text = desk_text(root)
        assert JARGON.findall(text) == []
        assert style_problems(text) == []
        screens.append(root)

    def press(key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
        target = QApplication.focusWidget() or QApplication.activeWindow() or window
        bot.keyClick(target, key, modifier)

    def tab_to(target: QWidget) -> None:
        for _ in range(40):
            if QApplication.focusWidget() is target:
                return
            press(Qt.Key.Key_Tab)
        raise AssertionError(f"Tab never reached {target.accessibleName()!r}")

    look(window)  # sign-in: the passcode box already has the focus
    bot.keyClicks(QApplication.focusWidget(), TRAINING_PIN)
    press(Qt.Key.Key_Return)
    desk.wait(lambda: window.page is window.work)
    assert QApplication.focusWidget() is window.work.search.nhs  # the next keystroke is the NHS number
    bot.keyClicks(window.work.search.nhs, README_EXAMPLE)
    press(Qt.Key.Key_Return)
    consent = window.work.consent
    desk.wait(lambda: consent.record is not None)
    look(window)

    tab_to(window.work.banner.confirm)
    press(Qt.Key.Key_Space)
    tab_to(consent.change)
    press(Qt.Key.Key_Space)
    desk.wait(lambda: QApplication.activeModalWidget() is not None)
    change = QApplication.activeModalWidget()
    bot.waitUntil(lambda: QApplication.activeWindow() is change)
    look(change)
    press(Qt.Key.Key_Space)  # the first way of giving the instruction has the focus: in person
    press(Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)  # "I have this instruction in person or in writing"
    desk.wait(lambda: QApplication.focusWidget() is change.go)  # type: ignore[attr-defined]
    press(Qt.Key.Key_Return)  # Continue
    desk.wait(lambda: QApplication.activeModalWidget() not in (None, change))
    check = QApplication.activeModalWidget()
    bot.waitUntil(lambda: QApplication.activeWindow() is check)
    look(check)
    press(Qt.Key.Key_Return)  # Save to Spine

    desk.wait(lambda: consent.result is not None and consent.record is not None)
    bot.wait(50)
    assert consent.outcome.headline.text().startswith("Saved on Spine at ")
    assert in_view(consent.outcome, window.work.patient_area.viewport())  # seen without scrolling
    assert desk.store.assertions(README_EXAMPLE) == {"Store": "No", "View": "No"}
    look(window)

    window.activateWindow()  # the dialogs have gone: the window manager gives the window back its activation
    bot.waitUntil(lambda: QApplication.activeWindow() is window)
    press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)  # "Print slip…"
    desk.wait(lambda: consent.slip_saved.text == "The slip was sent to the printer.")
    assert "Opted out of sharing your Summary Care Record" in " ".join(pages_of(printed.target.read_bytes()))
    look(window)
    assert len(screens) == 6

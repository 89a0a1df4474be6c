"""The receptionist's main task by keyboard alone, timed and counted: signed in already, find a patient by NHS
number, confirm them, record an opt-out expressed in person, and see "Saved on Spine".

Every key goes to whichever widget has the focus, as a user's would: the task moves between controls with Tab (and
the arrow keys inside a group of options) and presses them with Space or Enter, so each key a user would need is
counted, and a change that adds a step, a field or a Tab stop shows in the count. Run in a process of its own by
``benchmarks.gui_probe`` against the sandbox with no latency injected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QRadioButton, QWidget

from consent_desktop.domain.consent import ConsentChoice, ExpressedBy
from consent_desktop.ui.change_dialogs import ChangeConsentDialog, ConfirmChangeDialog
from consent_desktop.ui.main_window import MainWindow

TAB_LIMIT = 60  # a control this many Tabs away is not reachable by keyboard at all


@dataclass
class Keyboard:
    wait: Callable[[Callable[[], object]], None]
    presses: int = 0

    def key(self, key: Qt.Key, text: str = "") -> None:
        focus = QApplication.focusWidget()
        assert focus is not None, "nothing has the keyboard focus"
        if text:
            QTest.keyClicks(focus, text)
            self.presses += len(text)
        else:
            QTest.keyClick(focus, key)
            self.presses += 1

    def tab_to(self, target: QWidget) -> None:
        assert target.isEnabled(), f"{target.accessibleName() or target} is not enabled"
        for _ in range(TAB_LIMIT):
            if QApplication.focusWidget() is target:
                return
            self.key(Qt.Key.Key_Tab)
        raise AssertionError(f"{target.accessibleName() or target} cannot be reached with Tab")

    def meet(self, window: QWidget) -> None:
        """A window that has just opened has the keyboard, as the desktop gives it (no key pressed for that)."""
        window.activateWindow()
        self.wait(lambda: QApplication.activeWindow() is window)

    def press(self, button: QAbstractButton) -> None:
        self.tab_to(button)
        self.key(Qt.Key.Key_Space)

    def choose(self, option: QRadioButton) -> None:
        """Tab into the option's group (Tab stops once in a group), then the arrow keys to it, Space if needed."""
        for _ in range(TAB_LIMIT):
            focus = QApplication.focusWidget()
            if isinstance(focus, QRadioButton) and focus.group() is option.group():
                break
            self.key(Qt.Key.Key_Tab)
        for _ in range(len(option.group().buttons())):
            if QApplication.focusWidget() is option:
                break
            self.key(Qt.Key.Key_Down)
        if not option.isChecked():
            self.key(Qt.Key.Key_Space)
        assert option.isChecked(), f"{option.accessibleName()} could not be chosen by keyboard"


def receptionist_task(window: MainWindow, nhs: str, wait: Callable[[Callable[[], object]], None]) -> tuple[float, int]:
    """From the patient screen just after sign-in to "Saved on Spine" on it: (seconds, key presses)."""
    work = window.work
    keys = Keyboard(wait)
    started = time.perf_counter()
    keys.tab_to(work.search.nhs)
    keys.key(Qt.Key.Key_unknown, nhs)
    keys.key(Qt.Key.Key_Return)
    wait(lambda: work.consent.record is not None and work.banner.confirm.isEnabled())
    keys.press(work.banner.confirm)
    wait(work.consent.change.isEnabled)
    keys.press(work.consent.change)
    wait(lambda: bool(work.consent.dialogs) and isinstance(work.consent.dialogs[-1], ChangeConsentDialog))
    change = work.consent.dialogs[-1]
    assert isinstance(change, ChangeConsentDialog)
    keys.meet(change)
    keys.choose(change._choice_buttons[ConsentChoice.OPTED_OUT])
    keys.choose(change._how_buttons[ExpressedBy.IN_PERSON])
    keys.press(change.have_instruction)  # "I have this instruction in person or in writing"
    keys.press(change.go)
    wait(lambda: isinstance(work.consent.dialogs[-1], ConfirmChangeDialog))
    confirm = work.consent.dialogs[-1]
    assert isinstance(confirm, ConfirmChangeDialog)
    keys.meet(confirm)
    keys.press(confirm.save)
    wait(lambda: work.consent.outcome.headline.text().startswith("Saved on Spine"))
    return time.perf_counter() - started, keys.presses

"""A whole working flow through the real window, step by step, for the GUI-thread test and the stall benchmark: sign
in, search by NHS number, confirm the patient, change, save, lock by pulling the card, unlock.

It drives the widgets as a user does (keys typed into fields, buttons clicked) and waits for what the screen shows
at the end of each step, with whatever ``wait`` its caller gives (pytest-qt's in tests, a plain event loop in the
benchmark); each step is labelled for the event-loop watchdog.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest

from consent_desktop.auth.training_presence import TrainingPresence
from consent_desktop.domain.consent import ConsentChoice, ExpressedBy
from consent_desktop.sandbox.patients import README_EXAMPLE
from consent_desktop.sandbox.users import RECEPTIONIST, TRAINING_PIN
from consent_desktop.ui.change_dialogs import ChangeConsentDialog, ConfirmChangeDialog
from consent_desktop.ui.main_window import MainWindow
from tests.event_loop_watchdog import EventLoopWatchdog

Wait = Callable[[Callable[[], object]], None]  # returns once the condition holds, the event loop turning meanwhile


class CardSlot(Protocol):
    """The user's card: the training reader's software card, or vsmartcard's virtual card."""

    def insert(self) -> None: ...

    def remove(self) -> None: ...


class TrainingCard:
    """The receptionist's software card in the training reader, as the screen's insert and remove buttons do it."""

    def __init__(self, reader: TrainingPresence) -> None:
        self.reader = reader

    def insert(self) -> None:
        self.reader.insert(RECEPTIONIST.token_label)

    def remove(self) -> None:
        self.reader.remove()


def next_click(wait: Wait) -> None:
    """Let the event loop turn before the next click, as it does between a user's clicks."""
    turned: list[bool] = []
    QTimer.singleShot(0, lambda: turned.append(True))
    wait(lambda: turned)


def whole_flow(window: MainWindow, card: CardSlot, wait: Wait, watchdog: EventLoopWatchdog) -> str:
    """Run the flow from the sign-in screen with the card out; returns the save's headline. The patient screen is
    not asked for before sign-in has shown it (asking builds it, if the app has not yet)."""

    def type_pin() -> None:
        page = window.lock if window.page is window.lock else window.sign_in
        wait(page.pin.field.isEnabled)
        QTest.keyClicks(page.pin.field, TRAINING_PIN)
        QTest.keyClick(page.pin.field, Qt.Key.Key_Return)

    with watchdog.step("sign in"):
        card.insert()
        type_pin()
        wait(lambda: window.page not in (window.sign_in, window.role, window.lock))
        work = window.work
        assert window.page is work
    with watchdog.step("search"):
        QTest.keyClicks(work.search.nhs, README_EXAMPLE)
        QTest.keyClick(work.search.nhs, Qt.Key.Key_Return)
        wait(lambda: work.consent.record is not None)
    with watchdog.step("confirm"):
        work.banner.confirm.click()
    with watchdog.step("change"):
        # A user's clicks reach the app one event at a time: the event loop turns between them, as it does here.
        work.consent.change.click()
        change = work.consent.dialogs[-1]
        assert isinstance(change, ChangeConsentDialog)
        next_click(wait)
        choice = next(c for c in ConsentChoice if change._choice_buttons[c].isEnabled())
        change.choose(choice, ExpressedBy.IN_PERSON)
        next_click(wait)
        change.go.click()
        confirm = work.consent.dialogs[-1]
        assert isinstance(confirm, ConfirmChangeDialog)
        next_click(wait)
    with watchdog.step("save"):
        confirm.save.click()
        outcome = work.consent.outcome
        wait(lambda: outcome.headline.text() and "Saving" not in outcome.headline.text())
        headline = outcome.headline.text()
    with watchdog.step("lock (card pulled)"):
        card.remove()
        wait(lambda: window.page is window.lock)
    with watchdog.step("unlock"):
        card.insert()
        type_pin()
        wait(lambda: window.page is work and work.consent.record is not None)
    return headline

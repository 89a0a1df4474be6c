"""Signing in: the card's status, the passcode, and what went wrong in words a receptionist can act on."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from consent_desktop.auth.card import CardStatus, PinState
from consent_desktop.controller.controller import Controller
from consent_desktop.domain.errors import ConsentDesktopError, PinIncorrect, PinLocked
from consent_desktop.ui.card_status import CardStatusLine
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.pin_entry import PinEntry
from consent_desktop.ui.pin_warnings import show_pin_state
from consent_desktop.ui.text import label, named
from consent_desktop.ui.training_panel import TrainingCardPanel, TrainingKit


class SignInPage(QWidget):
    def __init__(self, controller: Controller, training: TrainingKit | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "Sign in")
        self._controller = controller
        self._card_locked = False  # a locked card is never offered another attempt
        self._working = False
        browser = not controller.sign_in_needs_pin  # CIS2: the user signs in in the system browser
        self.title = label(
            "Sign in with NHS CIS2" if browser else "Sign in with your NHS smartcard", factor=1.6, bold=True
        )
        self.title.setObjectName("pageTitle")
        self.provider = label(f"Sign-in service: {controller.provider_name}")
        self.card = CardStatusLine()
        self.pin = PinEntry("&Sign in", "Sign in")
        self.pin.submitted.connect(self._sign_in)
        self.pin.setVisible(not browser)
        self.browser_sign_in = named(QPushButton("&Sign in in the browser\N{HORIZONTAL ELLIPSIS}"), "Sign in with CIS2")
        self.browser_sign_in.setDefault(True)
        self.browser_sign_in.clicked.connect(self._sign_in_in_browser)
        self.cancel = named(QPushButton("&Cancel sign-in"), "Cancel sign-in")
        self.cancel.clicked.connect(controller.cancel_sign_in)
        browser_row = QHBoxLayout()
        browser_row.addWidget(self.browser_sign_in)
        browser_row.addWidget(self.cancel)
        browser_row.addStretch(1)
        self._browser = browser
        self.message = MessagePanel("Sign-in message")
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.provider)
        layout.addWidget(self.card)
        layout.addWidget(self.pin)
        if browser:
            layout.addLayout(browser_row)
        else:
            self.browser_sign_in.hide()
            self.cancel.hide()
        layout.addWidget(self.message)
        self.training = TrainingCardPanel(controller, training) if training else None
        if self.training is not None:
            layout.addWidget(self.training)
        layout.addStretch(1)
        controller.card_status.connect(self.show_card)
        controller.pin_state.connect(self.show_pin_state)
        self._update()

    def show_card(self, status: CardStatus) -> None:
        previous = self.card.status
        self.card.show_status(status)
        if status is not CardStatus.READY or previous is not CardStatus.READY:
            self._card_locked = False  # another card, or the same one back: it may be unlocked now
        self._update()

    def reset(self, notice: str = "") -> None:
        """Back to a clean sign-in screen, saying why when the user did not sign out themselves."""
        self._working = False
        self.pin.clear()
        self.message.clear()
        if notice:
            self.message.show_message(notice, "info")
        self._update()

    def show_pin_state(self, state: PinState) -> None:
        if show_pin_state(self.message, state, "sign in"):
            self._card_locked = True
        self._update()

    def show_failure(self, error: ConsentDesktopError, action: str) -> None:
        self._working = False
        self.pin.clear()
        if isinstance(error, PinLocked):
            self._card_locked = True
        self.message.show_error(error, action)
        self._update()
        if isinstance(error, PinIncorrect):
            self.pin.field.setFocus()

    def _sign_in(self, pin: bytearray) -> None:
        self._working = True
        self.message.show_message("Checking your smartcard\N{HORIZONTAL ELLIPSIS}", "info")
        self._update()
        self._controller.sign_in(pin)

    def _sign_in_in_browser(self) -> None:
        self._working = True
        self.message.show_message("Sign in in the browser window that has opened, then come back here.", "info")
        self._update()
        self._controller.sign_in()

    def _update(self) -> None:
        ready = self.card.status is CardStatus.READY and not self._card_locked and not self._working
        self.pin.set_ready(ready)
        self.browser_sign_in.setEnabled(ready)
        self.cancel.setEnabled(self._working)

"""Signing in: the card's status, the passcode, and what went wrong in words a receptionist can act on."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout

from consent_desktop.controller.controller import Controller
from consent_desktop.ui import wording as w
from consent_desktop.ui.passcode_page import PasscodePage
from consent_desktop.ui.text import label, named
from consent_desktop.ui.training_panel import TrainingCardPanel, TrainingKit


class SignInPage(PasscodePage):
    def __init__(self, controller: Controller, training: TrainingKit | None) -> None:
        browser = not controller.sign_in_needs_pin  # CIS2: the user signs in in the system browser
        ready = w.CARD_READY_BROWSER if browser else w.CARD_READY
        super().__init__(controller, w.SIGN_IN_BUTTON, w.SIGN_IN, "sign in", controller.sign_in, ready)
        named(self, w.SIGN_IN)
        self.title = label(w.SIGN_IN_WITH_CIS2 if browser else w.SIGN_IN_WITH_CARD, factor=1.6, bold=True)
        self.title.setObjectName("pageTitle")
        self.provider = label(w.SIGN_IN_SERVICE.format(name=controller.provider_name))
        self.notice = label(controller.provider_notice)
        self.notice.setVisible(bool(controller.provider_notice))
        self.pin.setVisible(not browser)
        self.browser_sign_in = named(QPushButton(w.SIGN_IN_IN_BROWSER), w.SIGN_IN_IN_BROWSER_NAME)
        self.browser_sign_in.setDefault(True)
        self.browser_sign_in.clicked.connect(self._sign_in_in_browser)
        self.cancel = named(QPushButton(w.CANCEL_SIGN_IN), w.CANCEL_SIGN_IN_NAME)
        self.cancel.clicked.connect(controller.cancel_sign_in)
        browser_row = QHBoxLayout()
        browser_row.addWidget(self.browser_sign_in)
        browser_row.addWidget(self.cancel)
        browser_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.provider)
        layout.addWidget(self.notice)
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
        self._update()

    def reset(self, notice: str = "") -> None:
        """Back to a clean sign-in screen, saying why when the user did not sign out themselves."""
        self._working = False
        self.pin.clear()
        self.message.clear()
        if notice:
            self.message.show_message(notice, "info")
        self._update()

    def _sign_in_in_browser(self) -> None:
        self._begin(w.SIGN_IN_BROWSER_WAIT)
        self._controller.sign_in()

    def _update(self) -> None:
        super()._update()
        self.browser_sign_in.setEnabled(self._ready)
        self.cancel.setEnabled(self._working)

"""The lock screen: nothing about any patient, only who is signed in and how to unlock."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from consent_desktop.auth.card import CardStatus, PinState
from consent_desktop.auth.session import SessionChange
from consent_desktop.controller.controller import Controller
from consent_desktop.domain.errors import ConsentDesktopError, PinLocked
from consent_desktop.ui.card_status import CardStatusLine
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.pin_entry import PinEntry
from consent_desktop.ui.pin_warnings import show_pin_state
from consent_desktop.ui.resources import pixmap
from consent_desktop.ui.text import label, named
from consent_desktop.ui.training_panel import TrainingCardPanel, TrainingKit

REMOVED = "Your smartcard was removed, so the session is locked. Insert your smartcard and enter your passcode."
READER_FAILED = (
    "The smartcard reader stopped responding, so the session is locked. Check the reader, then insert your "
    "smartcard and enter your passcode."
)
SIGNED_OUT_IF_OTHER_CARD = "If a different smartcard is used, the person signed in now is signed out."


class LockPage(QWidget):
    def __init__(self, controller: Controller, training: TrainingKit | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "Locked")
        self._controller = controller
        self._card_locked = False
        self._working = False
        icon = QLabel()
        icon.setPixmap(pixmap("lock", 48, self.devicePixelRatioF()))
        icon.setAccessibleName("Locked")
        self.title = label("Locked", factor=1.8, bold=True)
        self.title.setObjectName("lockTitle")
        heading = QHBoxLayout()
        heading.addWidget(icon)
        heading.addWidget(self.title, 1)
        self.reason = label(REMOVED)
        self.who = label()
        self.other_card = label(SIGNED_OUT_IF_OTHER_CARD)
        self.card = CardStatusLine()
        self.pin = PinEntry("&Unlock", "Unlock")
        self.pin.submitted.connect(self._unlock)
        self.sign_out = named(QPushButton("Sign &out"), "Sign out")
        self.sign_out.clicked.connect(controller.sign_out)
        self.message = MessagePanel("Unlock message")
        actions = QHBoxLayout()
        actions.addWidget(self.pin)
        actions.addWidget(self.sign_out)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(heading)
        layout.addWidget(self.reason)
        layout.addWidget(self.who)
        layout.addWidget(self.card)
        layout.addLayout(actions)
        layout.addWidget(self.other_card)
        layout.addWidget(self.message)
        self.training = TrainingCardPanel(controller, training) if training else None
        if self.training is not None:
            layout.addWidget(self.training)
        layout.addStretch(1)
        controller.card_status.connect(self.show_card)
        controller.pin_state.connect(self.show_pin_state)

    def show_lock(self, change: SessionChange) -> None:
        self._working = False
        self._card_locked = False
        self.pin.clear()
        self.message.clear()
        self.reason.setText(READER_FAILED if "reader" in change.reason else REMOVED)
        role = change.role
        who = change.user_name or "Someone"
        self.who.setText(f"Signed in: {who}" + (f" \N{EM DASH} {role.label}" if role else ""))
        self._update()

    def show_card(self, status: CardStatus) -> None:
        previous = self.card.status
        self.card.show_status(status)
        if status is not CardStatus.READY or previous is not CardStatus.READY:
            self._card_locked = False  # another card, or the same one back: it may be unlocked now
        self._update()

    def show_pin_state(self, state: PinState) -> None:
        if show_pin_state(self.message, state, "unlock"):
            self._card_locked = True
        self._update()

    def show_failure(self, error: ConsentDesktopError, action: str) -> None:
        self._working = False
        self.pin.clear()
        if isinstance(error, PinLocked):
            self._card_locked = True
        self.message.show_error(error, action)
        self._update()

    def _unlock(self, pin: bytearray) -> None:
        self._working = True
        self.message.show_message("Checking your smartcard\N{HORIZONTAL ELLIPSIS}", "info")
        self._update()
        self._controller.unlock(pin)

    def _update(self) -> None:
        self.pin.set_ready(self.card.status is CardStatus.READY and not self._card_locked and not self._working)

"""The lock screen: nothing about any patient, only who is signed in and how to unlock."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from consent_desktop.auth.session import SessionChange
from consent_desktop.controller.controller import Controller
from consent_desktop.ui.passcode_page import PasscodePage
from consent_desktop.ui.resources import pixmap
from consent_desktop.ui.text import label, named
from consent_desktop.ui.training_panel import TrainingCardPanel, TrainingKit

REMOVED = "Your smartcard was removed, so the session is locked. Insert your smartcard and enter your passcode."
READER_FAILED = (
    "The smartcard reader stopped responding, so the session is locked. Check the reader, then insert your "
    "smartcard and enter your passcode."
)
SIGNED_OUT_IF_OTHER_CARD = "If a different smartcard is used, the person signed in now is signed out."


class LockPage(PasscodePage):
    def __init__(self, controller: Controller, training: TrainingKit | None) -> None:
        super().__init__(controller, "&Unlock", "Unlock", "unlock", controller.unlock)
        named(self, "Locked")
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
        self.sign_out = named(QPushButton("Sign &out"), "Sign out")
        self.sign_out.clicked.connect(controller.sign_out)
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

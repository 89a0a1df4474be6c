"""The lock screen: nothing about any patient, only who is signed in and how to unlock."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout

from consent_desktop.auth.session import SessionChange
from consent_desktop.controller.controller import Controller
from consent_desktop.ui import wording as w
from consent_desktop.ui.passcode_page import PasscodePage
from consent_desktop.ui.text import icon_label, label, named
from consent_desktop.ui.training_panel import TrainingCardPanel, TrainingKit


class LockPage(PasscodePage):
    def __init__(self, controller: Controller, training: TrainingKit | None) -> None:
        super().__init__(controller, w.UNLOCK_BUTTON, w.UNLOCK, "unlock", controller.unlock)
        named(self, w.LOCKED)
        icon = icon_label("lock", 48, w.LOCKED)
        self.title = label(w.LOCKED, factor=1.8, bold=True)
        self.title.setObjectName("lockTitle")
        heading = QHBoxLayout()
        heading.addWidget(icon)
        heading.addWidget(self.title, 1)
        self.reason = label(w.LOCKED_REMOVED)
        self.who = label()
        self.other_card = label(w.OTHER_CARD_SIGNS_OUT)
        self.sign_out = named(QPushButton(w.SIGN_OUT), w.SIGN_OUT_NAME)
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
        self.reason.setText(w.LOCKED_READER if "reader" in change.reason else w.LOCKED_REMOVED)
        role = change.role
        who = change.user_name or w.SOMEONE
        self.who.setText(
            w.LOCKED_WHO_ROLE.format(name=who, dash=w.DASH, role=role.label) if role else w.LOCKED_WHO.format(name=who)
        )
        self._update()

"""Choosing the role to work in, when the smartcard holds several."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QButtonGroup, QGroupBox, QHBoxLayout, QPushButton, QRadioButton, QVBoxLayout, QWidget

from consent_desktop.controller.controller import Controller
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.domain.identity import RoleProfile
from consent_desktop.ui import wording as w
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.text import label, named


class RolePage(QWidget):
    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, w.CHOOSE_ROLE)
        self._controller = controller
        self._roles: tuple[RoleProfile, ...] = ()
        self.title = label(w.CHOOSE_ROLE_TITLE, factor=1.6, bold=True)
        self.title.setObjectName("pageTitle")
        self.who = label()
        self.box = named(QGroupBox(w.YOUR_ROLES), w.YOUR_ROLES)
        self._box_layout = QVBoxLayout(self.box)
        self.choices = QButtonGroup(self)
        self.choices.buttonToggled.connect(lambda *_: self._update())
        self.go = named(QPushButton(w.CONTINUE), w.CONTINUE_IN_ROLE)
        self.go.setDefault(True)
        self.go.clicked.connect(self._choose)
        self.sign_out = named(QPushButton(w.SIGN_OUT), w.SIGN_OUT_NAME)
        self.sign_out.clicked.connect(controller.sign_out)
        self.message = MessagePanel(w.CHOOSE_ROLE)
        buttons = QHBoxLayout()
        buttons.addWidget(self.go)
        buttons.addWidget(self.sign_out)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.who)
        layout.addWidget(self.box)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def show_roles(self, user_name: str | None, roles: tuple[RoleProfile, ...]) -> None:
        self.clear()
        self._roles = roles
        self.who.setText(w.ROLE_WHO.format(name=user_name or w.ROLE_UNNAMED, count=len(roles)))
        for index, role in enumerate(roles):
            button = named(QRadioButton(role.label), role.label)
            self.choices.addButton(button, index)
            self._box_layout.addWidget(button)
        if self.choices.buttons():
            self.choices.buttons()[0].setFocus()
        self._update()

    def clear(self) -> None:
        for button in self.choices.buttons():
            self.choices.removeButton(button)
            button.deleteLater()
        self._roles = ()
        self.who.clear()
        self.message.clear()
        self._update()

    def show_failure(self, error: ConsentDesktopError, action: str) -> None:
        self.message.show_error(error, action)
        self._update()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        """Enter continues in the chosen role, as the default button of a dialog would."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.go.isEnabled():
            self._choose()
            return
        super().keyPressEvent(event)

    def _choose(self) -> None:
        index = self.choices.checkedId()
        if 0 <= index < len(self._roles):
            self.go.setEnabled(False)
            self.message.show_message(w.STARTING_SESSION, "info")
            self._controller.choose_role(self._roles[index].role_profile_id)

    def _update(self) -> None:
        self.go.setEnabled(self.choices.checkedId() >= 0)

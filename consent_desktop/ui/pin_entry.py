"""The passcode box: masked, emptied the moment a passcode is taken from it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QWidget

from consent_desktop.ui import wording as w
from consent_desktop.ui.forget import empty
from consent_desktop.ui.text import named

PIN_MAX = 64  # far beyond any smartcard passcode; stops a paste of something else entirely


class PinEntry(QWidget):
    submitted = Signal(bytearray)  # the passcode as bytes; the receiver's code overwrites it once used

    def __init__(self, button_text: str, button_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = named(QLineEdit(), w.PASSCODE_NAME, w.PASSCODE_DESCRIPTION)
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setMaxLength(PIN_MAX)
        self.field.setInputMethodHints(Qt.InputMethodHint.ImhHiddenText | Qt.InputMethodHint.ImhSensitiveData)
        self.field.returnPressed.connect(self._submit)
        caption = QLabel(w.PASSCODE)
        caption.setBuddy(self.field)
        self.button = named(QPushButton(button_text), button_name)
        self.button.setDefault(True)
        self.button.clicked.connect(self._submit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.field.setMinimumWidth(self.field.fontMetrics().averageCharWidth() * 20)
        layout.addWidget(caption)
        layout.addWidget(self.field)
        layout.addWidget(self.button)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)  # a passcode box, not a banner

    def set_ready(self, ready: bool) -> None:
        self.field.setEnabled(ready)
        self.button.setEnabled(ready)

    def clear(self) -> None:
        empty(self.field)

    def _submit(self) -> None:
        if not self.button.isEnabled():
            return
        # The bytearray is the one copy handed on: whoever uses it zeroes it (auth/sign_in.py). Qt's own text and
        # the str that text() returns cannot be zeroed; the box is emptied at once and the str is never kept.
        pin = bytearray(self.field.text(), "utf-8")
        empty(self.field)
        self.submitted.emit(pin)

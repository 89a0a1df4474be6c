"""One line saying whether the smartcard is ready, in words and with an icon."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from consent_desktop.auth.card import CardStatus
from consent_desktop.ui.resources import pixmap
from consent_desktop.ui.text import label, named

_ICONS = {CardStatus.READY: "card", CardStatus.NO_CARD: "info", CardStatus.NO_READER: "warning"}
_TEXT = {
    CardStatus.READY: "Smartcard ready \N{EM DASH} enter your passcode.",
    CardStatus.NO_CARD: "Insert your smartcard.",
    CardStatus.NO_READER: "No smartcard reader found. Check the reader is plugged in; if it is, ask your IT team.",
}


class CardStatusLine(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status: CardStatus | None = None
        self._icon = QLabel()
        self.text = label("Checking for your smartcard\N{HORIZONTAL ELLIPSIS}", bold=True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._icon)
        layout.addWidget(self.text, 1)
        named(self, "Smartcard status", self.text.text())

    def show_status(self, status: CardStatus) -> None:
        self.status = status
        self._icon.setPixmap(pixmap(_ICONS[status], 24, self.devicePixelRatioF()))
        self.text.setText(_TEXT[status])
        self.setAccessibleDescription(_TEXT[status])

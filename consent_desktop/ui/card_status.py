"""One line saying whether the smartcard is ready, in words and with an icon."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from consent_desktop.auth.card import CardStatus
from consent_desktop.ui import wording as w
from consent_desktop.ui.text import label, named, show_icon

_ICONS = {CardStatus.READY: "card", CardStatus.NO_CARD: "info", CardStatus.NO_READER: "warning"}
_TEXT = {CardStatus.READY: w.CARD_READY, CardStatus.NO_CARD: w.CARD_NONE, CardStatus.NO_READER: w.CARD_NO_READER}


class CardStatusLine(QWidget):
    def __init__(self, ready: str = w.CARD_READY, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status: CardStatus | None = None
        self._text = {**_TEXT, CardStatus.READY: ready}  # what to do next with a ready card
        self._icon = QLabel()
        self.text = label(w.CARD_CHECKING, bold=True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._icon)
        layout.addWidget(self.text, 1)
        named(self, w.CARD_STATUS, self.text.text())

    def show_status(self, status: CardStatus) -> None:
        self.status = status
        show_icon(self._icon, _ICONS[status], 24)
        self.text.setText(self._text[status])
        self.setAccessibleDescription(self._text[status])

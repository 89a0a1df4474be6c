"""Training mode on screen: a banner that says no real patient data is involved, and the software card "reader".

The UI never imports the sandbox: the training launcher describes its cards in a :class:`TrainingKit`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFrame, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QWidget

from consent_desktop.controller.controller import Controller
from consent_desktop.ui.resources import pixmap
from consent_desktop.ui.text import label, named

BANNER_TEXT = (
    "TRAINING MODE \N{EM DASH} a practice Spine on this computer with invented patients. No real patient data is "
    "involved, and nothing is sent to the NHS."
)


@dataclass(frozen=True)
class TrainingCard:
    token_label: str
    description: str  # who the card belongs to and what it shows, e.g. "Jo Clarke, medical secretary (no B0020)"


@dataclass(frozen=True)
class TrainingKit:
    passcode: str
    cards: tuple[TrainingCard, ...]

    def describe(self, token_label: str | None) -> str:
        for card in self.cards:
            if card.token_label == token_label:
                return card.description
        return "no card" if token_label is None else token_label


class TrainingBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingBanner")
        icon = QLabel()
        icon.setPixmap(pixmap("training", 28, self.devicePixelRatioF()))
        icon.setAccessibleName("Training")
        text = label(BANNER_TEXT, bold=True)
        named(self, "Training mode", BANNER_TEXT)
        layout = QHBoxLayout(self)
        layout.addWidget(icon)
        layout.addWidget(text, 1)


class TrainingCardPanel(QGroupBox):
    """Put a test user's software card in the reader, or take it out, as a trainee would with a real card."""

    def __init__(self, controller: Controller, kit: TrainingKit, parent: QWidget | None = None) -> None:
        super().__init__("Training smartcards", parent)
        named(self, "Training smartcards", "Insert or remove a test user's software smartcard")
        self._controller = controller
        self._kit = kit
        self.passcode = label(f"The passcode of every training card is {kit.passcode}.", bold=True)
        self.in_reader = label()
        self.cards = named(QComboBox(), "Training card to insert")
        for card in kit.cards:
            self.cards.addItem(card.description, card.token_label)
        chooser = QLabel("Training &card")
        chooser.setBuddy(self.cards)
        self.insert = named(QPushButton("&Insert"), "Insert the chosen training card")
        self.remove = named(QPushButton("Re&move"), "Remove the training card from the reader")
        self.insert.clicked.connect(self._insert)
        self.remove.clicked.connect(self._remove)
        grid = QGridLayout(self)
        grid.addWidget(self.passcode, 0, 0, 1, 4)
        grid.addWidget(self.in_reader, 1, 0, 1, 4)
        grid.addWidget(chooser, 2, 0)
        grid.addWidget(self.cards, 2, 1)
        grid.addWidget(self.insert, 2, 2)
        grid.addWidget(self.remove, 2, 3)
        grid.setColumnStretch(1, 1)
        # A bound method, not a lambda: Qt disconnects it when this panel is destroyed before the controller.
        controller.card_status.connect(self._card_changed)
        self.refresh()

    def _card_changed(self, _status: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        inserted = self._controller.card_in_reader
        self.in_reader.setText(f"In the reader: {self._kit.describe(inserted)}")
        self.in_reader.setAccessibleName(self.in_reader.text())
        self.remove.setEnabled(inserted is not None)
        if inserted is not None:
            index = self.cards.findData(inserted)
            if index >= 0:
                self.cards.setCurrentIndex(index)

    def _insert(self) -> None:
        reader = self._controller.training_card
        token_label = self.cards.currentData(Qt.ItemDataRole.UserRole)
        if reader is not None and isinstance(token_label, str):
            reader.insert(token_label)

    def _remove(self) -> None:
        reader = self._controller.training_card
        if reader is not None:
            reader.remove()

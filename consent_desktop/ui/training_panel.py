"""Training mode on screen: a banner that says no real patient data is involved, and the software card "reader".

The card can be taken out at any time, as a real one can: from the banner on every screen (that is how staff
learn the lock), and put in again from the sign-in and lock screens. The UI never imports the sandbox: the
training launcher describes its cards in a :class:`TrainingKit`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFrame, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QWidget

from consent_desktop.controller.controller import Controller
from consent_desktop.ui import wording as w
from consent_desktop.ui.text import icon_label, label, named


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
        return w.TRAINING_NOTHING_IN_READER if token_label is None else token_label


def _take_out(controller: Controller) -> None:
    reader = controller.training_card
    if reader is not None:
        reader.remove()


class TrainingBanner(QFrame):
    """Always on screen in training mode, with the one card action that is always allowed: taking it out."""

    def __init__(self, controller: Controller, kit: TrainingKit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingBanner")
        self._controller = controller
        self._kit = kit
        text = label(w.TRAINING_BANNER, bold=True)
        named(self, w.TRAINING_MARKER, w.TRAINING_BANNER)
        self.in_reader = label()
        self.remove = named(QPushButton(w.REMOVE_CARD), w.REMOVE_CARD_NAME)
        self.remove.clicked.connect(lambda: _take_out(controller))
        words = QGridLayout()
        words.addWidget(text, 0, 0)
        words.addWidget(self.in_reader, 1, 0)
        layout = QHBoxLayout(self)
        layout.addWidget(icon_label("training", 28, w.TRAINING_MARKER), 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(words, 1)
        layout.addWidget(self.remove, 0, Qt.AlignmentFlag.AlignVCenter)
        controller.card_status.connect(self._card_changed)  # a bound method: disconnected when the banner goes
        self.refresh()

    def show_card_controls(self, shown: bool) -> None:
        """Hidden where the screen has the full card panel, so no action is offered twice."""
        self.in_reader.setVisible(shown)
        self.remove.setVisible(shown)

    def _card_changed(self, _status: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        inserted = self._controller.card_in_reader
        self.in_reader.setText(
            w.TRAINING_CARD_IN.format(card=self._kit.describe(inserted)) if inserted else w.TRAINING_NO_CARD
        )
        self.remove.setEnabled(inserted is not None)


class TrainingCardPanel(QGroupBox):
    """Put a test user's software card in the reader, or take it out, as a trainee would with a real card."""

    def __init__(self, controller: Controller, kit: TrainingKit, parent: QWidget | None = None) -> None:
        super().__init__(w.TRAINING_CARDS, parent)
        named(self, w.TRAINING_CARDS, w.TRAINING_CARDS_DESCRIPTION)
        self._controller = controller
        self._kit = kit
        self.passcode = label(w.TRAINING_PASSCODE.format(passcode=kit.passcode), bold=True)
        self.in_reader = label()
        self.cards = named(QComboBox(), w.TRAINING_CHOOSE_NAME)
        for card in kit.cards:
            self.cards.addItem(card.description, card.token_label)
        chooser = QLabel(w.TRAINING_CHOOSE)
        chooser.setBuddy(self.cards)
        self.insert = named(QPushButton(w.TRAINING_INSERT), w.TRAINING_INSERT_NAME)
        self.remove = named(QPushButton(w.TRAINING_REMOVE), w.TRAINING_REMOVE_NAME)
        self.insert.clicked.connect(self._insert)
        self.remove.clicked.connect(lambda: _take_out(controller))
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
        self.in_reader.setText(w.TRAINING_IN_READER.format(card=self._kit.describe(inserted)))
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

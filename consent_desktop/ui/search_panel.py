"""Finding the patient: by NHS number, or by a PDS simple trace on name, gender and date of birth.

Starting a search says so first (:attr:`SearchPanel.started`), before anything is asked of Spine: the patient on
screen is closed at that moment, so nothing can be done to them while another is being found.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from consent_desktop.controller.controller import Controller
from consent_desktop.domain.errors import ConsentDesktopError, InvalidInput
from consent_desktop.domain.patient import Gender, TraceOutcome, TraceResult
from consent_desktop.ui import wording as w
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.nhs_number_edit import NhsNumberEdit
from consent_desktop.ui.text import label, named


class SearchPanel(QWidget):
    started = Signal()  # a new search is about to start: the patient on screen must go now

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, w.FIND_A_PATIENT)
        self._controller = controller

        self.nhs = NhsNumberEdit()
        self.nhs.returnPressed.connect(self._look_up_typed)
        self.nhs.checked.connect(self._show_check)
        self.find_button = named(QPushButton(w.FIND), w.FIND_NAME)
        self.find_button.clicked.connect(self._look_up_typed)
        self.nhs_hint = self._field_message(w.NHS_NUMBER_NAME)
        nhs_caption = QLabel(w.NHS_NUMBER)
        nhs_caption.setBuddy(self.nhs)
        nhs_row = QHBoxLayout()
        nhs_row.addWidget(nhs_caption)
        nhs_row.addWidget(self.nhs, 1)
        nhs_row.addWidget(self.find_button)
        by_number = named(QGroupBox(w.FIND_BY_NUMBER), w.FIND_BY_NUMBER)
        by_number_layout = QVBoxLayout(by_number)
        by_number_layout.addLayout(nhs_row)
        by_number_layout.addWidget(self.nhs_hint)

        self.family = self._line(w.FAMILY_NAME, w.REQUIRED)
        self.given = self._line(w.GIVEN_NAME, w.GIVEN_NAME_HINT)
        self.gender = named(QComboBox(), w.GENDER, w.REQUIRED)
        self.gender.addItem(w.CHOOSE, "")
        for gender in (Gender.FEMALE, Gender.MALE, Gender.NOT_KNOWN, Gender.NOT_SPECIFIED):
            self.gender.addItem(gender.display, gender.display)
        self.birth = self._line(w.BIRTH, w.BIRTH_HINT)
        self.birth.setPlaceholderText(w.BIRTH_PLACEHOLDER)
        self.postcode = self._line(w.POSTCODE, w.POSTCODE_HINT)
        self.postcode.setPlaceholderText(w.OPTIONAL)
        self.search_button = named(QPushButton(w.SEARCH), w.SEARCH_NAME)
        self.search_button.clicked.connect(self.search)
        self.field_messages: dict[str, QLabel] = {"nhs_number": self.nhs_hint}
        self._fields: dict[str, QWidget] = {"nhs_number": self.nhs}
        form = QFormLayout()
        for field, widget in (
            ("family_name", self.family),
            ("given_name", self.given),
            ("gender", self.gender),
            ("date_of_birth", self.birth),
            ("postcode", self.postcode),
        ):
            caption = w.CAPTIONS[field]
            message = self._field_message(caption.replace("&", ""))
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(message)
            caption_label = QLabel(caption)
            caption_label.setBuddy(widget)
            form.addRow(caption_label, column)
            self.field_messages[field] = message
            self._fields[field] = widget
        by_details = named(QGroupBox(w.FIND_BY_DETAILS), w.FIND_BY_DETAILS_NAME)
        details_layout = QVBoxLayout(by_details)
        details_layout.addLayout(form)
        details_layout.addWidget(self.search_button)

        self.result = MessagePanel(w.SEARCH_RESULT)
        self.busy = label()
        self.cancel = named(QPushButton(w.CANCEL_SEARCH), w.CANCEL_SEARCH_NAME)
        busy_row = QHBoxLayout()
        busy_row.addWidget(self.busy, 1)
        busy_row.addWidget(self.cancel)
        self.saving_note = label(w.WAIT_FOR_SAVE)

        layout = QVBoxLayout(self)
        layout.addWidget(by_number)
        layout.addWidget(by_details)
        layout.addLayout(busy_row)
        layout.addWidget(self.saving_note)
        layout.addWidget(self.result)
        layout.addStretch(1)
        self.set_busy(None)
        self.set_saving(False)
        self.setTabOrder(self.nhs, self.find_button)
        self.setTabOrder(self.find_button, self.family)

    # --- actions --------------------------------------------------------------------------------------------

    def look_up(self, text: str | None = None) -> None:
        """Find by NHS number: what is in the box, or ``text`` as if typed (for code that drives the screen)."""
        if text is not None:
            self.nhs.set_number_text(text)
        if not self.find_button.isEnabled():
            return
        self._clear_messages()
        self.started.emit()
        self._controller.look_up(self.nhs.text())

    def _look_up_typed(self) -> None:
        self.look_up()

    def search(self) -> None:
        if not self.search_button.isEnabled():
            return
        self._clear_messages()
        self.started.emit()
        self._controller.trace(
            family_name=self.family.text(),
            given_name=self.given.text(),
            gender=str(self.gender.currentData() or ""),
            date_of_birth=self.birth.text(),
            postcode=self.postcode.text(),
        )

    # --- what the controller reports ------------------------------------------------------------------------

    def show_trace(self, outcome: TraceOutcome) -> None:
        kind = "success" if outcome.result is TraceResult.MATCH else "warning"
        self.result.show_message(outcome.message, kind)

    def show_failure(self, error: ConsentDesktopError, action: str) -> None:
        if isinstance(error, InvalidInput) and error.field in self.field_messages:
            message = self.field_messages[error.field]
            message.setObjectName("fieldError")
            message.setText(error.user_message)
            message.show()
            _restyle(message)
            field = self._fields[error.field]
            field.setAccessibleDescription(error.user_message)
            field.setFocus()
            return
        self.result.show_error(error, action)

    def set_busy(self, text: str | None, *, cancellable: bool = True) -> None:
        self.busy.setText(text or "")
        self.busy.setVisible(bool(text))
        self.cancel.setVisible(bool(text) and cancellable)

    def set_saving(self, saving: bool) -> None:
        """While a change is on its way to Spine, no other patient can be brought up."""
        self.find_button.setEnabled(not saving)
        self.search_button.setEnabled(not saving)
        self.saving_note.setVisible(saving)

    def clear(self) -> None:
        """Every typed detail and every message goes (on lock and sign-out)."""
        self.nhs.clear()
        for field in (self.family, self.given, self.birth, self.postcode):
            field.clear()
        self.gender.setCurrentIndex(0)
        self._clear_messages()
        self.set_busy(None)

    def _clear_messages(self) -> None:
        for field, message in self.field_messages.items():
            message.clear()
            message.hide()
            self._fields[field].setAccessibleDescription("")
        self.result.clear()

    # --- building -------------------------------------------------------------------------------------------

    def _line(self, name: str, description: str) -> QLineEdit:
        line = named(QLineEdit(), name, description)
        line.returnPressed.connect(self.search)
        return line

    def _field_message(self, name: str) -> QLabel:
        message = label()
        message.setAccessibleName(w.FIELD_MESSAGE.format(field=name))
        message.hide()
        return message

    def _show_check(self, message: str, valid: bool) -> None:
        self.nhs_hint.setObjectName("validHint" if valid else "fieldError" if self.nhs.property("invalid") else "")
        self.nhs_hint.setText(message)
        self.nhs_hint.setVisible(bool(message))
        self.nhs.setAccessibleDescription(message)
        _restyle(self.nhs_hint)


def _restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)

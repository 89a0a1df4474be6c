"""Changing the patient's choice in two deliberate steps: what the patient wants and how they gave the instruction
(in person or in writing, confirmed by the user), then a check that restates the patient and the new state before
anything is sent.

Both dialogs fit the screen at any text size: their content scrolls and their buttons stay in view. Closing either
one once the user has made choices asks first; a lock closes them without asking and empties them.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from consent_desktop.domain.consent import NOTE_MAX, ConsentChoice, ConsentRecord, ExpressedBy
from consent_desktop.domain.patient import Patient
from consent_desktop.ui import wording as w
from consent_desktop.ui.forget import empty
from consent_desktop.ui.text import fit_to_screen, label, named

WIDTH_IN_CHARACTERS = 90


def _patient_lines(patient: Patient, today: date) -> QFormLayout:
    form = QFormLayout()
    form.addRow(w.PATIENT, label(patient.display_name, bold=True))
    form.addRow(w.NHS_NO, label(patient.nhs_number.formatted, bold=True))
    form.addRow(w.BORN, label(patient.born(today)))
    return form


def warm_up(parent: QWidget) -> None:
    """Pay Qt's first use of the kinds of widget the change dialogs hold (the note's text document, option buttons in
    a group, a scroll area) now: building the first change dialog took 11-15 ms, 5 ms once these have been made
    (measured for issue 17). Called while the sign-in screen waits; nothing is shown."""
    holder = QWidget(parent)
    layout = QVBoxLayout(holder)
    group = QGroupBox(w.NEW_CHOICE)
    QVBoxLayout(group).addWidget(QRadioButton(w.NEW_CHOICE))
    for widget in (group, QCheckBox(w.HAVE_INSTRUCTION), QPlainTextEdit(), QScrollArea(), QDialogButtonBox()):
        layout.addWidget(widget)
    holder.ensurePolished()
    holder.sizeHint()
    holder.deleteLater()


class _ChangeStep(QDialog):
    """A step of the change: scrolling content, Continue-or-Cancel buttons always in view, and the question before
    choices the user has made are thrown away."""

    def __init__(self, title: str, go: str, go_name: str, cancel_name: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        named(self, title)
        self.question: QMessageBox | None = None
        self._wiping = False
        self.body = QWidget()
        self.content = QVBoxLayout(self.body)
        self.scroller = QScrollArea()
        self.scroller.setWidget(self.body)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.buttons = QDialogButtonBox()
        self.go = named(QPushButton(go), go_name)
        self.buttons.addButton(self.go, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel = named(QPushButton(w.CANCEL), cancel_name)
        self.buttons.addButton(self.cancel, QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.footer = QVBoxLayout()
        self.footer.addWidget(self.buttons)
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.scroller, 1)
        self._layout.addLayout(self.footer)

    @property
    def has_choices(self) -> bool:
        """Whether closing now would throw away something the user chose or typed."""
        return True

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Room for all of the content without scrolling (the screen may then allow less)."""
        hint = super().sizeHint()
        unscrolled = self.body.sizeHint().height() + self.footer.sizeHint().height()
        margins = self._layout.contentsMargins()
        return QSize(hint.width(), max(hint.height(), unscrolled + margins.top() + margins.bottom() + 12))

    def reject(self) -> None:
        if self._wiping or not self.has_choices:
            super().reject()
            return
        if self.question is None:
            self.question = self._ask_before_discarding()
            self.question.open()

    def wipe(self) -> None:
        """Empty every label and box, and close without asking: a lock must leave no patient detail in any
        window."""
        self._wiping = True
        if self.question is not None:
            self.question.close()
        for text in self.findChildren(QLabel):
            text.clear()
        for box in self.findChildren(QPlainTextEdit):
            empty(box)  # with its undo history: the next user cannot bring the note back
        super().reject()

    def fit(self) -> None:
        fit_to_screen(self, WIDTH_IN_CHARACTERS)

    def _ask_before_discarding(self) -> QMessageBox:
        question = QMessageBox(QMessageBox.Icon.Question, w.DISCARD_TITLE, w.DISCARD_QUESTION, parent=self)
        named(question, w.DISCARD_TITLE)
        # Parented at once: the message box does not take ownership of buttons Python created.
        discard = named(QPushButton(w.DISCARD, question), w.DISCARD.replace("&", ""))
        keep = named(QPushButton(w.KEEP_EDITING, question), w.KEEP_EDITING.replace("&", ""))
        question.addButton(discard, QMessageBox.ButtonRole.DestructiveRole)
        question.addButton(keep, QMessageBox.ButtonRole.RejectRole)
        question.setDefaultButton(keep)  # the safe answer is the one Enter gives
        question.setEscapeButton(keep)
        question.finished.connect(lambda _code: self._answered(question, discard))
        return question

    def _answered(self, question: QMessageBox, discard: QPushButton) -> None:
        self.question = None
        if question.clickedButton() is discard:
            self._wiping = True  # the user chose to throw the change away: nothing more to ask
            super().reject()


class ChangeConsentDialog(_ChangeStep):
    def __init__(self, patient: Patient, record: ConsentRecord, today: date, parent: QWidget | None = None) -> None:
        super().__init__(w.CHANGE_TITLE, w.GO_ON, w.GO_ON_NAME, w.CANCEL_NAME, parent)
        current = record.choice
        heading = label(w.CHANGE_TITLE, factor=1.3, bold=True)
        now = label(w.ON_SPINE_NOW.format(state=w.STATE_HEADLINE[w.shown_state(record)]))

        choices = named(QGroupBox(w.NEW_CHOICE), w.NEW_CHOICE)
        self.choices = QButtonGroup(self)
        choices_layout = QVBoxLayout(choices)
        self._choice_buttons: dict[ConsentChoice, QRadioButton] = {}
        for index, choice in enumerate(ConsentChoice):
            words = w.CHOICE_WORDS[choice]
            button = named(QRadioButton(w.CURRENT_CHOICE.format(choice=words) if choice is current else words), words)
            button.setEnabled(choice is not current)
            button.setChecked(choice is not current)
            self.choices.addButton(button, index)
            choices_layout.addWidget(button)
            self._choice_buttons[choice] = button
        self.consequence = label()
        choices_layout.addWidget(self.consequence)

        how = named(QGroupBox(w.HOW_GIVEN), w.HOW_GIVEN_NAME)
        self.how = QButtonGroup(self)
        how_layout = QVBoxLayout(how)
        self._how_buttons: dict[ExpressedBy, QRadioButton] = {}
        for index, expressed in enumerate(w.OFFERED_WAYS):
            button = named(QRadioButton(w.EXPRESSED[expressed]), w.EXPRESSED[expressed])
            self.how.addButton(button, index)
            how_layout.addWidget(button)
            self._how_buttons[expressed] = button
        self.representative = label(w.REPRESENTATIVE_CHECK, bold=True)
        how_layout.addWidget(self.representative)
        self.have_instruction = named(
            QCheckBox(w.HAVE_INSTRUCTION), w.HAVE_INSTRUCTION_NAME, w.HAVE_INSTRUCTION_DESCRIPTION
        )
        how_layout.addWidget(self.have_instruction)

        self.note = named(QPlainTextEdit(), w.NOTE_NAME, w.NOTE_DESCRIPTION.format(limit=NOTE_MAX))
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(self.note.fontMetrics().lineSpacing() * 4 + 12)
        note_caption = QLabel(w.NOTE)
        note_caption.setBuddy(self.note)
        self.count = label()
        self.hint = label()

        for widget in (heading, now, choices, how, note_caption, self.note, self.count):
            self.content.addWidget(widget)
        self.content.insertLayout(1, _patient_lines(patient, today))
        self.content.addStretch(1)
        self.footer.insertWidget(0, self.hint)  # why Continue waits, next to it
        self.choices.buttonToggled.connect(lambda *_: self._update())
        self.how.buttonToggled.connect(lambda *_: self._update())
        self.have_instruction.toggled.connect(self._instruction_confirmed)
        self.note.textChanged.connect(self._update)
        self.go.setDefault(True)  # only once in the dialog: Qt restores a default it registered with the dialog
        self._update()
        self._how_buttons[w.OFFERED_WAYS[0]].setFocus()  # the first thing to answer
        self.fit()

    @property
    def choice(self) -> ConsentChoice | None:
        return next((c for c, b in self._choice_buttons.items() if b.isChecked()), None)

    @property
    def expressed_by(self) -> ExpressedBy | None:
        return next((e for e, b in self._how_buttons.items() if b.isChecked()), None)

    @property
    def has_choices(self) -> bool:
        return self.expressed_by is not None or self.have_instruction.isChecked() or bool(self.note_text.strip())

    def choose(
        self, choice: ConsentChoice, expressed_by: ExpressedBy, note: str = "", *, have_instruction: bool = True
    ) -> None:
        """Fill the form as a user would (for code that drives the screen)."""
        self._choice_buttons[choice].setChecked(True)
        self._how_buttons[expressed_by].setChecked(True)
        self.have_instruction.setChecked(have_instruction)
        self.note.setPlainText(note)

    @property
    def note_text(self) -> str:
        return self.note.toPlainText()

    def _instruction_confirmed(self, confirmed: bool) -> None:
        self._update()
        if confirmed and self.go.isEnabled():
            self.go.setFocus()  # everything is answered: Continue is the next step

    def _update(self) -> None:
        choice = self.choice
        self.consequence.setText(w.CONSEQUENCES[choice] if choice else "")
        self.representative.setVisible(self.expressed_by is ExpressedBy.REPRESENTATIVE)
        length = len(" ".join(self.note_text.split()))
        too_long = length > NOTE_MAX
        self.count.setText(w.NOTE_COUNT.format(length=length, limit=NOTE_MAX) + (w.NOTE_TOO_LONG if too_long else ""))
        missing = w.CHOOSE_HOW if self.expressed_by is None else ""
        if not missing and not self.have_instruction.isChecked():
            missing = w.CONFIRM_INSTRUCTION
        self.hint.setText(missing)
        self.hint.setVisible(bool(missing))
        self.go.setEnabled(choice is not None and not missing and not too_long)


class ConfirmChangeDialog(_ChangeStep):
    def __init__(  # noqa: PLR0917 - everything the confirmation restates
        self,
        patient: Patient,
        record: ConsentRecord,
        choice: ConsentChoice,
        expressed_by: ExpressedBy,
        note: str,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(w.CHECK_TITLE, w.SAVE_TO_SPINE, w.SAVE_TO_SPINE_NAME, w.CANCEL_NOTHING_SENT, parent)
        self.save = self.go
        change = _patient_lines(patient, today)  # one form: the patient and the change line up
        change.addRow(w.FROM, label(w.STATE_HEADLINE[w.shown_state(record)]))
        change.addRow(w.TO, label(w.STATE_HEADLINE[w.state_of(choice)], bold=True))
        change.addRow(w.HOW, label(w.EXPRESSED[expressed_by]))
        change.addRow(w.NOTE_ROW, label(" ".join(note.split()) or w.NO_NOTE))
        self.content.addWidget(label(w.CHECK_HEADING, factor=1.3, bold=True))
        self.content.addLayout(change)
        self.content.addWidget(label(w.CONSEQUENCES[choice]))
        self.content.addWidget(label(w.SENDS_AT_ONCE, bold=True))
        self.content.addStretch(1)
        self.save.setDefault(True)
        self.save.setFocus()  # the primary answer: Enter or Space saves
        self.fit()

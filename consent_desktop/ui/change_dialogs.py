"""Changing consent in two deliberate steps: what the patient wants and how they said so, then a confirmation
that restates the patient and the new state before anything is sent."""

from __future__ import annotations

from datetime import date

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from consent_desktop.domain.consent import NOTE_MAX, ConsentChoice, ConsentRecord, ExpressedBy
from consent_desktop.domain.patient import Patient
from consent_desktop.ui.text import label, named
from consent_desktop.ui.wording import CANNOT_CANCEL, CONSEQUENCES, EXPRESSED

REPRESENTATIVE_CHECK = "Check that the representative has the authority to make this choice for the patient."
CHOOSE_HOW = "Choose how the patient expressed this choice."


def _patient_lines(patient: Patient, today: date) -> QFormLayout:
    form = QFormLayout()
    form.addRow("Patient", label(patient.display_name, bold=True))
    form.addRow("NHS No.", label(patient.nhs_number.formatted, bold=True))
    form.addRow("Born", label(patient.born(today)))
    return form


class _Wipeable(QDialog):
    def wipe(self) -> None:
        """Empty every label before closing: a lock must leave no patient detail in any window."""
        for text in self.findChildren(QLabel):
            text.clear()
        for box in self.findChildren(QPlainTextEdit):
            box.clear()
        self.reject()


class ChangeConsentDialog(_Wipeable):
    def __init__(self, patient: Patient, record: ConsentRecord, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change Summary Care Record consent")
        named(self, "Change Summary Care Record consent")
        self.setMinimumWidth(560)
        current = record.choice
        heading = label("Change Summary Care Record consent", factor=1.3, bold=True)
        now = label(f"On Spine now: {record.plain_english}")

        choices = named(QGroupBox("New choice"), "New choice")
        self.choices = QButtonGroup(self)
        choices_layout = QVBoxLayout(choices)
        self._choice_buttons: dict[ConsentChoice, QRadioButton] = {}
        for index, choice in enumerate(ConsentChoice):
            text = choice.plain_english + (" (the current value)" if choice is current else "")
            button = named(QRadioButton(text), choice.plain_english)
            button.setEnabled(choice is not current)
            button.setChecked(choice is not current)
            self.choices.addButton(button, index)
            choices_layout.addWidget(button)
            self._choice_buttons[choice] = button
        self.consequence = label()
        choices_layout.addWidget(self.consequence)

        how = named(QGroupBox("How did the patient express this choice?"), "How the patient expressed the choice")
        self.how = QButtonGroup(self)
        how_layout = QVBoxLayout(how)
        self._how_buttons: dict[ExpressedBy, QRadioButton] = {}
        for index, expressed in enumerate(ExpressedBy):
            button = named(QRadioButton(EXPRESSED[expressed]), EXPRESSED[expressed])
            self.how.addButton(button, index)
            how_layout.addWidget(button)
            self._how_buttons[expressed] = button
        self.representative = label(REPRESENTATIVE_CHECK, bold=True)
        how_layout.addWidget(self.representative)

        self.note = named(QPlainTextEdit(), "Note", f"Optional, at most {NOTE_MAX} characters; kept in the local audit")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(self.note.fontMetrics().lineSpacing() * 4 + 12)
        note_caption = QLabel("&Note (optional)")
        note_caption.setBuddy(self.note)
        self.count = label()
        self.hint = label(CHOOSE_HOW)

        buttons, self.go = _buttons(self, "&Continue", "Continue to the confirmation", "Cancel the change")

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(_patient_lines(patient, today))
        layout.addWidget(now)
        layout.addWidget(choices)
        layout.addWidget(how)
        layout.addWidget(note_caption)
        layout.addWidget(self.note)
        layout.addWidget(self.count)
        layout.addWidget(self.hint)
        layout.addWidget(buttons)
        self.choices.buttonToggled.connect(lambda *_: self._update())
        self.how.buttonToggled.connect(lambda *_: self._update())
        self.note.textChanged.connect(self._update)
        self.go.setDefault(True)  # only once in the dialog: Qt restores a default it registered with the dialog
        self._update()

    @property
    def choice(self) -> ConsentChoice | None:
        return next((c for c, b in self._choice_buttons.items() if b.isChecked()), None)

    @property
    def expressed_by(self) -> ExpressedBy | None:
        return next((e for e, b in self._how_buttons.items() if b.isChecked()), None)

    def choose(self, choice: ConsentChoice, expressed_by: ExpressedBy, note: str = "") -> None:
        """Fill the form as a user would (for code that drives the screen)."""
        self._choice_buttons[choice].setChecked(True)
        self._how_buttons[expressed_by].setChecked(True)
        self.note.setPlainText(note)

    @property
    def note_text(self) -> str:
        return self.note.toPlainText()

    def _update(self) -> None:
        choice = self.choice
        self.consequence.setText(CONSEQUENCES[choice] if choice else "")
        self.representative.setVisible(self.expressed_by is ExpressedBy.REPRESENTATIVE)
        length = len(" ".join(self.note_text.split()))
        too_long = length > NOTE_MAX
        self.count.setText(
            f"{length} of {NOTE_MAX} characters" + (" \N{EM DASH} too long: shorten the note." if too_long else "")
        )
        missing = self.expressed_by is None
        self.hint.setText(CHOOSE_HOW if missing else "")
        self.hint.setVisible(missing)
        self.go.setEnabled(choice is not None and not missing and not too_long)


class ConfirmChangeDialog(_Wipeable):
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
        super().__init__(parent)
        self.setWindowTitle("Check before saving")
        named(self, "Check before saving")
        self.setMinimumWidth(560)
        heading = label("Check before saving to Spine", factor=1.3, bold=True)
        change = QFormLayout()
        change.addRow("From", label(record.plain_english))
        change.addRow("To", label(choice.plain_english, bold=True))
        change.addRow("How expressed", label(EXPRESSED[expressed_by]))
        change.addRow("Note", label(" ".join(note.split()) or "None"))
        consequence = label(CONSEQUENCES[choice])
        warning = label(f"Saving sends the change to Spine at once. {CANNOT_CANCEL}", bold=True)
        buttons, self.save = _buttons(self, "&Save to Spine", "Save the change to Spine", "Cancel; nothing is sent")
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(_patient_lines(patient, today))
        layout.addLayout(change)
        layout.addWidget(consequence)
        layout.addWidget(warning)
        layout.addWidget(buttons)
        self.save.setDefault(True)


def _buttons(dialog: QDialog, go: str, go_name: str, cancel_name: str) -> tuple[QDialogButtonBox, QPushButton]:
    """The dialog's two answers: go on (the default is set by the dialog) or cancel, which sends nothing."""
    buttons = QDialogButtonBox()
    go_button = named(QPushButton(go), go_name)
    buttons.addButton(go_button, QDialogButtonBox.ButtonRole.AcceptRole)
    buttons.addButton(named(QPushButton("Cancel"), cancel_name), QDialogButtonBox.ButtonRole.RejectRole)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons, go_button

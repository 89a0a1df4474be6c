"""The patient's SCR consent as Spine holds it, the Change action (or why it is not available), and the honest
result of a change after Spine has been read again."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from consent_desktop.auth.session import SessionChange
from consent_desktop.controller.controller import Controller
from consent_desktop.domain.consent import ConsentChoice, ConsentRecord, ExpressedBy, SaveOutcome, SaveResult
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Patient
from consent_desktop.ui.change_dialogs import ChangeConsentDialog, ConfirmChangeDialog
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.history_dialog import HistoryDialog
from consent_desktop.ui.resources import pixmap
from consent_desktop.ui.slip import DEFAULT_FILE_NAME, render_pdf, slip_for
from consent_desktop.ui.text import label, named
from consent_desktop.ui.wording import CANNOT_CANCEL, GP_SYSTEM_NOTE, SAVE_SLIP, when

READING = "Reading consent from Spine\N{HORIZONTAL ELLIPSIS}"
NOT_KNOWN = "Not known \N{EM DASH} use Check again to read what Spine holds now"
_RESULT_KIND = {SaveOutcome.SAVED: "success", SaveOutcome.NOT_SAVED: "error", SaveOutcome.UNCONFIRMED: "warning"}
_RESULT_ICON = {SaveOutcome.SAVED: "saved", SaveOutcome.NOT_SAVED: "not-saved", SaveOutcome.UNCONFIRMED: "unconfirmed"}


class ConsentPanel(QGroupBox):
    saving_changed = Signal(bool)  # a change is on its way to Spine (nothing else may replace this patient)

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__("Summary Care Record consent on Spine", parent)
        named(self, "Summary Care Record consent on Spine")
        self._controller = controller
        self.patient: Patient | None = None
        self.record: ConsentRecord | None = None
        self.result: SaveResult | None = None
        self.user: SessionChange | None = None
        self.confirmed = False
        self.pending: NhsNumber | None = None  # whose change is on its way to Spine; survives a lock
        self.reading = False
        self.dialogs: list[QDialog] = []

        value_frame = QFrame()
        value_frame.setObjectName("consentValue")
        self._value_icon = QLabel()
        self.value = label(factor=1.25, bold=True)
        value_row = QHBoxLayout(value_frame)
        value_row.addWidget(self._value_icon, 0, Qt.AlignmentFlag.AlignTop)
        value_row.addWidget(self.value, 1)
        self.notes = label()
        self.read_at = label()
        self.read_problem = MessagePanel("Problem reading consent")

        gp_icon = QLabel()
        gp_icon.setPixmap(pixmap("info", 20, self.devicePixelRatioF()))
        gp_icon.setAccessibleName("Information")
        self.gp_note = label(GP_SYSTEM_NOTE)
        gp_row = QHBoxLayout()
        gp_row.addWidget(gp_icon, 0, Qt.AlignmentFlag.AlignTop)
        gp_row.addWidget(self.gp_note, 1)

        self.change = named(QPushButton("&Change consent\N{HORIZONTAL ELLIPSIS}"), "Change consent")
        self.change.clicked.connect(self.begin_change)
        self.check_again = named(QPushButton("Check &again"), "Check again: read the consent from Spine again")
        self.check_again.clicked.connect(self.read_again)
        self.history = named(QPushButton("&History\N{HORIZONTAL ELLIPSIS}"), "Consent change history")
        self.history.clicked.connect(self.show_history)
        self.slip = named(
            QPushButton("Sa&ve confirmation slip\N{HORIZONTAL ELLIPSIS}"),
            "Save a confirmation slip for the patient as a PDF",
        )
        self.slip.clicked.connect(self.choose_slip_file)
        self.change_reason = label()
        named(self.change_reason, "Why consent cannot be changed")
        self._reason_icon = QLabel()
        self._reason_icon.setPixmap(pixmap("lock", 18, self.devicePixelRatioF()))
        self._reason_icon.setAccessibleName("Not available")
        reason_row = QHBoxLayout()
        reason_row.addWidget(self._reason_icon, 0, Qt.AlignmentFlag.AlignTop)
        reason_row.addWidget(self.change_reason, 1)
        buttons = QGridLayout()  # two rows: still all in view with the text made large
        for index, button in enumerate((self.change, self.check_again, self.history, self.slip)):
            buttons.addWidget(button, index // 2, index % 2)
        buttons.setColumnStretch(2, 1)
        self.outcome = MessagePanel("Result of the change")
        self.outcome.setObjectName("resultPanel")
        self.slip_saved = MessagePanel("Confirmation slip")

        layout = QVBoxLayout(self)
        layout.addWidget(value_frame)
        layout.addWidget(self.notes)
        layout.addWidget(self.read_at)
        layout.addWidget(self.read_problem)
        layout.addLayout(buttons)
        layout.addLayout(reason_row)
        layout.addWidget(self.outcome)
        layout.addWidget(self.slip_saved)
        layout.addLayout(gp_row)
        self.clear()

    # --- what is shown -----------------------------------------------------------------------------------------

    @property
    def saving(self) -> bool:
        return self.pending is not None

    def show_patient(self, patient: Patient) -> None:
        """A new patient (or the same one after unlocking): read their consent afresh."""
        self.clear()
        self.patient = patient
        self.setVisible(True)
        if self.pending == patient.nhs_number:
            self._show_saving_message()  # sent before a lock; its answer has not come yet
        self.read_again()

    def set_user(self, user: SessionChange | None) -> None:
        self.user = user
        self._update()

    def set_confirmed(self, confirmed: bool) -> None:
        self.confirmed = confirmed
        self._update()

    def read_again(self) -> None:
        if self.patient is None:
            return
        self.reading = True
        self.read_problem.clear()
        if self.record is None:
            self._show_value(READING)
        else:
            self.read_at.setText(
                f"Read from Spine at {when(self.record.read_at)}. Checking Spine again\N{HORIZONTAL ELLIPSIS}"
            )
        self._update()
        self._controller.load_consent(self.patient.nhs_number)

    def show_record(self, record: ConsentRecord) -> None:
        if self.patient is None or record.nhs_number != self.patient.nhs_number:
            return  # an answer about someone no longer on screen
        self.record = record
        self.reading = False
        self.read_problem.clear()
        self._show_value(record.plain_english)
        self.notes.setText("\n".join(record.notes))
        self.notes.setVisible(bool(record.notes))
        self.read_at.setText(f"Read from Spine at {when(record.read_at)}.")
        self._update()

    def show_saving(self) -> None:
        if self.patient is not None:
            self._set_pending(self.patient.nhs_number)
        self._show_saving_message()
        self._update()

    def _show_saving_message(self) -> None:
        self.outcome.show_message(
            f"Wait for Spine's answer before telling the patient anything. {CANNOT_CANCEL}",
            "info",
            headline="Saving to Spine\N{HORIZONTAL ELLIPSIS}",
        )
        self.outcome.setProperty("outcome", "saving")
        self._restyle_outcome()
        self.slip_saved.clear()

    def show_result(self, result: SaveResult) -> None:
        self._set_pending(None)
        self.result = result
        if result.record is not None:
            self.show_record(result.record)
        elif result.outcome is SaveOutcome.UNCONFIRMED:
            self.record = None  # what Spine holds is not known: the old value must not look current
            self._show_value(NOT_KNOWN)
            self.notes.clear()
            self.read_at.clear()
        self.outcome.show_message(
            " ".join(part for part in (_result_detail(result), result.warning) if part),
            _RESULT_KIND[result.outcome],
            headline=result.headline,
            icon=_RESULT_ICON[result.outcome],
        )
        self.outcome.setProperty("outcome", result.outcome.value)
        self._restyle_outcome()
        if result.outcome is SaveOutcome.SAVED and result.record is None:
            self.read_again()  # acknowledged by Spine; show what it now holds
        self._update()

    def show_failure(self, error: ConsentDesktopError, action: str) -> None:
        if action == "change consent":
            self._set_pending(None)
            self.outcome.show_error(error, action, headline="NOT saved \N{EM DASH} nothing was sent to Spine")
            self.outcome.setProperty("outcome", SaveOutcome.NOT_SAVED.value)
            self._restyle_outcome()
        elif action == SAVE_SLIP:
            self.slip_saved.show_error(error, action, headline="The confirmation slip was not saved")
        else:
            self.reading = False
            if self.record is None:
                self._show_value(NOT_KNOWN)
            self.read_problem.show_error(error, action, headline="Spine's consent value could not be read")
        self._update()

    def cancelled(self) -> None:
        """The user stopped waiting for Spine: a read in progress will not be shown."""
        if self.reading:
            self.reading = False
            if self.record is None:
                self._show_value(NOT_KNOWN)
            else:
                self.read_at.setText(f"Read from Spine at {when(self.record.read_at)}.")
            self._update()

    def show_slip_saved(self, path: Path) -> None:
        self.slip_saved.show_message(f"Saved as {path.name} in {path.parent}.", "success")

    def forget_pending(self) -> None:
        """At sign-out: whatever the answer, it is no longer this screen's to show (the audit has it)."""
        self._set_pending(None)

    def clear(self) -> None:
        """Forget the patient and empty every label; close any dialog about them. A change still on its way to
        Spine is remembered (by NHS number only) so that it is not forgotten across a lock."""
        for dialog in list(self.dialogs):
            wipe = getattr(dialog, "wipe", None)
            if callable(wipe):
                wipe()
            dialog.close()
        self.dialogs = []
        self.patient = None
        self.record = None
        self.result = None
        self.confirmed = False
        self.reading = False
        self.value.clear()
        self._value_icon.clear()
        self.notes.clear()
        self.notes.hide()
        self.read_at.clear()
        self.read_problem.clear()
        self.outcome.clear()
        self.outcome.setProperty("outcome", "")
        self.slip_saved.clear()
        self.change_reason.clear()
        self._update()
        self.setVisible(False)

    # --- changing ------------------------------------------------------------------------------------------

    def begin_change(self) -> None:
        if not self.change.isEnabled() or self.patient is None or self.record is None:
            return
        dialog = ChangeConsentDialog(self.patient, self.record, date.today(), self)
        dialog.accepted.connect(lambda: self._confirm(dialog))
        self._open(dialog)

    def _confirm(self, chosen: ChangeConsentDialog) -> None:
        choice, expressed = chosen.choice, chosen.expressed_by
        if self.patient is None or self.record is None or choice is None or expressed is None:
            return
        note = chosen.note_text
        dialog = ConfirmChangeDialog(self.patient, self.record, choice, expressed, note, date.today(), self)
        dialog.accepted.connect(lambda: self._save(choice, expressed, note))
        self._open(dialog)

    def _save(self, choice: ConsentChoice, expressed: ExpressedBy, note: str) -> None:
        if self.patient is None or not self.change.isEnabled():
            return
        self.show_saving()
        self._controller.change_consent(self.patient, self.record, choice, expressed, note)

    # --- history and the slip ----------------------------------------------------------------------------------

    def show_history(self) -> None:
        if self.patient is None:
            return
        dialog = HistoryDialog(self.patient, self.user, self)
        self._open(dialog)
        self._controller.load_history(self.patient.nhs_number)

    @property
    def history_dialog(self) -> HistoryDialog | None:
        return next((d for d in reversed(self.dialogs) if isinstance(d, HistoryDialog)), None)

    def choose_slip_file(self) -> None:
        dialog = QFileDialog(self, "Save the confirmation slip")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("PDF files (*.pdf)")
        dialog.setDefaultSuffix("pdf")
        dialog.selectFile(DEFAULT_FILE_NAME)
        dialog.fileSelected.connect(lambda chosen: self.save_slip_to(Path(chosen)))
        self._open(dialog)

    def save_slip_to(self, path: Path) -> None:
        """Lay the slip out here, and have the controller write it to disk off the GUI thread."""
        result, patient, user = self.result, self.patient, self.user
        if result is None or patient is None or user is None or result.outcome is not SaveOutcome.SAVED:
            return
        self.slip_saved.show_message("Saving the confirmation slip\N{HORIZONTAL ELLIPSIS}", "info")
        self._controller.write_file(path, render_pdf(slip_for(patient, result, user)), SAVE_SLIP)

    # --- internals -------------------------------------------------------------------------------------------

    def _open(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _code: self._forget(dialog))
        dialog.open()

    def _forget(self, dialog: QDialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)

    def _show_value(self, text: str) -> None:
        self.value.setText(text)
        self.value.setAccessibleName(f"Consent on Spine: {text}")
        icon = "unconfirmed" if text == NOT_KNOWN else "info"
        self._value_icon.setPixmap(pixmap(icon, 24, self.devicePixelRatioF()))

    def _set_pending(self, nhs_number: NhsNumber | None) -> None:
        was = self.saving
        self.pending = nhs_number
        if self.saving != was:
            self.saving_changed.emit(self.saving)

    def _restyle_outcome(self) -> None:
        self.outcome.style().unpolish(self.outcome)
        self.outcome.style().polish(self.outcome)

    def _why_not(self) -> str:
        """Why Change is not offered now, most lasting reason first; empty when it is."""
        if self.patient is None:
            return ""
        check = self._controller.change_check()
        if not check.allowed:
            return check.reason
        blocked = self.patient.consent_change_blocked_reason
        if blocked:
            return blocked
        if self.saving:
            return "A change is being saved to Spine."
        if self.record is None:
            return "Spine's current value has not been read. Use Check again first."
        if not self.confirmed:
            return "Confirm this is the right patient before changing their consent."
        return ""

    def _update(self) -> None:
        reason = self._why_not()
        has_patient = self.patient is not None
        self.change.setEnabled(has_patient and not reason)
        self.change.setAccessibleDescription(reason)
        self.change_reason.setText(reason)
        self.change_reason.setVisible(bool(reason))
        self._reason_icon.setVisible(bool(reason))
        self.check_again.setEnabled(has_patient and not self.saving and not self.reading)
        self.history.setEnabled(has_patient)
        saved = self.result is not None and self.result.outcome is SaveOutcome.SAVED
        self.slip.setEnabled(has_patient and saved and not self.saving and self.user is not None)


def _result_detail(result: SaveResult) -> str:
    if result.outcome is SaveOutcome.SAVED:
        if result.record is None:
            return "Spine accepted the change. Reading the value again to show it here."
        detail = f"Spine now holds: {result.record.plain_english}."
        if result.confirmed_by_reread:
            detail += " This was checked by reading the value back from Spine."
        return detail
    if result.outcome is SaveOutcome.NOT_SAVED:
        return "The value shown above is what Spine holds."
    if result.record is not None:
        return f"Spine now shows: {result.record.plain_english}. Check again before telling the patient anything."
    return "Use Check again to read what Spine holds now. Do not tell the patient the change was made until it shows."

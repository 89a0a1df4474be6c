"""The patient's Summary Care Record choice as Spine holds it, the Change action (or why it is not available), the
honest result of a change after Spine has been read again, what to record in the practice's GP system, and the
slip for the patient (printed, or saved as a PDF)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
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
from consent_desktop.ui import wording as w
from consent_desktop.ui.change_dialogs import ChangeConsentDialog, ConfirmChangeDialog, warm_up
from consent_desktop.ui.errors import HelpDeskDetails, MessagePanel
from consent_desktop.ui.history_dialog import HistoryDialog
from consent_desktop.ui.slip import Slip, paint_slip, render_pdf, slip_for
from consent_desktop.ui.text import SELECTABLE, icon_label, label, named, show_icon

NOT_KNOWN = w.STATE_HEADLINE[w.ShownState.NOT_KNOWN]
_RESULT_KIND = {SaveOutcome.SAVED: "success", SaveOutcome.NOT_SAVED: "error", SaveOutcome.UNCONFIRMED: "warning"}
_RESULT_ICON = {SaveOutcome.SAVED: "saved", SaveOutcome.NOT_SAVED: "not-saved", SaveOutcome.UNCONFIRMED: "unconfirmed"}


def print_dialog(printer: QPrinter, parent: QWidget) -> QDialog:
    """Qt's print dialog for ``printer``: the seam tests replace, as no test machine has a printer to choose."""
    return QPrintDialog(printer, parent)


class ConsentValue(QFrame):
    """One of three states, each said by its icon, its words and its colour (never colour only), with Spine's own
    stored values for the help desk."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("consentValue")
        self.state = w.ShownState.NOT_KNOWN
        self.icon = icon_label(w.STATE_ICON[self.state], 32, w.STATE_SHORT[self.state])
        self.headline = label(factor=1.25, bold=True)
        self.means = label()
        self.read_at = label()
        self.notes = label()
        self.help_desk = HelpDeskDetails()
        words = QVBoxLayout()
        for widget in (self.headline, self.means, self.notes, self.read_at, self.help_desk):
            words.addWidget(widget)
        layout = QHBoxLayout(self)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(words, 1)

    def show_state(self, state: w.ShownState, headline: str = "") -> None:
        self.state = state
        show_icon(self.icon, w.STATE_ICON[state], 32)
        self.icon.setAccessibleName(w.STATE_SHORT[state])
        self.headline.setText(headline or w.STATE_HEADLINE[state])
        self.headline.setAccessibleName(w.CONSENT_VALUE_NAME.format(text=self.headline.text()))
        self.means.setText(w.STATE_MEANS[state] if not headline else "")
        self.means.setVisible(bool(self.means.text()))
        self.setProperty("state", state.value)
        self.style().unpolish(self)
        self.style().polish(self)

    def show_record(self, record: ConsentRecord) -> None:
        self.show_state(w.shown_state(record))
        notes = w.record_notes(record)
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        self.help_desk.set_details(w.acs_details(record))

    def clear(self) -> None:
        self.show_state(w.ShownState.NOT_KNOWN, " ")
        self.headline.clear()
        self.read_at.clear()
        self.notes.clear()
        self.notes.hide()
        self.help_desk.set_details("")


class GpSystemRecord(QFrame):
    """After a change is saved: the entry for the practice's GP system, with a button that copies it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gpRecord")
        named(self, w.GP_RECORD_PANEL)
        self.heading = label(w.GP_RECORD_HEADING, factor=1.1, bold=True)
        self.why = label(w.GP_RECORD_WHY)
        self.entry = label(bold=True, selectable=True)
        self.entry.setTextInteractionFlags(SELECTABLE | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.elsewhere = label(bold=True)
        self.copy = named(QPushButton(w.COPY), w.COPY_NAME)
        self.copy.clicked.connect(self.copy_entry)
        self.copied = label()
        copy_row = QHBoxLayout()
        copy_row.addWidget(self.copy)
        copy_row.addWidget(self.copied, 1)
        words = QVBoxLayout()
        for widget in (self.heading, self.why, self.entry, self.elsewhere):
            words.addWidget(widget)
        words.addLayout(copy_row)
        layout = QHBoxLayout(self)
        layout.addWidget(icon_label("gp-system", 32, w.GP_RECORD_PANEL), 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(words, 1)
        self._copy_text = ""
        self.clear()

    def show_entry(self, choice: ConsentChoice, elsewhere: str | None) -> None:
        entry = w.GP_SYSTEM_ENTRY[choice]
        self._copy_text = entry.copied
        self.entry.setText(w.GP_RECORD_ENTRY.format(term=entry.term, concept_id=entry.concept_id))
        self.entry.setAccessibleName(self.entry.text())
        self.elsewhere.setText(w.GP_RECORD_ELSEWHERE.format(code=elsewhere) if elsewhere else "")
        self.elsewhere.setVisible(bool(elsewhere))
        self.copied.clear()
        self.show()

    def copy_entry(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if self._copy_text and clipboard is not None:
            clipboard.setText(self._copy_text)
            self.copied.setText(w.COPIED)

    def clear(self) -> None:
        self._copy_text = ""
        for text in (self.entry, self.elsewhere, self.copied):
            text.clear()
        self.hide()


class ConsentPanel(QGroupBox):
    saving_changed = Signal(bool)  # a change is on its way to Spine (nothing else may replace this patient)
    result_shown = Signal()  # the answer to a change is on screen: the page brings it into view

    def __init__(self, controller: Controller, parent: QWidget | None = None, *, training: bool = False) -> None:
        super().__init__(w.CONSENT_ON_SPINE, parent)
        named(self, w.CONSENT_ON_SPINE)
        self._controller = controller
        self.training = training  # every slip page then carries the training mark
        self.patient: Patient | None = None
        self.record: ConsentRecord | None = None
        self.result: SaveResult | None = None
        self.user: SessionChange | None = None
        self.confirmed = False
        self.pending: NhsNumber | None = None  # whose change is on its way to Spine; survives a lock
        self.reading = False
        self.registered_elsewhere: str | None = None  # the other practice's code, when the patient is theirs
        self.opted_back_in_at: datetime | None = None  # when this app removed the patient's opt-out
        self._before: ConsentRecord | None = None  # what Spine held when the change was sent
        self.dialogs: list[QDialog] = []

        self.current = ConsentValue()
        self.value = self.current.headline  # what a user reads first: the state in words
        self.opted_back_in = label()
        self.read_problem = MessagePanel(w.PROBLEM_READING)

        self.change = named(QPushButton(w.CHANGE), w.CHANGE_NAME)
        self.change.clicked.connect(self.begin_change)
        self.check_again = named(QPushButton(w.CHECK_AGAIN), w.CHECK_AGAIN_NAME)
        self.check_again.clicked.connect(self.read_again)
        self.history = named(QPushButton(w.HISTORY), w.HISTORY_NAME)
        self.history.clicked.connect(self.show_history)
        self.print_button = named(QPushButton(w.PRINT_SLIP), w.PRINT_SLIP_NAME)
        self.print_button.clicked.connect(self.print_slip)
        self.slip = named(QPushButton(w.SAVE_SLIP_BUTTON), w.SAVE_SLIP_NAME)
        self.slip.clicked.connect(self.choose_slip_file)
        self.change_reason = label()
        named(self.change_reason, w.WHY_NOT)
        self._reason_icon = icon_label("lock", 18, w.NOT_AVAILABLE)
        self.reason_details = HelpDeskDetails()
        reason_words = QVBoxLayout()
        reason_words.addWidget(self.change_reason)
        reason_words.addWidget(self.reason_details)
        reason_row = QHBoxLayout()
        reason_row.addWidget(self._reason_icon, 0, Qt.AlignmentFlag.AlignTop)
        reason_row.addLayout(reason_words, 1)
        buttons = QGridLayout()  # rows of three: still all in view with the text made large
        for index, button in enumerate((self.change, self.check_again, self.history, self.print_button, self.slip)):
            buttons.addWidget(button, index // 3, index % 3)
        buttons.setColumnStretch(3, 1)
        self.outcome = MessagePanel(w.RESULT)
        self.outcome.setObjectName("resultPanel")
        self.gp_record = GpSystemRecord()
        self.slip_saved = MessagePanel(w.SLIP_PANEL)
        gp_row = QHBoxLayout()
        gp_row.addWidget(icon_label("info", 20, w.INFORMATION), 0, Qt.AlignmentFlag.AlignTop)
        self.gp_note = label(w.GP_SYSTEM_NOTE)
        gp_row.addWidget(self.gp_note, 1)

        # The answer to a change comes straight after the value, so it is in view as soon as it arrives.
        layout = QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addWidget(self.opted_back_in)
        layout.addWidget(self.outcome)
        layout.addWidget(self.gp_record)
        layout.addWidget(self.read_problem)
        layout.addLayout(buttons)
        layout.addLayout(reason_row)
        layout.addWidget(self.slip_saved)
        layout.addLayout(gp_row)
        self.clear()

    # --- what is shown -----------------------------------------------------------------------------------------

    @property
    def saving(self) -> bool:
        return self.pending is not None

    def show_patient(self, patient: Patient, registered_elsewhere: str | None = None) -> None:
        """A new patient (or the same one after unlocking): read their choice afresh."""
        self.clear()
        self.patient = patient
        self.registered_elsewhere = registered_elsewhere
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
            self.current.show_state(w.ShownState.NOT_KNOWN, w.READING)
        else:
            self.current.read_at.setText(w.CHECKING_AGAIN.format(time=w.when(self.record.read_at)))
        self._update()
        self._controller.load_consent(self.patient.nhs_number)

    def show_record(self, record: ConsentRecord) -> None:
        if self.patient is None or record.nhs_number != self.patient.nhs_number:
            return  # an answer about someone no longer on screen
        self.record = record
        self.reading = False
        self.read_problem.clear()
        self.current.show_record(record)
        self.current.read_at.setText(w.READ_AT.format(time=w.when(record.read_at)))
        back_in = self.opted_back_in_at if record.choice is ConsentChoice.ASK_PERMISSION else None
        self.opted_back_in.setText(w.OPTED_BACK_IN.format(time=w.when(back_in)) if back_in else "")
        self.opted_back_in.setVisible(back_in is not None)
        self._update()

    def show_saving(self) -> None:
        if self.patient is not None:
            self._set_pending(self.patient.nhs_number)
        self._show_saving_message()
        self._update()

    def _show_saving_message(self) -> None:
        self.outcome.show_message(w.SAVING_WAIT, "info", headline=w.SAVING)
        self.outcome.setProperty("outcome", "saving")
        self._restyle_outcome()
        self.gp_record.clear()
        self.slip_saved.clear()

    def show_result(self, result: SaveResult) -> None:
        self._set_pending(None)
        self.result = result
        saved = result.outcome is SaveOutcome.SAVED
        before = self._before.choice if self._before is not None else None
        if saved and result.requested is ConsentChoice.ASK_PERMISSION and before is ConsentChoice.OPTED_OUT:
            self.opted_back_in_at = result.at
        if result.record is not None:
            self.show_record(result.record)
        elif result.outcome is SaveOutcome.UNCONFIRMED:
            self.record = None  # what Spine holds is not known: the old value must not look current
            self.current.clear()
            self.current.show_state(w.ShownState.NOT_KNOWN)
        self.outcome.show_message(
            " ".join(part for part in (_result_detail(result), result.warning) if part),
            _RESULT_KIND[result.outcome],
            headline=result.headline,
            icon=_RESULT_ICON[result.outcome],
        )
        self.outcome.setProperty("outcome", result.outcome.value)
        self._restyle_outcome()
        if saved:
            self.gp_record.show_entry(result.requested, self.registered_elsewhere)
        if saved and result.record is None:
            self.read_again()  # acknowledged by Spine; show what it now holds
        self._update()
        self.result_shown.emit()

    def show_failure(self, error: ConsentDesktopError, action: str) -> None:
        if action == "change consent":
            self._set_pending(None)
            self.outcome.show_error(error, action, headline=w.NOT_SAVED_NOTHING_SENT)
            self.outcome.setProperty("outcome", SaveOutcome.NOT_SAVED.value)
            self._restyle_outcome()
            self.result_shown.emit()
        elif action in (w.SAVE_SLIP, w.PRINT_SLIP_ACTION):
            self.slip_saved.show_error(error, action, headline=w.SLIP_NOT_SAVED)
        else:
            self.reading = False
            if self.record is None:
                self.current.show_state(w.ShownState.NOT_KNOWN)
            self.read_problem.show_error(error, action, headline=w.CANNOT_READ)
        self._update()

    def cancelled(self) -> None:
        """The user stopped waiting for Spine: a read in progress will not be shown."""
        if self.reading:
            self.reading = False
            if self.record is None:
                self.current.show_state(w.ShownState.NOT_KNOWN)
            else:
                self.current.read_at.setText(w.READ_AT.format(time=w.when(self.record.read_at)))
            self._update()

    def show_slip_saved(self, path: Path) -> None:
        self.slip_saved.show_message(w.SLIP_SAVED.format(name=path.name, folder=path.parent), "success")

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
        self.registered_elsewhere = None
        self.opted_back_in_at = None
        self._before = None
        self.current.clear()
        self.opted_back_in.clear()
        self.opted_back_in.hide()
        self.read_problem.clear()
        self.outcome.clear()
        self.outcome.setProperty("outcome", "")
        self.gp_record.clear()
        self.slip_saved.clear()
        self.change_reason.clear()
        self.reason_details.set_details("")
        self._update()
        self.setVisible(False)

    # --- changing ------------------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Before any patient: make the first change dialog open as quickly as the next (see ``warm_up``)."""
        warm_up(self)

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
        self._before = self.record
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

    def print_slip(self) -> None:
        """Qt's print dialog; the slip goes to the printer chosen there."""
        slip = self._slip()
        if slip is None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(w.SLIP_TITLE)
        dialog = print_dialog(printer, self)
        dialog.accepted.connect(lambda: self._print(slip, printer))
        self._open(dialog)

    def _print(self, slip: Slip, printer: QPrinter) -> None:
        # Painting hands the pages to the system's print queue; the printer itself works afterwards.
        if paint_slip(slip, printer) == 0:
            error = ConsentDesktopError(w.CANNOT_PRINT, "the printer could not be opened for painting")
            self.slip_saved.show_error(error, w.PRINT_SLIP_ACTION, headline=w.SLIP_NOT_PRINTED)
            return
        self.slip_saved.show_message(w.SLIP_PRINTED, "success")

    def choose_slip_file(self) -> None:
        dialog = QFileDialog(self, w.SLIP_SAVE_TITLE)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(w.SLIP_FILE_FILTER)
        dialog.setDefaultSuffix("pdf")
        dialog.selectFile(w.SLIP_FILE_NAME)
        dialog.fileSelected.connect(lambda chosen: self.save_slip_to(Path(chosen)))
        self._open(dialog)

    def save_slip_to(self, path: Path) -> None:
        """Lay the slip out here, and have the controller write it to disk off the GUI thread."""
        slip = self._slip()
        if slip is None:
            return
        self.slip_saved.show_message(w.SLIP_SAVING, "info")
        self._controller.write_file(path, render_pdf(slip), w.SAVE_SLIP)

    def _slip(self) -> Slip | None:
        result, patient, user = self.result, self.patient, self.user
        if result is None or patient is None or user is None or result.outcome is not SaveOutcome.SAVED:
            return None
        return slip_for(patient, result, user, training=self.training)

    # --- internals -------------------------------------------------------------------------------------------

    def _open(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _code: self._forget(dialog))
        QDialog.open(dialog)  # the plain window-modal open: the print and file dialogs hide it behind an overload

    def _forget(self, dialog: QDialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)

    def _set_pending(self, nhs_number: NhsNumber | None) -> None:
        was = self.saving
        self.pending = nhs_number
        if self.saving != was:
            self.saving_changed.emit(self.saving)

    def _restyle_outcome(self) -> None:
        self.outcome.style().unpolish(self.outcome)
        self.outcome.style().polish(self.outcome)

    def _why_not(self) -> tuple[str, str]:
        """Why Change is not offered now, most lasting reason first, and any details for the help desk; empty
        when it is offered."""
        if self.patient is None:
            return "", ""
        check = self._controller.change_check()
        if not check.allowed:
            role = self.user.role if self.user is not None else None
            if role is None:
                return check.reason, ""
            return w.CANNOT_CHANGE_ROLE.format(role=role.job_role_name), check.reason
        blocked = self.patient.consent_change_blocked_reason
        if blocked:
            return blocked, ""
        if self.saving:
            return w.CANNOT_CHANGE_SAVING, ""
        if self.record is None:
            return w.CANNOT_CHANGE_UNREAD, ""
        if not self.confirmed:
            return w.CANNOT_CHANGE_UNCONFIRMED, ""
        return "", ""

    def _update(self) -> None:
        reason, details = self._why_not()
        has_patient = self.patient is not None
        self.change.setEnabled(has_patient and not reason)
        self.change.setAccessibleDescription(reason)
        self.change_reason.setText(reason)
        self.change_reason.setVisible(bool(reason))
        self._reason_icon.setVisible(bool(reason))
        if details != self.reason_details.details.text():
            self.reason_details.set_details(details)
        self.check_again.setEnabled(has_patient and not self.saving and not self.reading)
        self.history.setEnabled(has_patient)
        saved = self.result is not None and self.result.outcome is SaveOutcome.SAVED
        for slip_button in (self.print_button, self.slip):
            slip_button.setEnabled(has_patient and saved and not self.saving and self.user is not None)


def _result_detail(result: SaveResult) -> str:
    if result.outcome is SaveOutcome.SAVED:
        if result.record is None:
            return w.SAVED_READING
        detail = w.SAVED_NOW_HOLDS.format(state=w.STATE_HEADLINE[w.shown_state(result.record)])
        if result.confirmed_by_reread:
            detail += " " + w.SAVED_CHECKED
        return detail
    if result.outcome is SaveOutcome.NOT_SAVED:
        return w.NOT_SAVED_SHOWN
    if result.record is not None:
        return w.UNCONFIRMED_NOW_SHOWS.format(state=w.STATE_HEADLINE[w.shown_state(result.record)])
    return w.UNCONFIRMED_CHECK

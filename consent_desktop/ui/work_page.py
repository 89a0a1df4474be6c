"""The signed-in screen: find a patient on the left; their banner and SCR consent on the right."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from consent_desktop.auth.session import SessionChange
from consent_desktop.controller.controller import Controller
from consent_desktop.domain.consent import ConsentRecord, SaveOutcome, SaveResult
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.domain.patient import Patient
from consent_desktop.ui.consent_panel import ConsentPanel
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.patient_banner import PatientBanner
from consent_desktop.ui.search_panel import SearchPanel
from consent_desktop.ui.text import label, named
from consent_desktop.ui.wording import SHORT

NO_PATIENT = "Find a patient by NHS number, or search PDS by their details."
NOT_WHILE_SAVING = (
    "A search result was not shown because a change is still being saved to Spine. Search again once the change "
    "has its answer."
)


class WorkPage(QWidget):
    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "Patient consent")
        self.controller = controller
        self.patient: Patient | None = None  # kept across a lock (not on screen) so unlocking can bring it back
        self.search = SearchPanel(controller)
        self.search.setMaximumWidth(520)
        self.search.cancel.clicked.connect(self.cancel)
        self.banner = PatientBanner()  # created before the consent panel: the Tab key meets it first
        self.consent = ConsentPanel(controller)
        self.banner.identity_confirmed.connect(self._identity_confirmed)
        self.consent.saving_changed.connect(self.search.set_saving)
        self.notice = MessagePanel("Notice")
        self.empty = label(NO_PATIENT, factor=1.2)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.notice)
        right_layout.addWidget(self.empty)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.consent)
        right_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(right)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout = QHBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(scroll, 1)
        self.wipe(keep_patient=False)

    # --- what the controller reports ------------------------------------------------------------------------

    def show_patient(self, patient: Patient) -> None:
        if self.consent.saving and self.consent.pending != patient.nhs_number:
            # A search sent before Save: its patient must not push the change out of sight.
            self.notice.show_message(NOT_WHILE_SAVING, "warning")
            return
        self.patient = patient
        self.notice.clear()
        self.empty.hide()
        self.banner.show_patient(patient, date.today())
        self.consent.show_patient(patient)

    def show_record(self, record: ConsentRecord) -> None:
        self.consent.show_record(record)

    def show_result(self, result: SaveResult) -> None:
        if self.consent.patient is not None and self.consent.patient.nhs_number == result.nhs_number:
            self.consent.show_result(result)
            return
        # Another patient is open, or none (the user signed out before the answer came, and is back): the
        # controller tells a change's outcome only to the user who made it.
        if self.consent.pending == result.nhs_number:
            self.consent.forget_pending()
        self.notice.show_message(
            f"Change to {SHORT[result.requested].lower()} for NHS No. {result.nhs_number.formatted}: "
            f"{result.headline}.",
            "success" if result.outcome is SaveOutcome.SAVED else "warning",
        )

    def show_failure(self, error: ConsentDesktopError, action: str) -> None:
        if action in ("look up", "search"):
            self.search.show_failure(error, action)
        elif action in ("read consent", "change consent", "save the confirmation slip"):
            self.consent.show_failure(error, action)
        elif action == "read history" and self.consent.history_dialog is not None:
            self.consent.history_dialog.show_failure(error, action)
        else:
            self.notice.show_error(error, action)

    def _identity_confirmed(self) -> None:
        self.consent.set_confirmed(True)

    def cancel(self) -> None:
        """Stop waiting for lookups and reads (a change already sent is not affected: it cannot be cancelled)."""
        self.controller.cancel()
        self.search.set_busy(None)
        self.consent.cancelled()

    def set_user(self, user: SessionChange) -> None:
        self.consent.set_user(user)

    # --- lock, unlock, sign-out -----------------------------------------------------------------------------

    def wipe(self, *, keep_patient: bool) -> None:
        """Empty every widget that could hold patient details. On a lock the patient is remembered off screen, so
        the same user sees them again after unlocking; on sign-out they are forgotten."""
        if not keep_patient:
            self.patient = None
            self.consent.forget_pending()
        self.search.clear()
        self.banner.clear()
        self.consent.clear()
        self.notice.clear()
        self.empty.show()

    def restore(self) -> None:
        """After unlocking: the patient again, identity to be confirmed again, consent read afresh."""
        if self.patient is not None:
            self.show_patient(self.patient)
        self.search.nhs.setFocus()

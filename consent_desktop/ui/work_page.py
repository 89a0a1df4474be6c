"""The signed-in screen: find a patient on the left; their banner and Summary Care Record choice on the right.

Starting a search closes the patient on screen at once: their banner, their choice and every action on them go
before Spine is asked anything, and answers still due about them are dropped. Until the new patient is found and
confirmed, nothing can be done to anyone; a search that fails leaves no patient selected.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from consent_desktop.auth.session import SessionChange
from consent_desktop.controller.controller import Controller
from consent_desktop.domain.consent import ConsentRecord, SaveOutcome, SaveResult
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.domain.patient import Patient, TraceOutcome, TraceResult
from consent_desktop.ui import wording as w
from consent_desktop.ui.consent_panel import ConsentPanel
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.patient_banner import PatientBanner
from consent_desktop.ui.search_panel import SearchPanel
from consent_desktop.ui.text import label, named


class WorkPage(QWidget):
    def __init__(
        self, controller: Controller, parent: QWidget | None = None, *, training: bool = False, home_practice: str = ""
    ) -> None:
        super().__init__(parent)
        named(self, w.PATIENT_SCREEN)
        self.controller = controller
        self.home_practice = home_practice  # this workstation's practice code (auth.ods_code), when set
        self.user: SessionChange | None = None
        self.patient: Patient | None = None  # kept across a lock (not on screen) so unlocking can bring it back
        self.search = SearchPanel(controller)
        self.search.cancel.clicked.connect(self.cancel)
        self.search.started.connect(self.retire_patient)
        self.banner = PatientBanner()  # created before the consent panel: the Tab key meets it first
        self.consent = ConsentPanel(controller, training=training)
        self.banner.identity_confirmed.connect(self._identity_confirmed)
        self.consent.saving_changed.connect(self.search.set_saving)
        self.consent.result_shown.connect(self._bring_result_into_view)
        self.notice = MessagePanel(w.NOTICE)
        self.empty = label(w.NO_PATIENT, factor=1.2)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.notice)
        right_layout.addWidget(self.empty)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.consent)
        right_layout.addStretch(1)
        self.patient_area = QScrollArea()
        self.patient_area.setWidget(right)
        self.patient_area.setWidgetResizable(True)
        self.patient_area.setFrameShape(QFrame.Shape.NoFrame)
        self.search_area = QScrollArea()  # at large text sizes the search form scrolls on its own
        self.search_area.setWidget(self.search)
        self.search_area.setWidgetResizable(True)
        self.search_area.setFrameShape(QFrame.Shape.NoFrame)
        layout = QHBoxLayout(self)
        layout.addWidget(self.search_area, 2)
        layout.addWidget(self.patient_area, 3)
        self.wipe(keep_patient=False)

    # --- what the controller reports ------------------------------------------------------------------------

    def show_patient(self, patient: Patient) -> None:
        self.patient = patient
        self.notice.clear()
        self.empty.hide()
        self.banner.show_patient(patient, date.today(), self.our_practices)
        elsewhere = patient.gp_practice if self.banner.registered_elsewhere else None
        self.consent.show_patient(patient, elsewhere)

    def show_trace(self, outcome: TraceOutcome) -> None:
        self.search.show_trace(outcome)
        if outcome.result is not TraceResult.MATCH:
            self.empty.setText(w.NOT_FOUND_NO_PATIENT)

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
            w.ELSEWHERE_RESULT.format(
                state=w.STATE_SHORT[w.state_of(result.requested)].lower(),
                number=result.nhs_number.formatted,
                headline=result.headline,
            ),
            "success" if result.outcome is SaveOutcome.SAVED else "warning",
        )

    def show_failure(self, error: ConsentDesktopError, action: str) -> None:
        if action in ("look up", "search"):
            self.search.show_failure(error, action)
            self.empty.setText(w.NOT_FOUND_NO_PATIENT)
        elif action in ("read consent", "change consent", w.SAVE_SLIP):
            self.consent.show_failure(error, action)
        elif action == "read history" and self.consent.history_dialog is not None:
            self.consent.history_dialog.show_failure(error, action)
        else:
            self.notice.show_error(error, action)

    def _identity_confirmed(self) -> None:
        self.consent.set_confirmed(True)

    def retire_patient(self) -> None:
        """A new search has started: the patient on screen goes now, and so does anything still due about them."""
        self.controller.cancel()  # a change in flight is not affected: searching waits for its answer
        self.patient = None
        self.banner.clear()
        self.consent.clear()
        self.notice.clear()
        self.empty.setText(w.FINDING_PATIENT)
        self.empty.show()

    def cancel(self) -> None:
        """Stop waiting for lookups and reads (a change already sent is not affected: it cannot be cancelled)."""
        self.controller.cancel()
        self.search.set_busy(None)
        self.consent.cancelled()
        if self.patient is None:
            self.empty.setText(w.NO_PATIENT)

    def set_user(self, user: SessionChange) -> None:
        self.user = user
        self.consent.set_user(user)

    @property
    def our_practices(self) -> Mapping[str, str]:
        """Our practices' codes and names: the user's organisation, and this workstation's practice."""
        ours = {self.home_practice: ""} if self.home_practice else {}
        role = self.user.role if self.user is not None else None
        if role is not None:
            ours[role.org_code] = role.org_name
        return ours

    def _bring_result_into_view(self) -> None:
        # After the layout has taken in the new text, so that the panel's final place is known.
        QTimer.singleShot(0, self, self._show_result_panel)

    def _show_result_panel(self) -> None:
        for panel in (self.consent.gp_record, self.consent.outcome):  # the result last: it must win
            if panel.isVisible():
                self.patient_area.ensureWidgetVisible(panel, 0, 0)

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
        self.empty.setText(w.NO_PATIENT)
        self.empty.show()

    def restore(self) -> None:
        """After unlocking: the patient again, identity to be confirmed again, consent read afresh."""
        if self.patient is not None:
            self.show_patient(self.patient)
        self.search.nhs.setFocus()

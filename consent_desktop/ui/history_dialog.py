"""The consent changes made on this computer for the open patient, from the local audit."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from consent_desktop.auth.session import SessionChange
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.domain.patient import Patient
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.text import label, named
from consent_desktop.ui.wording import EXPRESSED, SHORT, choice_from_value, expressed_from_value, when

if TYPE_CHECKING:
    from consent_desktop.audit import AuditEntry, PatientHistory  # annotations only: not loaded at start-up

COLUMNS = ("When", "Who", "Role", "Change", "How expressed", "Outcome", "Note")
LOCAL_ONLY = (
    "These are the changes made with this app on this computer. Spine keeps no history that this app can read, "
    "and changes made in other systems are not listed."
)


class HistoryDialog(QDialog):
    def __init__(self, patient: Patient, user: SessionChange | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Consent change history")
        named(self, "Consent change history")
        self.resize(1100, 420)
        self._user = user
        self._nhs_number = patient.nhs_number.digits  # the only patient whose history this dialog shows
        self.heading = label(f"{patient.display_name} \N{EM DASH} NHS No. {patient.nhs_number.formatted}", bold=True)
        explanation = label(LOCAL_ONLY)
        self.status = label("Reading the local record\N{HORIZONTAL ELLIPSIS}")
        self.table = named(QTableWidget(0, len(COLUMNS)), "Consent changes")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Note"), QHeaderView.ResizeMode.Stretch)  # a long note wraps
        self.table.verticalHeader().hide()
        self.problem = MessagePanel("History problem")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        named(buttons.button(QDialogButtonBox.StandardButton.Close), "Close")
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(explanation)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def show_history(self, history: PatientHistory) -> None:
        """This dialog's patient's changes; a late answer about anyone else is not shown. An audit whose seals do
        not match is said plainly, with whatever it still lists."""
        if history.nhs_number != self._nhs_number:
            return
        if history.altered is not None:
            self.problem.show_error(history.altered, "read history")
        newest_first = sorted(history.changes, key=lambda e: e.at, reverse=True)
        self.table.setRowCount(len(newest_first))
        for row, entry in enumerate(newest_first):
            for column, text in enumerate(self._row(entry)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()
        count = len(newest_first)
        self.status.setText(
            "No consent changes for this patient have been made on this computer."
            if not count
            else f"{count} change{'s' if count != 1 else ''}, newest first."
        )

    def show_failure(self, error: ConsentDesktopError, action: str) -> None:
        self.status.clear()
        self.problem.show_error(error, action)

    def wipe(self) -> None:
        self.table.clearContents()
        self.table.setRowCount(0)
        for text in self.findChildren(QLabel):
            text.clear()
        self.reject()

    def _row(self, entry: AuditEntry) -> tuple[str, ...]:
        user = self._user
        who = f"User {entry.user_id}"
        if user is not None and user.user_id == entry.user_id and user.user_name:
            who = user.user_name
        role = f"Role {entry.role_profile_id}, {entry.org_code}" if entry.org_code else entry.role_profile_id
        if user is not None and user.role is not None and user.role.role_profile_id == entry.role_profile_id:
            role = f"{user.role.job_role_name}, {user.role.org_code}"
        old, new = choice_from_value(entry.old), choice_from_value(entry.new)
        change = f"{SHORT[old] if old else 'Not read'} \N{RIGHTWARDS ARROW} {SHORT[new] if new else entry.new}"
        expressed = expressed_from_value(entry.expressed_by)
        outcome = entry.outcome[:1].upper() + entry.outcome[1:]
        return (
            _when(entry.at),
            who,
            role,
            change,
            EXPRESSED[expressed] if expressed else entry.expressed_by,
            outcome,
            entry.note,
        )


def _when(at: str) -> str:
    try:
        return when(datetime.fromisoformat(at))
    except ValueError:
        return at

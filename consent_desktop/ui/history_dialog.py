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
from consent_desktop.domain.consent import ConsentChoice, ExpressedBy
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.domain.patient import Patient
from consent_desktop.ui import wording as w
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.text import fit_to_screen, label, named

if TYPE_CHECKING:
    from consent_desktop.audit import AuditEntry, PatientHistory  # annotations only: not loaded at start-up

COLUMNS = w.HISTORY_COLUMNS


def choice_from_value(value: str) -> ConsentChoice | None:
    return next((choice for choice in ConsentChoice if choice.value == value), None)


def expressed_from_value(value: str) -> ExpressedBy | None:
    return next((expressed for expressed in ExpressedBy if expressed.value == value), None)


class HistoryDialog(QDialog):
    def __init__(self, patient: Patient, user: SessionChange | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(w.HISTORY_TITLE)
        named(self, w.HISTORY_TITLE)
        self._user = user
        self._nhs_number = patient.nhs_number.digits  # the only patient whose history this dialog shows
        self.heading = label(
            w.HISTORY_HEADING.format(name=patient.display_name, dash=w.DASH, number=patient.nhs_number.formatted),
            bold=True,
        )
        explanation = label(w.HISTORY_LOCAL_ONLY)
        self.status = label(w.HISTORY_READING)
        self.table = named(QTableWidget(0, len(COLUMNS)), w.HISTORY_TABLE)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)  # every column shares the width and wraps: nothing to scroll sideways to
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().hide()
        self.problem = MessagePanel(w.HISTORY_PROBLEM)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        close = named(buttons.button(QDialogButtonBox.StandardButton.Close), w.CLOSE)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(explanation)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        close.setFocus()  # nothing to fill in: Enter or Escape closes
        fit_to_screen(self, 150)

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
        count = len(newest_first)
        self.status.setText(w.HISTORY_NONE if not count else w.HISTORY_COUNT.format(count=count, s="s" * (count != 1)))

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
        who = w.HISTORY_USER.format(user_id=entry.user_id)
        if user is not None and user.user_id == entry.user_id and user.user_name:
            who = user.user_name
        role = entry.role_profile_id
        if entry.org_code:
            role = w.HISTORY_ROLE.format(role=entry.role_profile_id, org=entry.org_code)
        if user is not None and user.role is not None and user.role.role_profile_id == entry.role_profile_id:
            role = f"{user.role.job_role_name}, {user.role.org_code}"
        old, new = choice_from_value(entry.old), choice_from_value(entry.new)
        change = w.CHANGES_ARROW.format(
            old=w.STATE_SHORT[w.state_of(old)] if old else w.NOT_READ,
            new=w.STATE_SHORT[w.state_of(new)] if new else entry.new,
        )
        expressed = expressed_from_value(entry.expressed_by)
        outcome = entry.outcome[:1].upper() + entry.outcome[1:]
        return (
            _when(entry.at),
            who,
            role,
            change,
            w.EXPRESSED[expressed] if expressed else entry.expressed_by,
            outcome,
            entry.note,
        )


def _when(at: str) -> str:
    try:
        return w.when(datetime.fromisoformat(at))
    except ValueError:
        return at

"""Who is working, in which role and organisation, whether the app is busy, the last problem, and training mode.

A strip at the foot of the window rather than Qt's one-line status bar: every part wraps, so nothing is cut short
at any text size, and the last problem is shown whole.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

from consent_desktop.auth.session import SessionChange
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.ui import wording as w
from consent_desktop.ui.text import OneLineFirst, label, named


class StatusBar(QFrame):
    def __init__(self, training: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusStrip")
        named(self, w.STATUS)
        self.user = named(OneLineFirst(), w.SIGNED_IN_USER)
        self.role = named(OneLineFirst(), w.ROLE)
        self.role.setToolTip(w.ROLE_TIP)
        self.organisation = named(OneLineFirst(), w.ORGANISATION)
        self.organisation.setToolTip(w.ORGANISATION_TIP)
        self.connection = named(OneLineFirst(w.READY), w.CONNECTION)
        self.problem = named(label(), w.LAST_PROBLEM)
        self.training = named(QLabel(w.TRAINING_MARKER), w.TRAINING_MARKER, w.TRAINING_MARKER_DESCRIPTION)
        self.training.setVisible(training)
        self.training.setObjectName("trainingMarker")
        layout = QGridLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setHorizontalSpacing(self.fontMetrics().horizontalAdvance("MM"))  # the parts read apart
        for column, widget in enumerate((self.user, self.role, self.organisation)):
            layout.addWidget(widget, 0, column)
        layout.setColumnStretch(3, 1)
        layout.addWidget(self.connection, 0, 4)
        layout.addWidget(self.training, 0, 5)
        layout.addWidget(self.problem, 1, 0, 1, 6)
        self.show_user(None)
        self.clear_problem()

    def show_user(self, change: SessionChange | None) -> None:
        role = change.role if change else None
        name = change.user_name if change else None
        self.user.setText(w.SIGNED_IN_AS.format(name=name) if name else w.NOT_SIGNED_IN)
        self.role.setText(role.job_role_name if role else "")
        self.organisation.setText(f"{role.org_name} ({role.org_code})" if role else "")
        for widget in (self.user, self.role, self.organisation):
            widget.setAccessibleDescription(widget.text())
            widget.setVisible(bool(widget.text()))

    def show_busy(self, text: str) -> None:
        self.connection.setText(w.BUSY.format(what=text))

    def show_idle(self) -> None:
        self.connection.setText(w.READY)

    def show_problem(self, error: ConsentDesktopError) -> None:
        self.problem.setText(w.LAST_PROBLEM_AT.format(time=w.now(), message=error.user_message))
        self.problem.setAccessibleDescription(self.problem.text())
        self.problem.show()

    def clear_problem(self) -> None:
        """The last problem belongs to the user who met it: gone when they sign out."""
        self.problem.clear()
        self.problem.setAccessibleDescription("")
        self.problem.hide()

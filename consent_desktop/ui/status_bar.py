"""Who is working, in which role and organisation, whether the app is busy, the last problem, and training mode."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

from consent_desktop.auth.session import SessionChange
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.ui.text import named
from consent_desktop.ui.wording import now

READY = "Ready"


class StatusBar(QStatusBar):
    def __init__(self, training: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "Status")
        self.setSizeGripEnabled(False)
        self.user = named(QLabel(), "Signed-in user")
        self.role = named(QLabel(), "Role")
        self.role.setToolTip("Your role")
        self.organisation = named(QLabel(), "Organisation")
        self.organisation.setToolTip("The organisation you are working for")
        self.connection = named(QLabel(READY), "Connection")
        self.problem = named(QLabel(), "Last problem")
        # A long message is cut off (the whole of it is in the tooltip) rather than widening the window.
        self.problem.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.training = named(QLabel("TRAINING MODE"), "Training mode", "No real patient data is involved")
        self.training.setVisible(training)
        self.training.setObjectName("trainingMarker")
        self.addWidget(self.problem, 1)
        for widget in (self.user, self.role, self.organisation, self.connection, self.training):
            self.addPermanentWidget(widget)
        self.show_user(None)

    def show_user(self, change: SessionChange | None) -> None:
        role = change.role if change else None
        self.user.setText(f"Signed in: {change.user_name}" if change and change.user_name else "Not signed in")
        self.role.setText(role.job_role_name if role else "")
        self.organisation.setText(f"{role.org_name} ({role.org_code})" if role else "")
        for widget in (self.user, self.role, self.organisation):
            widget.setAccessibleDescription(widget.text())
            widget.setVisible(bool(widget.text()))

    def show_busy(self, text: str) -> None:
        self.connection.setText(f"Busy: {text}")

    def show_idle(self) -> None:
        self.connection.setText(READY)

    def show_problem(self, error: ConsentDesktopError) -> None:
        self.problem.setText(f"Last problem at {now()}: {error.user_message}")
        self.problem.setToolTip(self.problem.text())
        self.problem.setAccessibleDescription(self.problem.text())

    def clear_problem(self) -> None:
        self.problem.clear()
        self.problem.setToolTip("")
        self.problem.setAccessibleDescription("")

"""The main window: one page per session state, wired to the controller's signals.

Sign-in, role choice, the patient screen and the lock screen are pages of one stack. The session decides which
is shown; a lock or sign-out empties every widget that could hold patient details before the lock screen shows.
What the status strip says belongs to the user signed in: it is cleared when they sign out.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from consent_desktop.auth.session import EXPIRED, SessionChange, SessionState
from consent_desktop.config import Settings, user_config_path
from consent_desktop.controller.controller import Controller
from consent_desktop.domain.consent import ConsentRecord, SaveOutcome, SaveResult
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.domain.patient import Patient, TraceOutcome
from consent_desktop.ui import wording as w
from consent_desktop.ui.forget import forget_session
from consent_desktop.ui.lock_page import LockPage
from consent_desktop.ui.resources import icon, load_icons, style_sheet
from consent_desktop.ui.role_page import RolePage
from consent_desktop.ui.settings_dialog import SettingsDialog, preferences_file
from consent_desktop.ui.sign_in_page import SignInPage
from consent_desktop.ui.status_bar import StatusBar
from consent_desktop.ui.text import apply_text_scale, named
from consent_desktop.ui.training_panel import TrainingBanner, TrainingKit

if TYPE_CHECKING:
    from consent_desktop.audit import PatientHistory  # annotations only: not loaded at start-up
    from consent_desktop.ui.work_page import WorkPage

TITLE = w.APP
SAVE_PREFERENCES = w.SAVE_PREFERENCES
# Why the user is back at the sign-in screen, when they did not sign out themselves.
_SIGNED_OUT_BECAUSE = {
    "session expired": EXPIRED,
    "a different smartcard was used to unlock": w.SIGNED_OUT_BECAUSE_OTHER_CARD,
}
WINDOW_SIZE = QSize(1200, 780)  # at most: never larger than the screen it opens on


PREPARE_WORK_MS = 150  # after the sign-in screen has been painted, before anyone can have typed a passcode


class MainWindow(QMainWindow):
    def __init__(
        self,
        controller: Controller,
        settings: Settings,
        *,
        training: TrainingKit | None = None,
        preferences_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.controller = controller
        self.settings = settings
        self.training = training
        self.preferences_path = preferences_path or user_config_path()
        self.session: SessionChange | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._held_failures: list[tuple[ConsentDesktopError, str]] = []
        self._pending_scale: float | None = None
        self.setWindowTitle(w.TRAINING_TITLE if training else TITLE)  # never a patient's name
        self.setWindowIcon(icon("app"))
        self.setStyleSheet(style_sheet())  # dialogs, as children of the window, share it
        named(self, TITLE)

        self.sign_in = SignInPage(controller, training)
        self.role = RolePage(controller)
        self._work: WorkPage | None = None  # built when first needed: the sign-in screen opens without it
        self.lock = LockPage(controller, training)
        self.pages = QStackedWidget()
        for page in (self.sign_in, self.role, self.lock):
            self.pages.addWidget(page)
        self.pages.currentChanged.connect(self._page_changed)
        self.status = StatusBar(training is not None)
        self.training_banner = TrainingBanner(controller, training) if training is not None else None
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        if self.training_banner is not None:
            layout.addWidget(self.training_banner)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.status)
        self.setCentralWidget(central)
        self._build_menu()
        cancel = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        cancel.activated.connect(self._escape)

        controller.session_changed.connect(self._on_session)
        controller.patient_shown.connect(self._on_patient)
        controller.trace_finished.connect(self._on_trace)
        controller.consent_loaded.connect(self._on_consent)
        controller.save_finished.connect(self._on_saved)
        controller.save_rechecked.connect(self._on_saved)  # shown in place of the result it settles
        controller.history_loaded.connect(self._on_history)
        controller.failed.connect(self._on_failed)
        controller.busy.connect(self._on_busy)
        controller.idle.connect(self._on_idle)
        controller.file_written.connect(self._on_file_written)
        self.show_page(self.sign_in)
        self._page_changed()
        screen = self.screen() or QGuiApplication.primaryScreen()
        room = screen.availableGeometry().size() if screen is not None else WINDOW_SIZE
        self.resize(WINDOW_SIZE.boundedTo(room))
        controller.preload("consent_desktop.ui.work_page", self._build_work_page)

    # --- for code that drives the window (tests, the walk-through, benchmarks) ---------------------------------

    def show_page(self, page: QWidget) -> None:
        self.pages.setCurrentWidget(page)

    @property
    def work(self) -> WorkPage:
        """The patient screen (search, banner, consent): built while the sign-in screen waits, or else the first
        time anything needs it."""
        if self._work is None:
            from consent_desktop.ui.work_page import WorkPage

            self._add_work_page(self._new_work_page(WorkPage))
        assert self._work is not None
        return self._work

    def _build_work_page(self, module: ModuleType) -> None:
        """From the module loaded off the GUI thread: an import statement here would read its source again (PySide6
        checks each imported module's source for its ``__feature__`` switches)."""
        if self._work is None:
            page = self._new_work_page(module.WorkPage)
            self._add_work_page(page)
            # The first message shown restyles itself through PySide6 calls that create Python enum classes on first
            # use: about 30 ms the stall benchmark saw at sign-in ("Checking your smartcard"). Paid here instead.
            page.notice.show_message("", "info")
            page.notice.clear()
            page.consent.warm_up()

    def _new_work_page(self, kind: type[WorkPage]) -> WorkPage:
        settings = self.settings
        return kind(self.controller, training=settings.app.training_mode, home_practice=settings.auth.ods_code)

    def _add_work_page(self, page: WorkPage) -> None:
        self._work = page
        self.pages.addWidget(page)

    @property
    def page(self) -> QWidget | None:
        return self.pages.currentWidget()

    def look_up(self, nhs_text: str) -> None:
        """Find a patient by NHS number, exactly as typing it and pressing Enter would."""
        self.work.search.look_up(nhs_text)

    def open_settings(self) -> SettingsDialog:
        if self.settings_dialog is None:
            dialog = SettingsDialog(self.settings, self.preferences_path, self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.text_scale_chosen.connect(self._save_text_scale)
            dialog.finished.connect(self._forget_settings)
            self.settings_dialog = dialog
            dialog.open()
        return self.settings_dialog

    # --- the controller's signals ----------------------------------------------------------------------------

    def _on_session(self, change: SessionChange) -> None:
        self.session = change
        state = change.state
        if state in (SessionState.LOCKED, SessionState.SIGNED_OUT):
            self.work.wipe(keep_patient=state is SessionState.LOCKED)  # patient details go first
            self._close_settings()
            forget_session()  # then whatever was typed, with its undo history, and the app's clipboard
        if state is SessionState.SIGNED_OUT:
            self._held_failures.clear()
            self.status.show_user(None)
            self.status.clear_problem()  # the last problem was the previous user's
            self.sign_in.reset(_SIGNED_OUT_BECAUSE.get(change.reason, ""))
            self.show_page(self.sign_in)
            self.sign_in.pin.field.setFocus()
        elif state is SessionState.CHOOSING_ROLE:
            self.status.show_user(change)
            self.role.show_roles(change.user_name, self.controller.offered_roles)
            self.show_page(self.role)
        elif state is SessionState.ACTIVE:
            self.status.show_user(change)
            self.work.set_user(change)
            self.role.clear()
            self.show_page(self.work)
            if change.previous is SessionState.LOCKED:
                self.work.restore()
            else:
                self.status.clear_problem()  # signed in: a problem met on the way in is over
                self.work.wipe(keep_patient=False)
                self.work.search.nhs.setFocus()
            held, self._held_failures = self._held_failures, []
            for error, action in held:
                self.work.show_failure(error, action)
        elif state is SessionState.LOCKED:
            self.lock.show_lock(change)
            self.show_page(self.lock)
            self.lock.pin.field.setFocus()
        self._sign_out_action.setEnabled(state is not SessionState.SIGNED_OUT)

    def _on_patient(self, patient: Patient) -> None:
        if self.page is self.work:
            self.status.clear_problem()
            self.work.show_patient(patient)

    def _on_trace(self, outcome: TraceOutcome) -> None:
        if self.page is self.work:
            self.status.clear_problem()
            self.work.show_trace(outcome)

    def _on_consent(self, record: ConsentRecord) -> None:
        if self.page is self.work:
            self.status.clear_problem()
            self.work.show_record(record)

    def _on_saved(self, result: SaveResult) -> None:
        if result.outcome is SaveOutcome.SAVED:
            self.status.clear_problem()
        self.work.show_result(result)

    def _on_history(self, history: PatientHistory) -> None:
        dialog = self.work.consent.history_dialog
        if dialog is not None:
            dialog.show_history(history)

    def _on_failed(self, error: ConsentDesktopError, action: str) -> None:
        self.status.show_problem(error)
        if action == SAVE_PREFERENCES:
            self._pending_scale = None
            if self.settings_dialog is not None:
                self.settings_dialog.message.show_error(error, action)
                return
        if action == "change consent" and self.page is not self.work:
            self._held_failures.append((error, action))  # shown with the patient after unlocking
            return
        page = self.page
        if isinstance(page, SignInPage | RolePage | LockPage):
            page.show_failure(error, action)
        elif page is self._work:
            self.work.show_failure(error, action)

    def _on_busy(self, text: str) -> None:
        self.status.show_busy(text)
        if self.work.consent.saving:
            self.work.search.set_busy(f"{text} {w.CANNOT_CANCEL}", cancellable=False)
        else:
            self.work.search.set_busy(text)

    def _on_idle(self) -> None:
        self.status.show_idle()
        self.work.search.set_busy(None)

    def _on_file_written(self, path: Path, action: str) -> None:
        if action == w.SAVE_SLIP:
            self.work.consent.show_slip_saved(path)
        elif action == SAVE_PREFERENCES and self._pending_scale is not None:
            scale = apply_text_scale(self._pending_scale)
            self._pending_scale = None
            self.settings = dataclasses.replace(
                self.settings,
                ui=dataclasses.replace(self.settings.ui, text_scale=scale),
                sources={**self.settings.sources, "ui.text_scale": f"per-user file {path}"},
            )
            if self.settings_dialog is not None:
                self.settings_dialog.message.show_message(
                    w.TEXT_SIZE_SAVED.format(percent=round(scale * 100)), "success"
                )

    # --- window behaviour --------------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._work is None:
            # Once the sign-in screen is up, build the patient screen while the user reaches for their card.
            QTimer.singleShot(PREPARE_WORK_MS, self, lambda: self.work)  # not after the window has gone

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.work.consent.saving:
            event.ignore()  # the answer must be seen; the change cannot be called back
            page = self.page
            panel = page.message if isinstance(page, SignInPage | RolePage | LockPage) else self.work.notice
            panel.show_message(w.WAIT_BEFORE_CLOSING, "warning")
            return
        self._close_settings()
        event.accept()

    def _escape(self) -> None:
        if self.page is self.work:
            self.work.cancel()

    def _page_changed(self, _index: int = 0) -> None:
        """The banner's card button where the screen has no card panel of its own."""
        if self.training_banner is not None:
            self.training_banner.show_card_controls(self.page not in (self.sign_in, self.lock))

    def _save_text_scale(self, scale: float) -> None:
        self._pending_scale = scale
        self.controller.write_file(self.preferences_path, preferences_file(self.settings, scale), SAVE_PREFERENCES)

    def _close_settings(self) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.close()

    def _forget_settings(self) -> None:
        self.settings_dialog = None

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu(w.MENU_USER)
        settings = QAction(w.MENU_SETTINGS, self)
        settings.triggered.connect(self.open_settings)
        self._sign_out_action = QAction(w.MENU_SIGN_OUT, self)
        self._sign_out_action.triggered.connect(self.controller.sign_out)
        self._sign_out_action.setEnabled(False)
        leave = QAction(w.MENU_EXIT, self)
        leave.setShortcut(QKeySequence.StandardKey.Quit)
        leave.triggered.connect(self.close)
        for action in (settings, self._sign_out_action, leave):
            menu.addAction(action)


def build_main_window(
    controller: Controller,
    settings: Settings,
    *,
    training: TrainingKit | None = None,
    preferences_path: Path | None = None,
) -> MainWindow:
    """The whole window for this controller and settings; text scaled as the settings say."""
    apply_text_scale(settings.ui.text_scale)
    load_icons()
    return MainWindow(controller, settings, training=training, preferences_path=preferences_path)

"""The window as a whole: accessible names, keyboard access, text scale, the settings view, the crash handler,
cancelling a slow lookup, and the ``consent-desktop --sandbox`` launcher itself."""

from __future__ import annotations

import logging
import sys
import threading
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from consent_desktop import app as desktop_app
from consent_desktop.config import SPECS, Settings
from consent_desktop.config.registry import POLICY_SOURCE
from consent_desktop.domain.consent import ExpressedBy
from consent_desktop.sandbox.patients import README_EXAMPLE
from consent_desktop.sandbox.users import GP
from consent_desktop.ui.errors import CrashHandler
from consent_desktop.ui.main_window import MainWindow
from consent_desktop.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import Desk
from tests.ui.test_consent import open_patient, start_change

pytestmark = pytest.mark.gui

CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView, QPlainTextEdit)


def unnamed_controls(root: QWidget) -> list[str]:
    """Controls a user can reach with the keyboard that a screen reader could not name."""
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not isinstance(widget, CONTROLS) or isinstance(widget, QHeaderView):
            continue
        if widget.focusPolicy() == Qt.FocusPolicy.NoFocus or _inside_combo(widget):
            continue
        if not widget.accessibleName():
            found.append(f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()!r}")
    return found


def _inside_combo(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QComboBox):
            return True
        parent = parent.parentWidget()
    return widget.objectName().startswith("qt_")


def test_every_control_on_every_screen_has_an_accessible_name(desk: Desk) -> None:
    assert unnamed_controls(desk.window) == []  # sign-in, lock and role pages exist from the start
    desk.insert(GP.token_label)
    desk.type_pin()
    desk.wait(lambda: desk.window.page is desk.window.role)
    assert unnamed_controls(desk.window.role) == []
    desk.window.role.choices.buttons()[0].click()
    desk.window.role.go.click()
    desk.wait(lambda: desk.window.page is desk.window.work)
    open_patient(desk)
    assert unnamed_controls(desk.window) == []
    assert unnamed_controls(start_change(desk)) == []
    assert unnamed_controls(desk.window.open_settings()) == []


def test_no_two_controls_on_a_screen_share_a_keyboard_shortcut(signed_in: Desk) -> None:
    open_patient(signed_in)
    for page in (signed_in.window.work, signed_in.window.sign_in, signed_in.window.lock):
        letters = [
            text[text.index("&") + 1].lower()
            for widget in page.findChildren(QLabel) + page.findChildren(QAbstractButton)
            if "&" in (text := widget.text()) and not text.startswith("<")
        ]
        assert len(letters) == len(set(letters)), letters
    labels = [label for label in signed_in.window.work.findChildren(QLabel) if "&" in label.text()]
    assert labels and all(label.buddy() is not None for label in labels)  # Alt+letter reaches the field


def test_text_scale_setting_enlarges_all_text(make_desk: Callable[..., Desk]) -> None:
    normal = make_desk()
    base = QApplication.font().pointSizeF()
    heading = normal.window.sign_in.title.font().pointSizeF()

    large = make_desk(**{"ui.text_scale": 1.5})

    assert QApplication.font().pointSizeF() == pytest.approx(base * 1.5)
    assert large.window.sign_in.title.font().pointSizeF() == pytest.approx(heading * 1.5)


def test_settings_view_shows_every_setting_in_words_where_it_came_from_and_saves_only_text_size(
    signed_in: Desk,
) -> None:
    dialog = signed_in.window.open_settings()

    assert dialog.table.rowCount() == len(SPECS)
    assert dialog.row_for("spine.read_timeout") == ("Seconds to wait for Spine's answer", "10.0", "Settings file")
    assert dialog.row_for("ui.text_scale") == ("Text size", "100%", "Default")
    assert dialog.row_for("tls.client_key")[1] == "Set (not shown here)"  # where the private key is: never shown
    words = [dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount())]  # type: ignore[union-attr]
    assert not [name for name in words if "." in name or "_" in name]  # every setting in words, none as a key
    assert dialog.scale.isEnabled() and not dialog.is_locked("ui.text_scale")

    base = QApplication.font().pointSizeF()
    dialog.scale.setCurrentIndex(dialog.scale.findData(1.25))
    dialog.apply.click()
    signed_in.wait(lambda: "saved" in dialog.message.text)
    assert dialog.message.text == "Text size 125% saved."
    written = tomllib.loads(signed_in.window.preferences_path.read_text())
    assert written == {"ui": {"text_scale": 1.25}}
    assert QApplication.font().pointSizeF() == pytest.approx(base * 1.25)


@pytest.mark.hazard("HAZ-012")
def test_group_policy_settings_are_shown_locked(qtbot: object, tmp_path: Path) -> None:
    locked = {"spine.endpoint": POLICY_SOURCE, "ui.text_scale": POLICY_SOURCE}
    settings = Settings(sources=locked, locked=frozenset(locked))
    dialog = SettingsDialog(settings, tmp_path / "preferences.toml")

    assert dialog.row_for("spine.endpoint")[2] == "Group Policy (locked)"
    assert dialog.is_locked("spine.endpoint") and not dialog.is_locked("spine.read_timeout")
    assert not dialog.scale.isEnabled()
    assert not dialog.apply.isEnabled()
    assert "locked by Group Policy" in dialog.locked.text()
    dialog.deleteLater()


def test_escape_cancels_a_slow_lookup(signed_in: Desk) -> None:
    signed_in.store.set_fault("latency", "1.5", scope="pds", times=1)
    search = signed_in.window.work.search
    search.look_up(README_EXAMPLE)
    signed_in.wait(search.cancel.isVisible)  # the busy line appears once the wait is noticeable

    signed_in.qtbot.keyClick(signed_in.window, Qt.Key.Key_Escape)

    assert not search.cancel.isVisible()
    signed_in.qtbot.wait(2_000)  # the answer comes, and is not shown
    assert signed_in.window.work.banner.patient is None
    assert signed_in.window.status.connection.text() == "Ready"


@pytest.mark.hazard("HAZ-004", "HAZ-008")
def test_crashes_are_logged_and_shown_once_without_a_traceback(
    qtbot: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    handler = CrashHandler(tmp_path / "consent-desktop.log")
    handler.install()
    try:

        def fail() -> None:
            raise RuntimeError("boom")

        for _ in range(2):  # the same fault twice...
            worker = threading.Thread(target=fail)
            worker.start()
            worker.join()
        try:
            raise KeyError("another")  # ...and a different one while the dialog is open
        except KeyError as error:
            sys.excepthook(type(error), error, error.__traceback__)
        qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible())  # type: ignore[attr-defined]
        qtbot.wait(100)  # type: ignore[attr-defined]
    finally:
        handler.uninstall()

    assert handler.shown == 1
    assert handler.dialog is not None
    panel = handler.dialog.panel
    assert panel.text.startswith("Something went wrong inside Consent Desktop.")
    assert "RuntimeError" in panel.details.text() and "consent-desktop.log" in panel.details.text()
    assert "Traceback" not in panel.details.text() and "boom" not in panel.details.text()
    logged = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(logged) == 3 and all(r.exc_info for r in logged)  # every one is in the log, with its traceback
    assert sys.excepthook is not handler._excepthook
    handler.dialog.close()


@pytest.mark.hazard("HAZ-010")
def test_the_launcher_runs_training_mode_with_its_banner(
    qtbot: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    seen: list[str] = []

    def look_and_close() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(50, look_and_close)
            return
        window = windows[0]
        seen.extend([window.windowTitle(), window.status.training.text()])
        seen.append(window.sign_in.training.passcode.text() if window.sign_in.training else "")
        window.close()

    QTimer.singleShot(0, look_and_close)
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        assert desktop_app.main(["--sandbox"]) == 0
    finally:
        root.handlers = handlers  # the launcher's log file is for this run only
    assert seen == [
        "Consent Desktop \N{EM DASH} training",
        "Training mode",
        "The passcode of every training card is 123456.",
    ]
    assert (tmp_path / "xdg_data_home" / "consent-desktop" / "training" / "client.toml").is_file()
    assert (tmp_path / "xdg_state_home").exists()  # the diagnostic log went to the user's log folder


def test_the_launcher_refuses_training_and_a_settings_file_together() -> None:
    with pytest.raises(SystemExit) as refused:
        desktop_app.main(["--sandbox", "--config", "x.toml"])
    assert refused.value.code == 2


@pytest.mark.hazard("HAZ-015")
def test_the_keyboard_alone_finds_a_patient_confirms_and_changes_consent(signed_in: Desk) -> None:
    window, bot = signed_in.window, signed_in.qtbot
    window.activateWindow()
    bot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.work.search.nhs.setFocus()
    bot.keyClicks(window.work.search.nhs, README_EXAMPLE)
    bot.keyClick(window.work.search.nhs, Qt.Key.Key_Return)
    consent = window.work.consent
    signed_in.wait(lambda: consent.record is not None)

    def tab_to(target: QWidget) -> None:
        for _ in range(40):
            if QApplication.focusWidget() is target:
                return
            bot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Tab)
        raise AssertionError(f"Tab never reached {target.accessibleName()!r}")

    tab_to(window.work.banner.confirm)
    bot.keyClick(window.work.banner.confirm, Qt.Key.Key_Space)
    tab_to(consent.change)
    bot.keyClick(consent.change, Qt.Key.Key_Space)
    signed_in.wait(lambda: QApplication.activeModalWidget() is not None)
    first = QApplication.activeModalWidget()
    assert first is consent.dialogs[-1]
    bot.waitUntil(lambda: QApplication.activeWindow() is first)
    bot.keyClick(first, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)  # Alt+N: the note
    assert QApplication.focusWidget() is first.note  # type: ignore[attr-defined]
    bot.keyClicks(first.note, "Said at the desk")  # type: ignore[attr-defined]
    tab_to(first._how_buttons[ExpressedBy.IN_PERSON])  # type: ignore[attr-defined]
    bot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    bot.keyClick(first, Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)  # Alt+P: "in person or in writing"
    signed_in.wait(first.have_instruction.isChecked)  # type: ignore[attr-defined] # a mnemonic clicks after 100 ms
    assert QApplication.focusWidget() is first.go  # type: ignore[attr-defined]
    bot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # Enter: Continue
    signed_in.wait(lambda: QApplication.activeModalWidget() not in (None, first))
    bot.keyClick(QApplication.activeModalWidget(), Qt.Key.Key_Return)  # Enter: Save to Spine

    signed_in.wait(lambda: consent.result is not None)
    assert consent.outcome.headline.text().startswith("Saved on Spine")
    assert signed_in.store.assertions(README_EXAMPLE) == {"Store": "No", "View": "No"}

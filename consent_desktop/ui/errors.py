"""The one route from an error to the user, and the crash handler.

Every :class:`~consent_desktop.domain.errors.ConsentDesktopError` reaches the screen through :class:`MessagePanel`:
its plain message, and behind a "For the help desk" toggle its ``details`` — never a stack trace. Anything else is a
bug: :class:`CrashHandler` writes its traceback to the diagnostic log and shows one dialog saying so.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.ui import wording as w
from consent_desktop.ui.text import KEYBOARD_SELECTABLE, clear_icon, label, named, show_icon

log = logging.getLogger(__name__)

KIND_ICONS = {"error": "not-saved", "warning": "warning", "info": "info", "success": "saved"}


def it_details(error: ConsentDesktopError, action: str = "") -> str:
    """What the help desk sees: the kind of error, what the user was doing, and the error's own details."""
    lines = [w.HELP_DESK_ERROR.format(kind=type(error).__name__)]
    if action:
        lines.append(w.HELP_DESK_WHILE.format(action=action))
    if error.details:
        lines.append(w.HELP_DESK_DETAILS.format(details=error.details))
    lines.append(w.HELP_DESK_RETRY if error.retryable else w.HELP_DESK_NO_RETRY)
    return "\n".join(lines)


class HelpDeskDetails(QWidget):
    """A "For the help desk" toggle and the details behind it: the only place codes are shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.toggle = named(QToolButton(), w.HELP_DESK, w.HELP_DESK_DESCRIPTION)
        self.toggle.setText(w.HELP_DESK)
        self.toggle.setCheckable(True)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.toggled.connect(self._show_details)
        self.details = label(selectable=True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(KEYBOARD_SELECTABLE)
        named(self.details, w.HELP_DESK)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.details)
        self.set_details("")

    def set_details(self, details: str) -> None:
        """Folded away; hidden altogether when there is nothing to say."""
        self.details.setText(details)
        self.toggle.setChecked(False)
        self.details.setVisible(False)
        self.setVisible(bool(details))

    def _show_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)


class MessagePanel(QFrame):
    """An icon, a word, an optional headline, a plain message, and optionally a "For the help desk" toggle. Empty
    and hidden when cleared."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messagePanel")
        self._name = name
        self._icon = QLabel()
        self.headline = label(factor=1.2, bold=True, selectable=True)
        self.message = label(selectable=True)
        self.help_desk = HelpDeskDetails()
        self.toggle, self.details = self.help_desk.toggle, self.help_desk.details
        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(self.message)
        row = QHBoxLayout()
        row.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.help_desk)
        self.clear()

    def show_error(self, error: ConsentDesktopError, action: str = "", *, headline: str = "") -> None:
        self.show_message(error.user_message, "error", details=it_details(error, action), headline=headline)

    def show_message(
        self, text: str, kind: str = "info", *, details: str = "", headline: str = "", icon: str = ""
    ) -> None:
        word = w.MESSAGE_WORDS[kind]
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        show_icon(self._icon, icon or KIND_ICONS[kind], 28 if headline else 24)
        self._icon.setAccessibleName(word)
        self.headline.setText(headline)
        self.headline.setVisible(bool(headline))
        self.headline.setAccessibleName(headline)
        self.message.setText(text)
        self.message.setVisible(bool(text))
        named(self.message, f"{word}: {text}")
        self.help_desk.set_details(details)
        self.setAccessibleName(f"{self._name}: {word}")
        self.show()

    def clear(self) -> None:
        self.headline.clear()
        self.headline.setAccessibleName("")
        self.message.clear()
        self.message.setAccessibleName("")
        self.help_desk.set_details("")
        clear_icon(self._icon)
        self.setAccessibleName(self._name)
        self.hide()

    @property
    def text(self) -> str:
        """Everything the panel says (headline and message), as a user reads it."""
        return "\n".join(t for t in (self.headline.text(), self.message.text()) if t)


class MessageDialog(QDialog):
    """A message with its details for the help desk, for problems that belong to no screen (start-up, crashes)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.panel = MessagePanel(title)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        named(close, w.CLOSE)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel)
        layout.addWidget(buttons)
        close.setDefault(True)  # once in the dialog, so that Qt keeps it the default
        close.setFocus()


def startup_error_dialog(error: ConsentDesktopError) -> MessageDialog:
    dialog = MessageDialog(w.CANNOT_START)
    dialog.panel.show_error(error, w.CANNOT_START_ACTION)
    return dialog


_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class CrashHandler(QObject):
    """Unexpected exceptions from any thread: logged with their traceback, then ONE dialog on the GUI thread.

    The same fault (same type, same place) is shown once per run; while a crash dialog is open, further faults
    are only logged. Install it as soon as the application exists; uninstall restores the previous hooks.
    """

    _reported = Signal(object)  # the exception; emitted from any thread, delivered on the GUI thread (queued)

    def __init__(self, log_path: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_path = log_path
        self.dialog: MessageDialog | None = None
        self.shown = 0
        self._seen: set[str] = set()
        self._previous: tuple[Callable[..., object], Callable[..., object]] | None = None
        self._reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._excepthook
        threading.excepthook = self._threading_excepthook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None

    def report(self, error: BaseException) -> None:
        """For exceptions already logged where they were caught (the controller's runner reports these)."""
        self._reported.emit(error)

    def _excepthook(self, kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        self._log((kind, error, tb), "main thread")
        self._reported.emit(error)

    def _threading_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        self._log((args.exc_type, args.exc_value, args.exc_traceback), args.thread.name if args.thread else "?")
        self._reported.emit(args.exc_value)

    def _log(self, info: _ExcInfo, where: str) -> None:
        log.critical("unexpected error on the %s thread", where, exc_info=info)

    def _show(self, error: BaseException) -> None:
        key = _fingerprint(error)
        if key in self._seen or (self.dialog is not None and self.dialog.isVisible()):
            self._seen.add(key)
            return
        self._seen.add(key)
        self.shown += 1
        where = w.CRASH_LOG_AT.format(path=self.log_path) if self.log_path else w.CRASH_SEE_LOG
        self.dialog = MessageDialog(w.CRASH_TITLE)
        details = w.CRASH_DETAILS.format(kind=type(error).__name__, where=where, fault=key[:12])
        self.dialog.panel.show_message(w.CRASH_MESSAGE, "error", details=details)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.destroyed.connect(self._forget_dialog)
        self.dialog.open()

    def _forget_dialog(self) -> None:
        self.dialog = None


def _fingerprint(error: BaseException) -> str:
    """The type and the places it passed through; not the message, which may differ run to run."""
    frames = traceback.extract_tb(error.__traceback__)
    text = type(error).__qualname__ + "".join(f"|{f.filename}:{f.lineno}" for f in frames)
    return hashlib.sha256(text.encode()).hexdigest()

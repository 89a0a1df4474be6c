"""Nothing typed in one session is there for the next: text boxes emptied with their undo and redo history, and
the clipboard emptied when this app filled it.

``QLineEdit.clear()`` and friends are undoable edits: Ctrl+Z (or Undo in the box's context menu) would bring the
previous user's text back. ``QLineEdit.setText`` and ``QPlainTextEdit.setPlainText`` start a new history instead;
the document's stacks are cleared as well, so nothing depends on that detail.
"""

from __future__ import annotations

from PySide6.QtGui import QClipboard, QGuiApplication
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

TextBox = QLineEdit | QPlainTextEdit | QTextEdit


def empty(box: TextBox) -> None:
    """Empty one text box, and forget what it held: no undo, no redo."""
    if isinstance(box, QLineEdit):
        box.setText("")  # unlike clear(), setText() also empties the undo and redo history
        box.setModified(False)
        return
    box.setPlainText("")
    document = box.document()
    document.clearUndoRedoStacks()
    document.setModified(False)


def forget_session() -> None:
    """At lock and sign-out, after the screens have dropped their patient: every text box a user can type in, in
    every window of the app (dialogs included), emptied with its history; and the clipboard and selection, if what
    they hold came from this app (it may be a patient's details). What another program put there is left alone."""
    for window in QApplication.topLevelWidgets():
        for box in _typed_in(window):
            empty(box)
    clipboard = QGuiApplication.clipboard()
    for owns, mode in (
        (clipboard.ownsClipboard, QClipboard.Mode.Clipboard),
        (clipboard.ownsSelection, QClipboard.Mode.Selection),  # X11: selected text is offered to other programs
        (clipboard.ownsFindBuffer, QClipboard.Mode.FindBuffer),  # macOS
    ):
        if owns():
            clipboard.clear(mode)


def _typed_in(window: QWidget) -> list[TextBox]:
    """Text boxes a user can type in. Read-only boxes show what the app put there (their screens empty them), and a
    spin box's inner line edit follows its value."""
    boxes: list[TextBox] = [window] if isinstance(window, TextBox) else []
    boxes += window.findChildren(QLineEdit) + window.findChildren(QPlainTextEdit) + window.findChildren(QTextEdit)
    return [box for box in boxes if not box.isReadOnly() and not isinstance(box.parent(), QAbstractSpinBox)]

"""What a user (or a screen reader) could read anywhere in the application's windows."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTextEdit,
    QWidget,
)


def texts_of(widget: QWidget) -> list[str]:
    found = [widget.windowTitle(), widget.accessibleName(), widget.accessibleDescription(), widget.toolTip()]
    if isinstance(widget, QLabel | QLineEdit | QAbstractButton):
        found.append(widget.text())
    if isinstance(widget, QLineEdit):
        found.append(widget.placeholderText())
    if isinstance(widget, QPlainTextEdit | QTextEdit):
        found.append(widget.toPlainText())
    if isinstance(widget, QGroupBox):
        found.append(widget.title())
    if isinstance(widget, QComboBox):
        found += [widget.itemText(i) for i in range(widget.count())]
    if isinstance(widget, QTableWidget):
        for row in range(widget.rowCount()):
            for column in range(widget.columnCount()):
                item = widget.item(row, column)
                if item is not None:
                    found += [item.text(), item.toolTip()]
    return [text for text in found if text]


def every_text() -> str:
    """Every text of every widget in every top-level window, shown or not: clearing, not hiding, is the test."""
    widgets: list[QWidget] = []
    for top in QApplication.topLevelWidgets():
        widgets.append(top)
        widgets += top.findChildren(QWidget)
    return "\n".join(text for widget in widgets for text in texts_of(widget))


def visible_text(root: QWidget) -> str:
    """The texts of the widgets a user can see now under ``root``."""
    shown = [w for w in [root, *root.findChildren(QWidget)] if w.isVisibleTo(root) or w is root]
    return "\n".join(text for w in shown for text in texts_of(w))


def clipped(root: QWidget) -> list[str]:
    """Visible widgets under ``root`` whose text does not fit them, or that stick out of their parent.

    A wrapping label must be tall enough for all its lines; any other label, button or field must have at least
    the room its text asks for. Content inside a scroll area may be larger than the area: that scrolls, it is not
    cut off.
    """
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible() or widget.objectName().startswith("qt_") or _inside(widget, QComboBox):
            continue
        what = f"{type(widget).__name__} {_text(widget)!r}"
        parent = widget.parentWidget()
        scrolls = parent is not None and parent.objectName() == "qt_scrollarea_viewport"
        if widget is not root and parent is not None and not scrolls and not parent.rect().contains(widget.geometry()):
            found.append(f"{what} sticks out of its {type(parent).__name__}")
        if isinstance(widget, QLabel) and widget.text():
            if widget.wordWrap():
                if widget.heightForWidth(widget.width()) > widget.height() + 1:
                    found.append(f"{what} is cut short: it needs more height")
            elif widget.sizeHint().width() > widget.width() + 1:
                found.append(f"{what} is cut short: it needs more width")
        elif isinstance(widget, QAbstractButton) and widget.text():
            hint = widget.sizeHint()
            if hint.width() > widget.width() + 1 or hint.height() > widget.height() + 1:
                found.append(f"{what} is too small for its text")
        elif isinstance(widget, QLineEdit | QComboBox) and widget.minimumSizeHint().height() > widget.height() + 1:
            found.append(f"{what} is too low for its text")
    return found


def _text(widget: QWidget) -> str:
    return widget.text() if isinstance(widget, QLabel | QAbstractButton | QLineEdit) else widget.accessibleName()


def _inside(widget: QWidget, kind: type[QWidget]) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, kind):
            return True
        parent = parent.parentWidget()
    return False

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

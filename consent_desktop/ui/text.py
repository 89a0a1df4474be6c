"""Accessible names, and text that scales with ``ui.text_scale``.

Every control gets a name a screen reader can announce. Text sizes are relative to the application font, which
the scale multiplies, so nothing is sized in pixels.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QLabel, QWidget

W = TypeVar("W", bound=QWidget)
_FACTOR = "textFactor"  # dynamic property: this widget's text size relative to the application font
_BASE = "baseFontPointSize"  # dynamic property on the application: its font size before any scaling
MIN_SCALE, MAX_SCALE = 0.75, 3.0
# Mouse selection lets a user copy what a label says; keyboard selection also makes it a Tab stop, so it is kept
# for the few values worth reaching by keyboard (the NHS number, details for IT).
SELECTABLE = Qt.TextInteractionFlag.TextSelectableByMouse
KEYBOARD_SELECTABLE = SELECTABLE | Qt.TextInteractionFlag.TextSelectableByKeyboard


def named(widget: W, name: str, description: str = "") -> W:
    widget.setAccessibleName(name)
    if description:
        widget.setAccessibleDescription(description)
    return widget


def sized(widget: W, factor: float, *, bold: bool = False) -> W:
    """Text ``factor`` times the (scaled) application font; kept in step when the scale changes."""
    widget.setProperty(_FACTOR, factor)
    font = QFont(widget.font())
    font.setBold(bold)
    font.setPointSizeF(_base_size() * _current_scale() * factor)
    widget.setFont(font)
    return widget


def label(text: str = "", *, factor: float = 1.0, bold: bool = False, selectable: bool = False) -> QLabel:
    """A wrapping label; ``selectable`` lets a user copy it (NHS numbers must be copyable)."""
    widget = QLabel(text)
    widget.setWordWrap(True)
    if selectable:
        widget.setTextInteractionFlags(SELECTABLE)
    if factor != 1.0 or bold:
        sized(widget, factor, bold=bold)
    return widget


def apply_text_scale(scale: float) -> float:
    """Scale the application's text; returns the scale used (clamped to a readable range)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("text can only be scaled once the application exists")
    scale = min(MAX_SCALE, max(MIN_SCALE, scale))
    base = _base_size()
    app.setProperty("textScale", scale)
    font = QFont(app.font())
    font.setPointSizeF(base * scale)
    app.setFont(font)
    for widget in app.allWidgets():
        factor = widget.property(_FACTOR)
        if isinstance(factor, float):
            resized = QFont(widget.font())
            resized.setPointSizeF(base * scale * factor)
            widget.setFont(resized)
    return scale


def _current_scale() -> float:
    app = QApplication.instance()
    scale = app.property("textScale") if app is not None else None
    return scale if isinstance(scale, float) else 1.0


def _base_size() -> float:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return 10.0
    base = app.property(_BASE)
    if not isinstance(base, float):
        size = app.font().pointSizeF()
        base = size if size > 0 else 10.0
        app.setProperty(_BASE, base)
    return base

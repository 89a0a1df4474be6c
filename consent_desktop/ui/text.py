"""Accessible names, and text (and the icons beside it) that scale with ``ui.text_scale``.

Every control gets a name a screen reader can announce. Text sizes are relative to the application font, which
the scale multiplies, so nothing is sized in pixels; icons next to text are sized in multiples of the scale too.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QWidget

from consent_desktop.ui.resources import pixmap
from consent_desktop.ui.wording import CONSENT_ON_SPINE

W = TypeVar("W", bound=QWidget)
_FACTOR = "textFactor"  # dynamic property: this widget's text size relative to the application font
_BASE = "baseFontPointSize"  # dynamic property on the application: its font size before any scaling
_ICON = "iconName"  # dynamic properties of a label showing an icon: its name and size at 100%
_ICON_SIZE = "iconSize"
MIN_SCALE, MAX_SCALE = 0.75, 3.0
# Mouse selection lets a user copy what a label says; keyboard selection also makes it a Tab stop, so it is kept
# for the few values worth reaching by keyboard (the NHS number, details for the help desk).
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
    font.setPointSizeF(_base_size() * current_scale() * factor)
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


class OneLineFirst(QLabel):
    """A wrapping label that asks for room for its whole text on one line, and wraps only when the layout cannot
    give it that (a plain wrapping label wraps early, at a width Qt guesses)."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setWordWrap(True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self.text()) + margins.left() + margins.right() + 2
        return QSize(width, self.heightForWidth(width))


def show_icon(widget: QLabel, name: str, size: int) -> QLabel:
    """Show icon ``name`` at ``size`` pixels times the text scale, kept in step when the scale changes."""
    widget.setProperty(_ICON, name)
    widget.setProperty(_ICON_SIZE, size)
    _draw_icon(widget)
    return widget


def icon_label(name: str, size: int, accessible_name: str) -> QLabel:
    return named(show_icon(QLabel(), name, size), accessible_name)


def clear_icon(widget: QLabel) -> None:
    widget.setProperty(_ICON, None)
    widget.clear()


def scaled(size: int) -> int:
    """``size`` pixels at 100% text, at the current text scale."""
    return round(size * current_scale())


def apply_text_scale(scale: float) -> float:
    """Scale the application's text in every window and dialog; returns the scale used (clamped to a readable
    range)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("text can only be scaled once the application exists")
    scale = min(MAX_SCALE, max(MIN_SCALE, scale))
    base = _base_size()
    app.setProperty("textScale", scale)
    font = QFont(app.font())
    font.setPointSizeF(base * scale)
    app.setFont(font)
    # Tick boxes and option buttons are drawn at a fixed size unless told: they grow with the text too.
    box = max(13, round(QFontMetrics(font).height() * 0.8))
    app.setStyleSheet(f"QCheckBox::indicator, QRadioButton::indicator {{ width: {box}px; height: {box}px; }}")
    for top in app.topLevelWidgets():
        # A style sheet fixes its widgets' fonts when it is applied: setting it again lets the new size through.
        if top.styleSheet():
            top.setStyleSheet(top.styleSheet())
    for widget in app.allWidgets():
        factor = widget.property(_FACTOR)
        if isinstance(factor, float):
            resized = QFont(widget.font())
            resized.setPointSizeF(base * scale * factor)
            widget.setFont(resized)
        if isinstance(widget, QLabel) and widget.property(_ICON):
            _draw_icon(widget)
    return scale


def fit_to_screen(dialog: QDialog, width_in_characters: int) -> None:
    """A dialog at least as wide as ``width_in_characters`` of its text and as its content wants, and never larger
    than the screen it opens on."""
    hint = dialog.sizeHint()
    wanted = QSize(max(hint.width(), round(_character_width(dialog) * width_in_characters)), hint.height())
    screen = dialog.screen() or QGuiApplication.primaryScreen()
    room = screen.availableGeometry().size() if screen is not None else wanted
    # The window's frame and title bar are not known before it is shown: leave room for a generous one.
    frame = dialog.fontMetrics().lineSpacing() * 2 + 16
    room = QSize(room.width() - frame // 2, room.height() - frame)
    dialog.resize(min(wanted.width(), room.width()), min(wanted.height(), room.height()))
    dialog.setMaximumSize(room)


def _character_width(widget: QWidget) -> float:
    """The width of an average character of running text (Qt's average counts every glyph, narrow ones too)."""
    sample = CONSENT_ON_SPINE  # a typical line of the app's own text
    return widget.fontMetrics().horizontalAdvance(sample) / len(sample)


def current_scale() -> float:
    app = QApplication.instance()
    scale = app.property("textScale") if app is not None else None
    return scale if isinstance(scale, float) else 1.0


def _draw_icon(widget: QLabel) -> None:
    name, size = widget.property(_ICON), widget.property(_ICON_SIZE)
    if isinstance(name, str) and isinstance(size, int):
        pixels = scaled(size)
        widget.setPixmap(pixmap(name, pixels, widget.devicePixelRatioF()))
        widget.setFixedSize(pixels, pixels)


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

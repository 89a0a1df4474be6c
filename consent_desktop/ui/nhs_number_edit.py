"""The NHS number box: one field, formatted 3-3-4 as the user types or pastes, checked when complete (NHS CUI)."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLineEdit, QWidget

from consent_desktop.domain.errors import InvalidInput
from consent_desktop.domain.nhs_number import NhsNumber, partial_format
from consent_desktop.ui import wording as w
from consent_desktop.ui.text import named

DIGITS = 10
# Pasted numbers come with spaces or dashes of any kind; anything else in the box is a mistake worth mentioning.
_ALLOWED = re.compile(r"[\d\s\-\u2010-\u2015\u2212]*")


def formatted(digits: str) -> str:
    """3-3-4 grouping; more than ten digits are all kept (the extra ones are an error to show, not to drop)."""
    if len(digits) <= DIGITS:
        return partial_format(digits)
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def check(text: str) -> tuple[str, bool]:
    """A message about what is in the box, and whether it is a complete, valid NHS number."""
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if not digits:
        return "", False
    if len(digits) < DIGITS:
        return w.NHS_NUMBER_PARTIAL.format(count=len(digits)), False
    if len(digits) > DIGITS:
        return w.NHS_NUMBER_TOO_LONG.format(count=len(digits)), False
    try:
        NhsNumber.parse(digits)
    except InvalidInput as error:
        return error.user_message, False
    return w.NHS_NUMBER_VALID, True


class NhsNumberEdit(QLineEdit):
    checked = Signal(str, bool)  # the message for the user, and whether the number is complete and valid

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, w.NHS_NUMBER_NAME, w.NHS_NUMBER_DESCRIPTION)
        self.setPlaceholderText(w.NHS_NUMBER_PLACEHOLDER)
        self.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
        self.textEdited.connect(self._reformat)
        self.stray = False  # the last edit had letters or symbols, which were left out

    def set_number_text(self, text: str) -> None:
        """As if the user had typed or pasted ``text``."""
        self.setText(text)
        self._reformat(text)

    def _reformat(self, text: str) -> None:
        cursor = self.cursorPosition()
        digits_before = sum(ch.isascii() and ch.isdigit() for ch in text[:cursor])
        digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
        self.stray = not _ALLOWED.fullmatch(text)
        shown = formatted(digits)
        if shown != text:
            self.setText(shown)
            self.setCursorPosition(_position_after(shown, digits_before))
        message, valid = check(shown)
        if self.stray:
            message = (message + " " if message else "") + w.NHS_NUMBER_DIGITS_ONLY
        self.setProperty("invalid", bool(message) and not valid and (len(digits) >= DIGITS or self.stray))
        self.style().unpolish(self)
        self.style().polish(self)
        self.checked.emit(message, valid)


def _position_after(text: str, digits: int) -> int:
    if digits == 0:
        return 0
    seen = 0
    for index, ch in enumerate(text):
        if ch.isdigit():
            seen += 1
            if seen == digits:
                return index + 1
    return len(text)

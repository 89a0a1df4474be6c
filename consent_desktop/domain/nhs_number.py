"""The NHS number: ten digits with a modulus-11 check digit, shown as ``943 476 5919``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from consent_desktop.domain.errors import InvalidNhsNumber

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
# What a user may paste around the digits: spaces (including non-breaking) and dashes of any kind.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


def check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when no valid NHS number can start with them."""
    total = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


@dataclass(frozen=True, order=True)
class NhsNumber:
    """A valid NHS number. Construct with :meth:`parse`; the constructor also validates."""

    digits: str

    def __post_init__(self) -> None:
        problem = _problem(self.digits)
        if problem:
            raise InvalidNhsNumber(problem)

    @classmethod
    def parse(cls, text: str) -> NhsNumber:
        """Accept what a receptionist types or pastes: digits with optional spaces or dashes."""
        stripped = _SEPARATORS.sub("", text.strip())
        if not stripped:
            raise InvalidNhsNumber("Enter an NHS number.")
        if not stripped.isascii() or not stripped.isdigit():
            raise InvalidNhsNumber("An NHS number contains only digits (spaces and dashes are ignored).")
        return cls(stripped)

    @property
    def formatted(self) -> str:
        """3-3-4 grouping, the NHS display format: ``943 476 5919``."""
        return f"{self.digits[:3]} {self.digits[3:6]} {self.digits[6:]}"

    @property
    def is_test_range(self) -> bool:
        """Numbers starting 999 are valid but never issued to a real person."""
        return self.digits.startswith("999")

    def __str__(self) -> str:
        return self.formatted


def _problem(digits: str) -> str | None:
    if not (digits.isascii() and digits.isdigit()):
        return "An NHS number contains only digits (spaces and dashes are ignored)."
    if len(digits) != 10:
        return f"An NHS number has 10 digits; this has {len(digits)}."
    expected = check_digit(digits[:9])
    if expected is None or expected != int(digits[9]):
        return "This is not a valid NHS number: the last digit does not match. Check it was typed correctly."
    return None


def partial_format(text: str) -> str:
    """Format digits as the user types (``943 476 59``), for an input field; ignores non-digits."""
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())[:10]
    groups = [digits[:3], digits[3:6], digits[6:]]
    return " ".join(g for g in groups if g)

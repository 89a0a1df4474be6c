"""The sandbox's synthetic patients. Every NHS number is in the 999 test range (never issued to a person),
except 943 476 5919, the example number NHS documentation itself uses."""

from __future__ import annotations

# NHS number -> (function, permission) assertions ACS holds at the sandbox's first start.
INITIAL_CONSENT: dict[str, tuple[tuple[str, str], ...]] = {
    "9990000018": (("View", "No"), ("Store", "No")),  # opted out
    "9990000026": (("View", "Yes"),),  # legacy "Yes"
    "9990000034": (("Store", "No"),),  # View and Store recorded differently
}

KNOWN = frozenset({"9434765919", "9990000018", "9990000026", "9990000034", "9990000042"})
UNKNOWN_EXAMPLE = "9990000050"  # valid check digit, but no such patient: ACS answers 400 / 35160


def acs_knows(nhs_number: str) -> bool:
    """Whether ACS accepts requests about this number (a current, valid record)."""
    return nhs_number in KNOWN

"""Sentences the consent screens, dialogs and the patient's slip share, so they never drift apart."""

from __future__ import annotations

from datetime import datetime

from consent_desktop.domain.consent import ConsentChoice, ExpressedBy
from consent_desktop.domain.patient import cui_date
from consent_desktop.domain.uk_time import UK, uk_clock_time

GP_SYSTEM_NOTE = (
    "Whether the patient agreed to share core information only, or core and additional information, is "
    "recorded in the GP system, not on Spine. This app cannot record it: record that choice in the GP system."
)
CONSEQUENCES = {
    ConsentChoice.OPTED_OUT: (
        "Health and care staff outside the GP practice will not be able to see this patient's Summary Care Record."
    ),
    ConsentChoice.ASK_PERMISSION: (
        "Health and care staff will be able to see this patient's Summary Care Record, after asking the patient's "
        "permission when they need to."
    ),
}
# The same consequences, said to the patient (on their confirmation slip).
TO_THE_PATIENT = {
    ConsentChoice.OPTED_OUT: (
        "Health and care staff outside your GP practice will not be able to see your Summary Care Record."
    ),
    ConsentChoice.ASK_PERMISSION: (
        "Health and care staff can see your Summary Care Record when they need to, after asking your permission."
    ),
}
SHORT = {ConsentChoice.OPTED_OUT: "Opted out", ConsentChoice.ASK_PERMISSION: "No preference (ask to view)"}
EXPRESSED = {
    ExpressedBy.IN_PERSON: "In person",
    ExpressedBy.SIGNED_FORM: "On a signed form",
    ExpressedBy.BY_PHONE: "By phone",
    ExpressedBy.REPRESENTATIVE: "Through a representative",
}
CANNOT_CANCEL = "Once sent, a change cannot be cancelled."


def when(moment: datetime) -> str:
    """``10:42 GMT on 25-Nov-2026``: UK time, its zone named, whatever the workstation's zone."""
    return f"{uk_clock_time(moment)} on {cui_date(moment.astimezone(UK).date())}"


def now() -> str:
    """The time now, as :func:`when` words it (without the date)."""
    return uk_clock_time(datetime.now(UK))


def choice_from_value(value: str) -> ConsentChoice | None:
    for choice in ConsentChoice:
        if choice.value == value:
            return choice
    return None


def expressed_from_value(value: str) -> ExpressedBy | None:
    for expressed in ExpressedBy:
        if expressed.value == value:
            return expressed
    return None


SAVE_SLIP = "save the confirmation slip"  # the action named when the slip is written (and in IT's details)

"""The Summary Care Record consent model as the Access Control Service (ACS) holds it.

ACS stores at most two assertions per patient, for the functions View and Store. Their values on the wire:
``No`` (the patient has opted out), legacy ``Yes`` (treated exactly as the default), and absence of an assertion,
which *is* the default: staff must ask the patient's permission before viewing. To go back to the default a
client sends ``Clear``. "Core only" versus "core + additional information" is recorded in the GP system, never on
Spine, so it does not appear here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum

from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.uk_time import require_aware, uk_clock_time

NOTE_MAX = 500  # characters of free text a user may record with a change (the local audit keeps it)
# When a change whose outcome could not be confirmed is read again, in seconds after it was reported: a few times
# over about a minute, because Spine may still apply a change it received (a slow or queued write).
RECHECK_AFTER = (5.0, 15.0, 30.0, 60.0)


class Permission(StrEnum):
    """An assertion value as it appears in a GET response."""

    YES = "Yes"  # legacy; means the same as the default
    NO = "No"
    ASK = "Ask"  # allowed by the GET schema, never sent by Spine in practice


class SetPermission(StrEnum):
    """A value a SET request may carry."""

    NO = "No"
    CLEAR = "Clear"


class ConsentFunction(StrEnum):
    VIEW = "View"
    STORE = "Store"


class ConsentChoice(Enum):
    """What the patient wants, in the app's terms; the only two states a user can set."""

    OPTED_OUT = "no"
    ASK_PERMISSION = "ask"

    @property
    def wire_value(self) -> SetPermission:
        return SetPermission.NO if self is ConsentChoice.OPTED_OUT else SetPermission.CLEAR

    @property
    def plain_english(self) -> str:
        if self is ConsentChoice.OPTED_OUT:
            return "Opted out of the Summary Care Record"
        return "No preference recorded \N{EM DASH} staff must ask permission to view"

    @classmethod
    def from_cli(cls, text: str) -> ConsentChoice:
        for choice in cls:
            if choice.value == text.strip().lower():
                return choice
        raise ValueError(f"unknown consent choice {text!r}; use 'no' or 'ask'")


class ExpressedBy(Enum):
    """How the patient expressed the choice; recorded in the local audit with each change."""

    IN_PERSON = "in person"
    SIGNED_FORM = "signed form"
    BY_PHONE = "by phone"
    REPRESENTATIVE = "through a representative"


@dataclass(frozen=True)
class ConsentAssertion:
    function: ConsentFunction
    permission: Permission


@dataclass(frozen=True)
class ConsentRecord:
    """What ACS holds for one patient, as read at ``read_at``."""

    nhs_number: NhsNumber
    assertions: tuple[ConsentAssertion, ...]
    read_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.read_at, "read_at")

    def permission_for(self, function: ConsentFunction) -> Permission | None:
        for assertion in self.assertions:
            if assertion.function is function:
                return assertion.permission
        return None

    @property
    def choice(self) -> ConsentChoice:
        """Opted out when any assertion says No; otherwise the default (ask), whatever else is recorded."""
        if any(a.permission is Permission.NO for a in self.assertions):
            return ConsentChoice.OPTED_OUT
        return ConsentChoice.ASK_PERMISSION

    @property
    def plain_english(self) -> str:
        return self.choice.plain_english

    @property
    def notes(self) -> tuple[str, ...]:
        """Things a user should know about how the value is recorded on Spine."""
        notes: list[str] = []
        if any(a.permission is Permission.YES for a in self.assertions):
            notes.append(
                "Spine holds the older value \N{LEFT SINGLE QUOTATION MARK}Yes\N{RIGHT SINGLE QUOTATION MARK}, "
                "which means the same as no preference: staff must ask permission to view."
            )
        view, store = self.permission_for(ConsentFunction.VIEW), self.permission_for(ConsentFunction.STORE)
        if (view is Permission.NO) != (store is Permission.NO) and (view or store):
            notes.append(
                "Spine records the View and Store permissions differently; the patient is shown as opted out "
                "because one of them is \N{LEFT SINGLE QUOTATION MARK}No\N{RIGHT SINGLE QUOTATION MARK}."
            )
        return tuple(notes)


class SaveOutcome(Enum):
    """The only three things a user is ever told about a consent change."""

    SAVED = "saved"
    NOT_SAVED = "not saved"
    UNCONFIRMED = "could not confirm"


@dataclass(frozen=True)
class SaveResult:
    """The honest result of a consent change, after re-reading Spine where the outcome was not certain."""

    outcome: SaveOutcome
    nhs_number: NhsNumber
    requested: ConsentChoice
    at: datetime
    record: ConsentRecord | None  # the state re-read from Spine, when the re-read worked
    reason: str = ""  # plain English: why it was not saved, or why it could not be confirmed
    confirmed_by_reread: bool = False
    warning: str = ""  # something else the user must know, e.g. the local audit could not be written

    def __post_init__(self) -> None:
        require_aware(self.at, "at")

    @property
    def headline(self) -> str:
        if self.outcome is SaveOutcome.SAVED:
            return f"Saved on Spine at {uk_clock_time(self.at)}"
        if self.outcome is SaveOutcome.NOT_SAVED:
            return f"NOT saved \N{EM DASH} {self.reason} \N{EM DASH} nothing changed"
        return f"Could not confirm whether the change was saved \N{EM DASH} {self.reason} \N{EM DASH} check again"

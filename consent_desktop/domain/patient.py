"""A patient as the Personal Demographics Service (PDS) describes them, and the demographic search a user may ask for.

Display follows the NHS CUI patient banner: ``FAMILY, Given (Title)``, dates as ``14-Jul-1945`` (the month always in
English, whatever the regional settings), the age on the CUI scale, and "Not known" for anything missing.

A restricted ("S-flag") record never holds a location: address, postcode and GP practice are refused by the
constructor, so a restricted patient cannot be cached, shown or printed with one, whatever the code that built it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import Enum

from consent_desktop.domain.errors import InvalidInput, SpineCode
from consent_desktop.domain.nhs_number import NhsNumber

NOT_KNOWN = "Not known"
RESTRICTED_NOTICE = (
    "Restricted record: this patient's address, contact details and GP practice are not shown and must not be "
    "recorded or printed."
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def cui_date(day: date) -> str:
    """``14-Jul-1945``: two-digit day, English three-letter month, four-digit year (CUI short date format)."""
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year:04d}"


def _add_months(start: date, months: int) -> date:
    """The same day ``months`` later; a day the month lacks (29 Feb, 31 Apr) falls on the 1st of the next month,
    as UK law dates the birthday of someone born on 29 February in a common year."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    try:
        return date(year, month + 1, start.day)
    except ValueError:
        return date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)


def _completed_months(born: date, on: date) -> int:
    months = (on.year - born.year) * 12 + on.month - born.month
    if _add_months(born, months) > on:
        months -= 1
    return months


def cui_age(born: date, on: date) -> str:
    """Age on the CUI patient banner scale: days under 4 weeks, weeks and days under a year, months and days under
    two years, years and months under 18, then years. Zero second units are left out (``10w``, ``5y``)."""
    if on < born:
        raise ValueError("the date of birth is after the day the age is wanted for")
    days = (on - born).days
    months = _completed_months(born, on)
    years, spare_months = divmod(months, 12)
    if days < 28:
        return f"{days}d"
    if years < 1:
        return _two_units(days // 7, "w", days % 7, "d")
    if years < 2:
        return _two_units(months, "m", (on - _add_months(born, months)).days, "d")
    if years < 18:
        return _two_units(years, "y", spare_months, "m")
    return f"{years}y"


def _two_units(first: int, first_unit: str, second: int, second_unit: str) -> str:
    return f"{first}{first_unit} {second}{second_unit}" if second else f"{first}{first_unit}"


class Gender(Enum):
    """PDS administrative gender (``Sex_code``), with the display names the PDS vocabulary gives them."""

    NOT_KNOWN = "0"
    MALE = "1"
    FEMALE = "2"
    NOT_SPECIFIED = "9"

    @property
    def display(self) -> str:
        return {"0": "Not known", "1": "Male", "2": "Female", "9": "Not specified"}[self.value]

    @classmethod
    def parse(cls, text: str | Gender) -> Gender:
        """What a user picks or types: the display name, its first letter for male/female, or the PDS code."""
        if isinstance(text, Gender):
            return text
        key = " ".join(text.split()).casefold()
        if not key:
            raise InvalidInput("gender", "Choose the patient's gender.")
        for gender in cls:
            if key in (gender.value, gender.display.casefold()):
                return gender
        aliases = {"m": cls.MALE, "f": cls.FEMALE, "unknown": cls.NOT_KNOWN}
        if key in aliases:
            return aliases[key]
        raise InvalidInput("gender", "Gender must be Male, Female, Not known or Not specified.")


@dataclass(frozen=True, repr=False)
class Patient:
    """One PDS record, ready to show. ``repr`` names no identifying detail, so a stray log line leaks nothing."""

    nhs_number: NhsNumber
    family_name: str | None
    given_names: tuple[str, ...]
    title: str | None
    birth_date: date | None
    gender: Gender | None
    address_lines: tuple[str, ...] | None  # None for a restricted record
    postcode: str | None  # None for a restricted record
    gp_practice: str | None  # ODS code of the registered practice; None for a restricted record
    date_of_death: date | None = None
    restricted: bool = False
    superseded_from: NhsNumber | None = None  # the number asked for, when PDS answered with its successor
    warnings: tuple[SpineCode, ...] = ()  # PDS warnings (qualifier WG), for IT: superseded, limited data

    def __post_init__(self) -> None:
        if self.restricted and (
            self.address_lines is not None or self.postcode is not None or self.gp_practice is not None
        ):
            raise ValueError("a restricted record must not hold an address, postcode or GP practice")

    def __repr__(self) -> str:
        return (
            f"Patient(restricted={self.restricted}, deceased={self.is_deceased}, "
            f"superseded={self.superseded_from is not None})"
        )

    @property
    def is_deceased(self) -> bool:
        return self.date_of_death is not None

    @property
    def display_name(self) -> str:
        """``FAMILY, Given Other (Title)``; "Not known" when PDS holds no family name."""
        if not self.family_name:
            return NOT_KNOWN
        text = self.family_name.upper()
        if self.given_names:
            text += ", " + " ".join(self.given_names)
        if self.title:
            text += f" ({self.title})"
        return text

    @property
    def gender_display(self) -> str:
        return self.gender.display if self.gender is not None else NOT_KNOWN

    def age(self, today: date) -> str | None:
        """Age now, or at death for a deceased patient (an age that kept counting would mislead)."""
        if self.birth_date is None:
            return None
        until = min(today, self.date_of_death) if self.date_of_death else today
        return cui_age(self.birth_date, until) if until >= self.birth_date else None

    def born(self, today: date) -> str:
        """``14-Jul-1945 (81y)``, the value after the banner label "Born"."""
        if self.birth_date is None:
            return NOT_KNOWN
        age = self.age(today)
        return f"{cui_date(self.birth_date)} ({age})" if age else cui_date(self.birth_date)

    @property
    def deceased_line(self) -> str | None:
        return f"Died {cui_date(self.date_of_death)}" if self.date_of_death else None

    @property
    def address_display(self) -> str:
        if self.restricted:
            return RESTRICTED_NOTICE
        parts = [*(self.address_lines or ()), *([self.postcode] if self.postcode else [])]
        return ", ".join(parts) if parts else NOT_KNOWN

    @property
    def gp_practice_display(self) -> str:
        if self.restricted:
            return "Not shown (restricted record)"
        return self.gp_practice or NOT_KNOWN

    @property
    def superseded_notice(self) -> str | None:
        if self.superseded_from is None:
            return None
        return (
            f"NHS number {self.superseded_from.formatted} has been replaced by {self.nhs_number.formatted}. "
            "This is the patient's current record."
        )

    @property
    def consent_change_blocked_reason(self) -> str | None:
        if self.date_of_death is None:
            return None
        return f"This patient has died ({cui_date(self.date_of_death)}). Consent changes are blocked."

    def banner(self, today: date) -> tuple[tuple[str, str], ...]:
        """Label and value pairs in the CUI order (name, born, gender, NHS number), then the rest."""
        rows = [
            ("Name", self.display_name),
            ("Born", self.born(today)),
            ("Gender", self.gender_display),
            ("NHS No.", self.nhs_number.formatted),
        ]
        if self.deceased_line:
            rows.append(("Died", self.deceased_line.removeprefix("Died ")))
        rows += [("Address", self.address_display), ("GP practice", self.gp_practice_display)]
        return tuple(rows)

    @property
    def notices(self) -> tuple[str, ...]:
        """What a user must be told about this record, most important first."""
        found = [self.consent_change_blocked_reason, RESTRICTED_NOTICE if self.restricted else None]
        found.append(self.superseded_notice)
        return tuple(n for n in found if n)


# --- simple trace ------------------------------------------------------------------------------------------------

NAME_MAX = 35  # PDS holds each name part in at most 35 characters
_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC_DATE = re.compile(r"(\d{1,2})[/\-. ](\d{1,2})[/\-. ](\d+)")
_TEXT_DATE = re.compile(r"(\d{1,2})[\-/ ]([^\W\d_]+)[\-/ ](\d+)")
# A range typed in one box: "1970-1975", "1970 to 1975", "01/01/1970 - 31/12/1970", "between ... and ...".
_RANGE = re.compile(
    r"\d{4}\s*[-\u2013\u2014/]\s*\d{4}|\d\s+-\s+\d|\d\s*[\u2013\u2014]\s*\d|\bto\b|\bbetween\b|\.\.|\band\b",
    re.IGNORECASE,
)
_PARTIAL = re.compile(r"\d{4}|\d{1,2}[/\-. ]\d{4}|[^\W\d_]+[\-/ ]\d{4}")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
EARLIEST_BIRTH = date(1880, 1, 1)


def _clean_name(field: str, label: str, text: str, *, required: bool) -> str | None:
    name = " ".join(unicodedata.normalize("NFC", text).translate(_APOSTROPHES).split())
    if not name:
        if required:
            raise InvalidInput(field, f"Enter the patient's {label}.")
        return None
    if "*" in name or "?" in name or "%" in name:
        raise InvalidInput(field, f"Enter the {label} in full: a simple trace cannot use wildcards.")
    if any(ch.isdigit() for ch in name):
        raise InvalidInput(field, f"The {label} cannot contain numbers.")
    if not unicodedata.category(name[0]).startswith("L"):
        raise InvalidInput(field, f"The {label} must start with a letter.")
    for ch in name:
        if not (unicodedata.category(ch)[0] in "LM" or ch in " -'."):
            raise InvalidInput(
                field, f"The {label} can contain only letters, spaces, hyphens and apostrophes (not {ch!r})."
            )
    if len(name) > NAME_MAX:
        raise InvalidInput(field, f"The {label} is too long: PDS holds at most {NAME_MAX} characters.")
    return name


def _month_number(text: str) -> int | None:
    key = text.casefold()[:3]
    for number, name in enumerate(_MONTHS, start=1):
        if name.casefold() == key and len(text) >= 3:
            return number
    return None


def parse_birth_date(text: str | date, *, today: date) -> date:
    """One full date of birth, as typed (``14-Jul-1945``, ``14/07/1945``, ``1945-07-14``) or already a date."""
    field = "date_of_birth"
    if isinstance(text, date):
        value = text
    else:
        raw = " ".join(text.split())
        if not raw:
            raise InvalidInput(field, "Enter the patient's date of birth.")
        if _RANGE.search(raw):
            raise InvalidInput(
                field, "Enter one date of birth. A search by name and date of birth cannot use a range of dates."
            )
        value = _date_from_text(raw)
    if value > today:
        raise InvalidInput(field, "The date of birth cannot be in the future.")
    if value < EARLIEST_BIRTH:
        raise InvalidInput(field, "Check the year of the date of birth: it is too far in the past.")
    return value


def _date_from_text(raw: str) -> date:
    field = "date_of_birth"
    iso, numeric, textual = _ISO_DATE.fullmatch(raw), _NUMERIC_DATE.fullmatch(raw), _TEXT_DATE.fullmatch(raw)
    if iso:
        year_text, month, day = iso[1], int(iso[2]), int(iso[3])
    elif numeric:
        day, month, year_text = int(numeric[1]), int(numeric[2]), numeric[3]
    elif textual and (named_month := _month_number(textual[2])) is not None:
        day, month, year_text = int(textual[1]), named_month, textual[3]
    elif _PARTIAL.fullmatch(raw):
        raise InvalidInput(field, "Enter the full date of birth: day, month and year.")
    else:
        raise InvalidInput(field, "Enter the date of birth as day, month and year, for example 14-Jul-1945.")
    if len(year_text) != 4:
        raise InvalidInput(field, "Enter the year of birth in full, with four digits.")
    try:
        return date(int(year_text), month, day)
    except ValueError:
        raise InvalidInput(field, "That date of birth does not exist. Check the day and month.") from None


def normalise_postcode(text: str) -> str | None:
    """A UK postcode as ``AB1 2CD``; None when blank. Raises :class:`InvalidInput` for anything else."""
    compact = "".join(text.split()).upper()
    if not compact:
        return None
    if not _POSTCODE.fullmatch(compact):
        raise InvalidInput("postcode", "Enter a full UK postcode, for example AB1 2CD, or leave it blank.")
    return f"{compact[:-3]} {compact[-3:]}"


@dataclass(frozen=True)
class TraceQuery:
    """A PDS simple trace: family name, gender and one date of birth, optionally a given name and a postcode.

    Build it with :meth:`parse` from what the user typed; the constructor checks the same rules except the
    date of birth against today's date.
    """

    family_name: str
    gender: Gender
    birth_date: date
    given_name: str | None = None
    postcode: str | None = None

    def __post_init__(self) -> None:
        checked = (
            _clean_name("family_name", "family name", self.family_name, required=True),
            _clean_name("given_name", "given name", self.given_name or "", required=False),
            normalise_postcode(self.postcode or ""),
            Gender.parse(self.gender),
        )
        if checked != (self.family_name, self.given_name, self.postcode, self.gender):
            raise ValueError("trace fields must be in their checked form: build the query with TraceQuery.parse")

    @classmethod
    def parse(
        cls,
        *,
        family_name: str,
        gender: str | Gender,
        date_of_birth: str | date,
        given_name: str = "",
        postcode: str = "",
        today: date | None = None,
    ) -> TraceQuery:
        """Check every field (in form order) and refuse the first problem with a message naming the field."""
        family = _clean_name("family_name", "family name", family_name, required=True)
        given = _clean_name("given_name", "given name", given_name, required=False)
        checked_gender = Gender.parse(gender)
        born = parse_birth_date(date_of_birth, today=today or date.today())
        assert family is not None
        return cls(family, checked_gender, born, given, normalise_postcode(postcode))


class TraceResult(Enum):
    MATCH = "match"
    NO_MATCH = "no match"
    TOO_MANY = "too many"


@dataclass(frozen=True)
class TraceOutcome:
    """What a simple trace found. PDS returns a patient only for a unique match; it never returns a list."""

    result: TraceResult
    patient: Patient | None = None

    def __post_init__(self) -> None:
        if (self.result is TraceResult.MATCH) != (self.patient is not None):
            raise ValueError("a trace outcome holds a patient exactly when it is a match")

    @classmethod
    def match(cls, patient: Patient) -> TraceOutcome:
        return cls(TraceResult.MATCH, patient)

    @classmethod
    def no_match(cls) -> TraceOutcome:
        return cls(TraceResult.NO_MATCH)

    @classmethod
    def too_many(cls) -> TraceOutcome:
        return cls(TraceResult.TOO_MANY)

    @property
    def message(self) -> str:
        if self.result is TraceResult.NO_MATCH:
            return "No patient matches these details. Check them, or search by NHS number."
        if self.result is TraceResult.TOO_MANY:
            return (
                "More than one patient matches these details, and the search does not list them. Add more detail, "
                "such as the given name or postcode, and search again."
            )
        return "One patient matches these details. Check it is the right person before going on."

"""The patient model's display rules (NHS CUI) and the simple-trace form's checks."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from consent_desktop.domain.errors import InvalidInput, SpineCode
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import (
    NOT_KNOWN,
    RESTRICTED_NOTICE,
    Gender,
    Patient,
    TraceOutcome,
    TraceQuery,
    TraceResult,
    cui_age,
    cui_date,
)

TODAY = date(2026, 11, 25)


def patient(**changes: object) -> Patient:
    base = Patient(
        nhs_number=NhsNumber("9434765919"),
        family_name="Amberlock",
        given_names=("Winifred",),
        title="Mrs",
        birth_date=date(1945, 7, 14),
        gender=Gender.FEMALE,
        address_lines=("3 Tallowfield Rise", "Fernhallow"),
        postcode="QQ1 1AA",
        gp_practice="A81001",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# --- name, dates, gender -----------------------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-001")
def test_banner_in_cui_order_with_every_field() -> None:
    assert patient().banner(TODAY) == (
        ("Name", "AMBERLOCK, Winifred (Mrs)"),
        ("Born", "14-Jul-1945 (81y)"),
        ("Gender", "Female"),
        ("NHS No.", "943 476 5919"),
        ("Address", "3 Tallowfield Rise, Fernhallow, QQ1 1AA"),
        ("GP practice", "A81001"),
    )


@pytest.mark.hazard("HAZ-001")
@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"title": None}, "AMBERLOCK, Winifred"),
        ({"given_names": ("Winifred", "Ada May")}, "AMBERLOCK, Winifred Ada May (Mrs)"),
        ({"given_names": ()}, "AMBERLOCK (Mrs)"),
        ({"family_name": "O'Shevlin-Bracke"}, "O'SHEVLIN-BRACKE, Winifred (Mrs)"),
        ({"family_name": "Brzęczkowiańska", "given_names": ("Łucja",)}, "BRZĘCZKOWIAŃSKA, Łucja (Mrs)"),
        ({"family_name": "ap Gwyddelan", "given_names": ("Siân",)}, "AP GWYDDELAN, Siân (Mrs)"),
        ({"family_name": None}, NOT_KNOWN),
    ],
)
def test_display_name(changes: dict[str, object], shown: str) -> None:
    assert patient(**changes).display_name == shown


@pytest.mark.parametrize(
    ("day", "shown"),
    [(date(1945, 7, 14), "14-Jul-1945"), (date(2000, 5, 1), "01-May-2000"), (date(1999, 12, 31), "31-Dec-1999")],
)
def test_cui_short_date(day: date, shown: str) -> None:
    assert cui_date(day) == shown


@pytest.mark.hazard("HAZ-001")
def test_missing_values_read_not_known() -> None:
    unknown = patient(birth_date=None, gender=None, address_lines=None, postcode=None, gp_practice=None)
    assert unknown.born(TODAY) == NOT_KNOWN
    assert unknown.gender_display == NOT_KNOWN
    assert unknown.address_display == NOT_KNOWN
    assert unknown.gp_practice_display == NOT_KNOWN
    assert "?" not in "".join(value for _, value in unknown.banner(TODAY))


def test_address_without_postcode_and_postcode_without_lines() -> None:
    assert patient(postcode=None).address_display == "3 Tallowfield Rise, Fernhallow"
    assert patient(address_lines=()).address_display == "QQ1 1AA"


@pytest.mark.parametrize(
    ("gender", "shown"),
    [
        (Gender.NOT_KNOWN, "Not known"),
        (Gender.MALE, "Male"),
        (Gender.FEMALE, "Female"),
        (Gender.NOT_SPECIFIED, "Not specified"),
    ],
)
def test_gender_display_uses_pds_names(gender: Gender, shown: str) -> None:
    assert patient(gender=gender).gender_display == shown


@pytest.mark.parametrize(
    ("text", "gender"),
    [
        ("Male", Gender.MALE),
        ("f", Gender.FEMALE),
        ("2", Gender.FEMALE),
        (" not  known ", Gender.NOT_KNOWN),
        ("Not specified", Gender.NOT_SPECIFIED),
        ("9", Gender.NOT_SPECIFIED),
        ("0", Gender.NOT_KNOWN),
    ],
)
def test_gender_parse(text: str, gender: Gender) -> None:
    assert Gender.parse(text) is gender


# --- age ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(1945, 7, 14), date(2026, 7, 13), "80y"),  # the day before the birthday
        (date(1945, 7, 14), date(2026, 7, 14), "81y"),  # on the birthday
        (date(2026, 11, 25), date(2026, 11, 25), "0d"),
        (date(2026, 10, 29), date(2026, 11, 25), "27d"),
        (date(2026, 10, 28), date(2026, 11, 25), "4w"),
        (date(2026, 9, 10), date(2026, 11, 25), "10w 6d"),
        (date(2025, 11, 25), date(2026, 11, 25), "12m"),
        (date(2025, 10, 20), date(2026, 11, 25), "13m 5d"),
        (date(2024, 11, 25), date(2026, 11, 25), "2y"),
        (date(2021, 9, 30), date(2026, 11, 25), "5y 1m"),
        (date(2008, 12, 31), date(2026, 11, 25), "17y 10m"),
        (date(2008, 11, 25), date(2026, 11, 25), "18y"),
    ],
)
def test_age_follows_the_cui_scale(born: date, on: date, age: str) -> None:
    assert cui_age(born, on) == age


@pytest.mark.parametrize(
    ("on", "age"),
    [
        (date(2023, 2, 28), "62y"),  # common year: not yet
        (date(2023, 3, 1), "63y"),  # the birthday falls on 1 March
        (date(2024, 2, 28), "63y"),
        (date(2024, 2, 29), "64y"),  # leap year: on the day
    ],
)
def test_age_of_someone_born_on_a_leap_day(on: date, age: str) -> None:
    assert cui_age(date(1960, 2, 29), on) == age


def test_months_of_a_baby_born_on_the_31st() -> None:
    born = date(2025, 1, 31)
    assert cui_age(born, date(2026, 2, 28)) == "12m 28d"  # 31 Jan 2026 is the 12-month anniversary
    assert cui_age(born, date(2026, 3, 1)) == "13m"  # no 31 February: the 13th falls on 1 March


def test_born_line_takes_an_injected_today() -> None:
    assert patient().born(date(2030, 7, 14)) == "14-Jul-1945 (85y)"


def test_age_before_birth_is_refused() -> None:
    with pytest.raises(ValueError, match="after"):
        cui_age(date(2026, 1, 2), date(2026, 1, 1))


# --- deceased, restricted, superseded ------------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-006")
def test_deceased_patient_shown_plainly_and_changes_blocked() -> None:
    dead = patient(date_of_death=date(2024, 3, 3))
    assert dead.is_deceased
    assert dead.deceased_line == "Died 03-Mar-2024"
    assert ("Died", "03-Mar-2024") in dead.banner(TODAY)
    assert dead.born(TODAY) == "14-Jul-1945 (78y)"  # age at death, not an age that keeps counting
    assert dead.consent_change_blocked_reason == "This patient has died (03-Mar-2024). Consent changes are blocked."
    assert dead.notices[0] == dead.consent_change_blocked_reason


@pytest.mark.hazard("HAZ-006")
def test_living_patient_has_no_block_and_no_deceased_line() -> None:
    alive = patient()
    assert alive.consent_change_blocked_reason is None
    assert alive.deceased_line is None
    assert "Died" not in dict(alive.banner(TODAY))
    assert alive.notices == ()


@pytest.mark.hazard("HAZ-006", "HAZ-008")
@pytest.mark.parametrize(
    "location", [{"address_lines": ("1 Lane",)}, {"postcode": "QQ1 1AA"}, {"gp_practice": "A81001"}]
)
def test_restricted_record_cannot_hold_a_location(location: dict[str, object]) -> None:
    empty = {"address_lines": None, "postcode": None, "gp_practice": None}
    with pytest.raises(ValueError, match="restricted"):
        patient(restricted=True, **{**empty, **location})


@pytest.mark.hazard("HAZ-006", "HAZ-008")
def test_restricted_record_shows_the_notice_instead() -> None:
    hidden = patient(restricted=True, address_lines=None, postcode=None, gp_practice=None)
    shown = dict(hidden.banner(TODAY))
    assert shown["Address"] == RESTRICTED_NOTICE
    assert shown["GP practice"] == "Not shown (restricted record)"
    assert RESTRICTED_NOTICE in hidden.notices


@pytest.mark.hazard("HAZ-008")
def test_repr_names_nothing_identifying() -> None:
    text = repr(patient(warnings=(SpineCode("24", "superseded", "WG"),)))
    for secret in ("Amberlock", "9434765919", "943 476 5919", "1945", "QQ1 1AA", "Tallowfield", "A81001"):
        assert secret not in text
    assert text == str(patient())


@pytest.mark.hazard("HAZ-001", "HAZ-006")
def test_superseded_notice_names_both_numbers() -> None:
    switched = patient(nhs_number=NhsNumber("9990000115"), superseded_from=NhsNumber("9990000107"))
    assert switched.superseded_notice == (
        "NHS number 999 000 0107 has been replaced by 999 000 0115. This is the patient's current record."
    )
    assert switched.superseded_notice in switched.notices
    assert patient().superseded_notice is None


# --- the trace form ------------------------------------------------------------------------------------------------


def trace(**fields: str) -> TraceQuery:
    form = {"family_name": "Varnhollow", "gender": "Male", "date_of_birth": "21-May-1988"} | fields
    return TraceQuery.parse(**form, today=TODAY)  # type: ignore[arg-type]


def test_trace_accepts_a_plain_search() -> None:
    query = trace(given_name=" Ellis ", postcode="qq52ab")
    assert query == TraceQuery("Varnhollow", Gender.MALE, date(1988, 5, 21), "Ellis", "QQ5 2AB")


@pytest.mark.parametrize(
    "typed",
    ["21-May-1988", "21 May 1988", "21/05/1988", "21-05-1988", "21.5.1988", "1988-05-21", "21 may 1988", "21-MAY-1988"],
)
def test_trace_reads_the_usual_ways_of_typing_a_date(typed: str) -> None:
    assert trace(date_of_birth=typed).birth_date == date(1988, 5, 21)


def test_trace_keeps_apostrophes_hyphens_and_accents() -> None:
    query = trace(family_name="O\u2019Shevlin-Bracke", given_name="Mary-Kate")
    assert query.family_name == "O'Shevlin-Bracke"  # a typographic apostrophe becomes the plain one PDS holds
    assert trace(family_name="Saint-E\u0301vremondet").family_name == "Saint-\u00c9vremondet"  # NFC


@pytest.mark.hazard("HAZ-001")
@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"family_name": "  "}, "family_name", "Enter the patient's family name."),
        ({"date_of_birth": ""}, "date_of_birth", "Enter the patient's date of birth."),
        ({"date_of_birth": "26-Nov-2026"}, "date_of_birth", "cannot be in the future"),
        ({"date_of_birth": "1988-1989"}, "date_of_birth", "Enter one date of birth"),
        ({"date_of_birth": "1988 to 1989"}, "date_of_birth", "cannot use a range"),
        ({"date_of_birth": "01/01/1988 - 31/12/1988"}, "date_of_birth", "cannot use a range"),
        ({"date_of_birth": "between 1987 and 1989"}, "date_of_birth", "cannot use a range"),
        ({"date_of_birth": "1988"}, "date_of_birth", "full date of birth"),
        ({"date_of_birth": "May 1988"}, "date_of_birth", "full date of birth"),
        ({"date_of_birth": "05/1988"}, "date_of_birth", "full date of birth"),
        ({"date_of_birth": "21/05/88"}, "date_of_birth", "four digits"),
        ({"date_of_birth": "31-02-1988"}, "date_of_birth", "does not exist"),
        ({"date_of_birth": "yesterday"}, "date_of_birth", "for example 14-Jul-1945"),
        ({"date_of_birth": "01-01-1870"}, "date_of_birth", "too far in the past"),
        ({"postcode": "QQ5"}, "postcode", "full UK postcode"),
        ({"postcode": "12345"}, "postcode", "full UK postcode"),
        ({"gender": ""}, "gender", "Choose the patient's gender."),
        ({"gender": "unsure"}, "gender", "Male, Female, Not known or Not specified"),
        ({"family_name": "Varn*"}, "family_name", "wildcards"),
        ({"family_name": "Varnh0llow"}, "family_name", "cannot contain numbers"),
        ({"given_name": "El_lis"}, "given_name", "only letters"),
        ({"family_name": "-Varnhollow"}, "family_name", "start with a letter"),
        ({"family_name": "V" * 36}, "family_name", "at most 35"),
    ],
)
def test_trace_refuses_bad_input_naming_the_field(fields: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        trace(**fields)
    assert refused.value.field == field
    assert words in refused.value.user_message


def test_trace_reports_fields_in_form_order() -> None:
    with pytest.raises(InvalidInput) as refused:
        trace(family_name="", gender="?", date_of_birth="", postcode="x")
    assert refused.value.field == "family_name"


@pytest.mark.hazard("HAZ-001")
def test_trace_constructor_refuses_unchecked_values() -> None:
    with pytest.raises(InvalidInput) as refused:
        TraceQuery("", Gender.MALE, date(1988, 5, 21))
    assert refused.value.field == "family_name"
    with pytest.raises(ValueError, match=r"TraceQuery\.parse"):
        TraceQuery("Varnhollow", Gender.MALE, date(1988, 5, 21), postcode="qq52ab")  # valid, but not normalised
    with pytest.raises(ValueError, match=r"TraceQuery\.parse"):
        TraceQuery("Varnhollow", Gender.MALE, date(1988, 5, 21), given_name="")


@pytest.mark.hazard("HAZ-001")
def test_trace_outcome_holds_a_patient_only_for_a_match() -> None:
    assert TraceOutcome.match(patient()).patient == patient()
    assert TraceOutcome.no_match().result is TraceResult.NO_MATCH
    assert "Add more detail" in TraceOutcome.too_many().message
    assert "does not list them" in TraceOutcome.too_many().message
    with pytest.raises(ValueError):
        TraceOutcome(TraceResult.NO_MATCH, patient())
    with pytest.raises(ValueError):
        TraceOutcome(TraceResult.MATCH)

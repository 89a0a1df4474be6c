"""Finding the patient: the NHS number box as typed and pasted, the PDS trace's three answers, field messages."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from consent_desktop.sandbox.patients import SUPERSEDED_NEW, SUPERSEDED_OLD, UNKNOWN_EXAMPLE
from tests.ui.conftest import Desk
from tests.ui.screen import visible_text

pytestmark = pytest.mark.gui


@pytest.mark.hazard("HAZ-001")
def test_the_number_is_grouped_3_3_4_as_it_is_typed(signed_in: Desk) -> None:
    search = signed_in.window.work.search
    shown = []
    for digit in "9434765919":
        signed_in.qtbot.keyClick(search.nhs, digit)
        shown.append(search.nhs.text())

    assert shown[2:4] == ["943", "943 4"]
    assert shown[5:7] == ["943 476", "943 476 5"]
    assert shown[-1] == "943 476 5919"
    assert search.nhs_hint.text() == "Valid NHS number"


@pytest.mark.parametrize("pasted", ["943-476-5919", " 943 476 5919 ", "9434765919", "943\u2013476\u20135919"])
@pytest.mark.hazard("HAZ-001")
def test_a_pasted_number_with_spaces_or_dashes_is_accepted(signed_in: Desk, pasted: str) -> None:
    search = signed_in.window.work.search
    QGuiApplication.clipboard().setText(pasted)
    search.nhs.setFocus()
    signed_in.qtbot.keyClick(search.nhs, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)

    assert search.nhs.text() == "943 476 5919"
    signed_in.qtbot.keyClick(search.nhs, Qt.Key.Key_Return)
    signed_in.wait(lambda: signed_in.window.work.banner.patient is not None)
    assert signed_in.window.work.banner.values["NHS No."].text() == "943 476 5919"


@pytest.mark.hazard("HAZ-001")
def test_a_wrong_check_digit_is_explained_as_typed_and_nothing_is_looked_up(signed_in: Desk) -> None:
    search = signed_in.window.work.search
    signed_in.qtbot.keyClicks(search.nhs, "9434765918")

    assert search.nhs_hint.text().startswith("This is not a valid NHS number: the last digit does not match")
    signed_in.qtbot.keyClick(search.nhs, Qt.Key.Key_Return)
    signed_in.qtbot.wait(100)
    assert signed_in.window.work.banner.patient is None
    assert search.nhs_hint.isVisible()


@pytest.mark.hazard("HAZ-001")
def test_extra_digits_pasted_are_shown_as_an_error_not_cut_off(signed_in: Desk) -> None:
    search = signed_in.window.work.search
    search.look_up("943 476 5919 1")

    assert search.nhs.text() == "943 476 59191"
    assert search.nhs_hint.text() == "An NHS number has 10 digits; this has 11."
    signed_in.qtbot.wait(100)
    assert signed_in.window.work.banner.patient is None


def test_letters_are_left_out_and_the_user_told(signed_in: Desk) -> None:
    search = signed_in.window.work.search
    search.nhs.setFocus()
    signed_in.qtbot.keyClicks(search.nhs, "94a")

    assert search.nhs.text() == "94"
    assert "Only digits can go in an NHS number" in search.nhs_hint.text()
    signed_in.qtbot.keyClicks(search.nhs, "3")
    assert (search.nhs.text(), search.nhs_hint.text()) == ("943", "3 of 10 digits")


def test_a_number_spine_does_not_know_is_said_plainly(signed_in: Desk) -> None:
    search = signed_in.window.work.search
    search.look_up(UNKNOWN_EXAMPLE)

    signed_in.wait(lambda: search.result.text)
    assert "Traceback" not in search.result.text
    assert search.result.toggle.isVisible()
    assert signed_in.window.work.banner.patient is None


@pytest.mark.hazard("HAZ-001", "HAZ-006")
def test_a_superseded_number_shows_the_current_record_and_says_so(signed_in: Desk) -> None:
    signed_in.window.look_up(SUPERSEDED_OLD)

    banner = signed_in.window.work.banner
    signed_in.wait(lambda: banner.patient is not None)
    assert banner.values["NHS No."].text() == f"{SUPERSEDED_NEW[:3]} {SUPERSEDED_NEW[3:6]} {SUPERSEDED_NEW[6:]}"
    assert "has been replaced by" in visible_text(banner)


def _trace(desk: Desk, family: str, gender: str, born: str, given: str = "", postcode: str = "") -> None:
    search = desk.window.work.search
    desk.qtbot.keyClicks(search.family, family)
    desk.qtbot.keyClicks(search.given, given)
    search.gender.setCurrentIndex(search.gender.findData(gender))
    desk.qtbot.keyClicks(search.birth, born)
    desk.qtbot.keyClicks(search.postcode, postcode)
    desk.qtbot.keyClick(search.postcode, Qt.Key.Key_Return)  # Enter submits


def test_a_unique_trace_match_brings_up_the_patient(signed_in: Desk) -> None:
    _trace(signed_in, "Amberlock", "Female", "14-Jul-1945")

    search = signed_in.window.work.search
    signed_in.wait(lambda: signed_in.window.work.banner.patient is not None)
    assert search.result.text == "One patient matches these details. Check it is the right person before going on."
    assert signed_in.window.work.banner.name.text() == "AMBERLOCK, Winifred (Mrs)"


def test_no_trace_match_is_said_and_nobody_is_shown(signed_in: Desk) -> None:
    _trace(signed_in, "Nobodyofthisname", "Male", "01/01/1970")

    search = signed_in.window.work.search
    signed_in.wait(lambda: search.result.text)
    assert search.result.text == "No patient matches these details. Check them, or search by NHS number."
    assert signed_in.window.work.banner.patient is None


@pytest.mark.hazard("HAZ-001")
def test_too_many_matches_asks_for_more_detail_and_lists_nobody(signed_in: Desk) -> None:
    _trace(signed_in, "Hollowquay", "Female", "2019-09-30")

    search = signed_in.window.work.search
    signed_in.wait(lambda: search.result.text)
    assert search.result.text.startswith("More than one patient matches these details")
    assert "Add more detail" in search.result.text
    assert signed_in.window.work.banner.patient is None

    search.given.setText("Bryony")
    search.search()
    signed_in.wait(lambda: signed_in.window.work.banner.patient is not None)
    assert signed_in.window.work.banner.name.text() == "HOLLOWQUAY, Bryony (Miss)"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"family": "", "gender": "Female", "born": "14-Jul-1945"}, "family_name", "Enter the patient's family name."),
        ({"family": "Amber*", "gender": "Female", "born": "14-Jul-1945"}, "family_name", "wildcards"),
        ({"family": "Amberlock", "gender": "", "born": "14-Jul-1945"}, "gender", "Choose the patient's gender."),
        ({"family": "Amberlock", "gender": "Female", "born": "1945"}, "date_of_birth", "Enter the full date"),
        ({"family": "Amberlock", "gender": "Female", "born": "1945-1950"}, "date_of_birth", "Enter one date"),
        (
            {"family": "Amberlock", "gender": "Female", "born": "14-Jul-1945", "postcode": "NOT A CODE"},
            "postcode",
            "Enter a full UK postcode",
        ),
    ],
    ids=["no-family-name", "wildcard", "no-gender", "year-only", "date-range", "bad-postcode"],
)
def test_each_field_says_what_is_wrong_with_it(
    signed_in: Desk, fields: dict[str, str], field: str, message: str
) -> None:
    _trace(signed_in, **fields)

    search = signed_in.window.work.search
    shown = search.field_messages[field]
    signed_in.wait(shown.text)
    assert message in shown.text()
    assert [f for f, label in search.field_messages.items() if label.text()] == [field]
    assert search._fields[field].hasFocus()
    assert not search.result.text  # nothing was sent, so there is no search result

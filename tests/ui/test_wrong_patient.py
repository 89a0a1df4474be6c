"""The wrong patient: a new search closes the patient on screen at once; a search that fails, or finds Spine down,
leaves no patient selected; an answer to an earlier search is never shown; a half-made change is not thrown away
without asking (and a lock closes it without asking)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from consent_desktop.domain.consent import ConsentChoice, ExpressedBy
from consent_desktop.sandbox.patients import README_EXAMPLE, UNKNOWN_EXAMPLE
from consent_desktop.ui.change_dialogs import ChangeConsentDialog
from tests.ui.conftest import Desk
from tests.ui.screen import every_text, visible_text
from tests.ui.test_consent import open_patient, start_change

pytestmark = pytest.mark.gui

OTHER = "9990000018"  # PELLINGWORTH, Desmond (Mr)
AMBERLOCK = ("AMBERLOCK", "943 476 5919", "Tallowfield")  # what identifies README_EXAMPLE's patient on screen


def type_and_find(desk: Desk, nhs_number: str) -> None:
    field = desk.window.work.search.nhs
    field.clear()
    desk.qtbot.keyClicks(field, nhs_number)
    desk.qtbot.keyClick(field, Qt.Key.Key_Return)


def no_patient_selected(desk: Desk) -> list[str]:
    """What is wrong, if anything, with "no patient is selected": a patient, or a way to act on one."""
    work = desk.window.work
    wrong = []
    if work.patient is not None or work.banner.patient is not None or work.consent.patient is not None:
        wrong.append("a patient is still held")
    if work.banner.isVisible() or work.consent.isVisible():
        wrong.append("the banner or the consent panel is on screen")
    for control in (work.banner.confirm, work.consent.change, work.consent.check_again, work.consent.history):
        if control.isVisible() and control.isEnabled():
            wrong.append(f"{control.accessibleName()!r} can be used")
    shown = visible_text(work)
    wrong += [f"{detail} is on screen" for detail in AMBERLOCK if detail in shown]
    return wrong


@pytest.mark.hazard("HAZ-001")
def test_a_new_search_closes_the_patient_at_once_and_the_next_must_be_confirmed(signed_in: Desk) -> None:
    open_patient(signed_in)  # AMBERLOCK, confirmed: Change is offered
    assert signed_in.window.work.consent.change.isEnabled()
    signed_in.store.set_fault("latency", "1.5", scope="pds", times=1)  # the next search takes a while

    type_and_find(signed_in, OTHER)

    assert no_patient_selected(signed_in) == []  # at once, before Spine has answered
    assert signed_in.window.work.empty.text().startswith("Finding the patient")
    work = signed_in.window.work
    signed_in.wait(lambda: work.banner.patient is not None and work.consent.record is not None)
    assert work.banner.name.text() == "PELLINGWORTH, Desmond (Mr)"
    assert work.banner.confirm.isEnabled()  # the new patient is to be confirmed...
    assert not work.consent.change.isEnabled()  # ...before anything can be changed
    assert work.consent.change_reason.text() == "Confirm this is the right patient before changing their choice."


@pytest.mark.hazard("HAZ-001")
def test_a_failed_search_leaves_no_patient_selected(signed_in: Desk) -> None:
    open_patient(signed_in)

    type_and_find(signed_in, UNKNOWN_EXAMPLE)

    search = signed_in.window.work.search
    signed_in.wait(search.result.isVisible)
    assert search.result.text == "No patient found with NHS number 999 000 0050."
    assert no_patient_selected(signed_in) == []
    assert signed_in.window.work.empty.text() == "No patient selected."


@pytest.mark.hazard("HAZ-001")
def test_a_number_typed_wrong_closes_the_patient_and_selects_no_one(signed_in: Desk) -> None:
    open_patient(signed_in)

    type_and_find(signed_in, "9434765918")  # one digit wrong: refused before anything is asked of Spine

    assert signed_in.window.work.search.nhs_hint.text().startswith("This is not a valid NHS number")
    assert no_patient_selected(signed_in) == []


@pytest.mark.hazard("HAZ-001", "HAZ-009")
def test_spine_down_during_a_new_search_leaves_no_patient_selected(signed_in: Desk) -> None:
    open_patient(signed_in)
    signed_in.store.set_fault("http-503", scope="pds")

    type_and_find(signed_in, OTHER)

    search = signed_in.window.work.search
    signed_in.wait(search.result.isVisible)
    assert search.result.message.text()  # what went wrong, in words; the codes are behind "For the help desk"
    assert no_patient_selected(signed_in) == []
    assert signed_in.window.status.problem.text().startswith("Last problem at ")


@pytest.mark.hazard("HAZ-001")
def test_an_answer_to_an_earlier_search_is_never_shown(signed_in: Desk) -> None:
    signed_in.store.set_fault("latency", "1.5", scope="pds", times=1)
    type_and_find(signed_in, README_EXAMPLE)  # slow: still on its way...
    type_and_find(signed_in, OTHER)  # ...when the user looks for someone else

    work = signed_in.window.work
    signed_in.wait(lambda: work.banner.patient is not None)
    assert work.banner.name.text() == "PELLINGWORTH, Desmond (Mr)"
    signed_in.qtbot.wait(2_000)  # the first answer has come back by now, and was dropped
    assert work.banner.name.text() == "PELLINGWORTH, Desmond (Mr)"
    assert not [detail for detail in AMBERLOCK if detail in visible_text(work)]


@pytest.mark.hazard("HAZ-015")
def test_closing_a_change_dialog_with_choices_made_asks_first(signed_in: Desk) -> None:
    open_patient(signed_in)
    dialog = start_change(signed_in)
    dialog._how_buttons[ExpressedBy.IN_PERSON].click()
    dialog.have_instruction.click()

    signed_in.qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    question = dialog.question
    assert question is not None and question.isVisible()
    assert question.text() == "You have started a change that has not been sent to Spine. Discard it?"
    assert question.defaultButton().text() == "&Keep editing"  # Enter keeps the user's work
    question.defaultButton().click()
    signed_in.wait(lambda: dialog.question is None)
    assert dialog.isVisible() and dialog.have_instruction.isChecked()  # nothing was lost

    dialog.close()  # the window's close button asks too
    question = dialog.question
    assert question is not None
    next(b for b in question.buttons() if b.text() == "&Discard the change").click()
    signed_in.wait(lambda: not dialog.isVisible())
    assert signed_in.store.assertions(README_EXAMPLE) == {}


@pytest.mark.hazard("HAZ-007")
def test_a_lock_closes_a_half_made_change_without_asking(signed_in: Desk) -> None:
    open_patient(signed_in)
    dialog = start_change(signed_in)
    dialog.choose(ConsentChoice.OPTED_OUT, ExpressedBy.IN_PERSON, "Told me at the desk")
    signed_in.qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.question is not None

    signed_in.remove_card()

    signed_in.wait(lambda: signed_in.window.page is signed_in.window.lock)
    signed_in.wait(lambda: not [w for w in signed_in.window.work.consent.dialogs if w.isVisible()])
    assert not [detail for detail in (*AMBERLOCK, "Told me at the desk") if detail in every_text()]


@pytest.mark.hazard("HAZ-015")
def test_the_change_dialog_closes_without_a_question_before_any_choice(signed_in: Desk) -> None:
    open_patient(signed_in)
    dialog = start_change(signed_in)
    assert isinstance(dialog, ChangeConsentDialog)
    dialog.close()
    assert not dialog.isVisible() and dialog.question is None

"""Focus goes where the next keystroke belongs; what the status strip says belongs to the user signed in, and the
last problem is shown whole."""

from __future__ import annotations

import pytest

from consent_desktop.domain.consent import ConsentChoice, ExpressedBy
from consent_desktop.sandbox.patients import UNKNOWN_EXAMPLE
from consent_desktop.sandbox.users import ADMIN_NO_B0020, RECEPTIONIST
from tests.ui.conftest import Desk
from tests.ui.test_consent import open_patient, start_change

pytestmark = pytest.mark.gui


@pytest.mark.hazard("HAZ-015")
def test_the_passcode_box_has_the_focus_whenever_the_card_is_ready(desk: Desk) -> None:
    window, sign_in = desk.window, desk.window.sign_in
    assert window.focusWidget() is sign_in.pin.field  # the card was ready when the window opened
    desk.remove_card()
    desk.wait(lambda: not sign_in.pin.field.isEnabled())
    panel = sign_in.training
    assert panel is not None
    panel.cards.setFocus()  # the trainee picks a card...

    desk.insert(RECEPTIONIST.token_label)  # ...and puts it in

    desk.wait(lambda: window.focusWidget() is sign_in.pin.field)


@pytest.mark.hazard("HAZ-015")
def test_after_sign_in_and_unlock_the_nhs_number_box_then_the_passcode_box_have_the_focus(desk: Desk) -> None:
    desk.sign_in()
    window = desk.window
    assert window.focusWidget() is window.work.search.nhs

    desk.remove_card()
    desk.wait(lambda: window.page is window.lock)
    desk.insert(RECEPTIONIST.token_label)
    desk.wait(lambda: window.focusWidget() is window.lock.pin.field)
    desk.type_pin()
    desk.wait(lambda: window.page is window.work)
    assert window.focusWidget() is window.work.search.nhs


@pytest.mark.hazard("HAZ-015")
def test_each_dialog_puts_the_focus_on_its_next_step(signed_in: Desk) -> None:
    open_patient(signed_in)
    change = start_change(signed_in)
    assert change.focusWidget() is change._how_buttons[ExpressedBy.IN_PERSON]  # the first thing to answer

    change.choose(ConsentChoice.OPTED_OUT, ExpressedBy.IN_PERSON, have_instruction=False)
    change.have_instruction.click()
    assert change.focusWidget() is change.go  # everything answered: Continue is next
    change.go.click()
    check = signed_in.window.work.consent.dialogs[-1]
    assert check.focusWidget() is check.save  # type: ignore[attr-defined] # the primary button
    check.reject()
    question = check.question  # type: ignore[attr-defined]
    assert question.defaultButton().text() == "&Keep editing"
    question.defaultButton().click()
    check.wipe()  # type: ignore[attr-defined]

    signed_in.window.work.consent.history.click()
    history = signed_in.window.work.consent.history_dialog
    assert history is not None
    assert history.focusWidget() is not None and history.focusWidget().accessibleName() == "Close"
    history.reject()
    settings = signed_in.window.open_settings()
    assert settings.focusWidget() is settings.scale  # the one thing that can be changed there


@pytest.mark.hazard("HAZ-007")
def test_the_last_problem_belongs_to_its_user_and_is_shown_whole(make_desk: object) -> None:
    desk = make_desk()  # type: ignore[operator]
    desk.sign_in()
    status = desk.window.status
    desk.window.look_up(UNKNOWN_EXAMPLE)
    desk.wait(status.problem.isVisible)
    assert status.problem.text().startswith("Last problem at ")
    assert status.problem.text().endswith("No patient found with NHS number 999 000 0050.")  # all of it
    desk.window.resize(520, desk.window.height())  # a narrow window: the line wraps, it is not cut off
    desk.wait(lambda: status.problem.height() >= status.problem.heightForWidth(status.problem.width()))
    assert status.problem.wordWrap()

    desk.controller.sign_out()
    desk.wait(lambda: desk.window.page is desk.window.sign_in)
    assert not status.problem.isVisible() and status.problem.text() == ""
    desk.sign_in(ADMIN_NO_B0020.token_label)  # the next user starts with a clean strip
    assert status.problem.text() == ""
    assert status.user.text() == f"Signed in: {ADMIN_NO_B0020.name}"

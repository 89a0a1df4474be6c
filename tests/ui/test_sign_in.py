"""Signing in from the screen: the card's status, the passcode, roles, and every refusal in words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from consent_desktop.auth.session import SessionState
from consent_desktop.sandbox.users import ADMIN_NO_B0020, EXPIRED_CARD, GP, RECEPTIONIST, UNTRUSTED_CARD
from tests.ui.conftest import Desk

pytestmark = pytest.mark.gui


def test_good_passcode_opens_the_patient_screen_and_names_user_role_and_organisation(desk: Desk) -> None:
    desk.sign_in()

    status = desk.window.status
    assert status.user.text() == f"Signed in: {RECEPTIONIST.name}"
    assert status.role.text() == "Receptionist"
    assert status.organisation.text() == "Riverside Surgery (A81001)"
    assert desk.window.work.search.nhs.hasFocus()
    assert desk.window.sign_in.pin.field.text() == ""


def test_wrong_passcode_is_refused_in_words_and_the_box_is_emptied(desk: Desk) -> None:
    desk.type_pin("999999")

    page = desk.window.sign_in
    desk.wait(lambda: "Checking" not in page.message.text and page.message.text)
    assert page.message.text == "The passcode was not correct."
    assert page.pin.field.text() == ""
    assert page.pin.field.isEnabled()
    assert desk.session is SessionState.SIGNED_OUT
    assert desk.window.page is page


@pytest.mark.hazard("HAZ-005")
def test_several_roles_are_offered_and_the_chosen_one_is_worked_in(desk: Desk) -> None:
    desk.insert(GP.token_label)
    desk.type_pin()

    role_page = desk.window.role
    desk.wait(lambda: desk.window.page is role_page)
    offered = [button.text() for button in role_page.choices.buttons()]
    assert offered == [role.label for role in GP.roles]
    assert not role_page.go.isEnabled()  # no role is chosen for the user

    role_page.choices.buttons()[1].click()
    role_page.go.click()

    desk.wait(lambda: desk.window.page is desk.window.work)
    assert desk.window.status.organisation.text() == "Hillside Medical Centre (B82002)"


def test_without_a_card_the_passcode_cannot_be_typed(desk: Desk) -> None:
    desk.remove_card()

    page = desk.window.sign_in
    desk.wait(lambda: not page.pin.field.isEnabled())
    assert page.card.text.text() == "Insert your smartcard."
    assert not page.pin.button.isEnabled()


@pytest.mark.parametrize(
    ("card", "says"),
    [(EXPIRED_CARD, "expired"), (UNTRUSTED_CARD, "not")],
    ids=["expired", "untrusted"],
)
def test_a_card_the_service_cannot_accept_is_refused_with_details_for_it(desk: Desk, card: object, says: str) -> None:
    desk.insert(card.token_label)  # type: ignore[attr-defined]
    desk.type_pin()

    message = desk.window.sign_in.message
    desk.wait(message.toggle.isVisible)
    assert says in message.text.lower()
    assert not message.details.isVisible()
    message.toggle.click()
    assert message.details.isVisible()
    assert "Error:" in message.details.text()
    assert "Traceback" not in message.details.text()
    assert desk.session is SessionState.SIGNED_OUT


@pytest.mark.hazard("HAZ-005")
def test_the_user_without_b0020_signs_in_and_sees_it_in_the_status_bar(desk: Desk) -> None:
    desk.sign_in(ADMIN_NO_B0020.token_label)

    assert desk.window.status.role.text() == "Medical Secretary"


def test_one_attempt_left_is_said_and_a_locked_card_is_not_offered_another(
    make_desk: Callable[..., Desk], pinlock_shim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from consent_desktop.sandbox.softcard import softhsm_module

    state, calls = tmp_path / "pins.state", tmp_path / "pins.calls"
    monkeypatch.setenv("PINSHIM_TARGET", str(softhsm_module()))
    monkeypatch.setenv("PINSHIM_STATE", str(state))
    monkeypatch.setenv("PINSHIM_CALLS", str(calls))
    monkeypatch.setenv("PINSHIM_MAX_TRIES", "3")
    desk = make_desk(**{"auth.pkcs11_module": str(pinlock_shim)})
    page = desk.window.sign_in

    desk.type_pin("999999")
    desk.wait(lambda: "not correct" in page.message.text)
    desk.type_pin("999999")
    desk.wait(lambda: "One attempt left" in page.message.text)
    assert page.message.text == "The passcode was not correct. One attempt left before your card is locked."

    desk.type_pin("999999")
    desk.wait(lambda: "locked after too many" in page.message.text)
    assert not page.pin.field.isEnabled()
    assert not page.pin.button.isEnabled()
    assert "Registration Authority" in page.message.text
    attempts = int(calls.read_text())
    page.pin._submit()  # even a stray Enter cannot send another passcode to the card
    desk.qtbot.wait(200)
    assert int(calls.read_text()) == attempts == 3

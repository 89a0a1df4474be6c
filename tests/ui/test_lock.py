"""Card removal: every patient detail leaves every window within a second; the same card unlocks; another card
signs the first user out; a change already sent when the card left is shown after unlocking."""

from __future__ import annotations

import time

import pytest

from consent_desktop.auth.session import SessionState
from consent_desktop.domain.consent import ConsentChoice, ExpressedBy
from consent_desktop.sandbox.patients import README_EXAMPLE
from consent_desktop.sandbox.users import ADMIN_NO_B0020, GP, RECEPTIONIST
from tests.pds.conftest import requests_seen
from tests.ui.conftest import Desk
from tests.ui.screen import every_text
from tests.ui.test_consent import OPTED_OUT, OPTED_OUT_ON_SPINE, confirm_step, open_patient, save_change, start_change

pytestmark = pytest.mark.gui

# Everything that identifies the patient of README_EXAMPLE, as any widget might show it.
PATIENT_DETAILS = (
    "AMBERLOCK",
    "Amberlock",
    "Winifred",
    "943 476 5919",
    "9434765919",
    "14-Jul-1945",
    "Tallowfield",
    "Fernhallow",
    "QQ1 1AA",
    "A form she signed",
)


def leaked(text: str) -> list[str]:
    return [detail for detail in PATIENT_DETAILS if detail in text]


def lock_by_removing_the_card(desk: Desk) -> float:
    """Seconds from pulling the card until no window holds a patient detail and the lock screen is up."""
    started = time.monotonic()
    desk.remove_card()
    desk.wait(lambda: desk.window.page is desk.window.lock and not leaked(every_text()), timeout=2_000)
    return time.monotonic() - started


@pytest.mark.parametrize("open_dialog", ["none", "history", "change"])
@pytest.mark.hazard("HAZ-007")
def test_card_removal_clears_every_patient_detail_within_a_second(signed_in: Desk, open_dialog: str) -> None:
    open_patient(signed_in)
    save_change(signed_in, ExpressedBy.SIGNED_FORM, "A form she signed")
    search = signed_in.window.work.search
    signed_in.qtbot.keyClicks(search.family, "Amberlock")  # half-typed search details count too
    if open_dialog == "history":
        signed_in.window.work.consent.history.click()
        signed_in.wait(lambda: (d := signed_in.window.work.consent.history_dialog) and d.table.rowCount())
    elif open_dialog == "change":
        start_change(signed_in)
    assert leaked(every_text())  # the details really were on screen

    assert lock_by_removing_the_card(signed_in) < 1.0
    assert signed_in.session is SessionState.LOCKED
    assert signed_in.window.work.consent.dialogs == []
    assert (
        signed_in.window.lock.who.text() == f"Signed in: {RECEPTIONIST.name} \N{EM DASH} {RECEPTIONIST.roles[0].label}"
    )


@pytest.mark.hazard("HAZ-001", "HAZ-007")
def test_the_same_card_unlocks_and_the_patient_must_be_confirmed_again(signed_in: Desk) -> None:
    open_patient(signed_in)
    lock_by_removing_the_card(signed_in)

    signed_in.insert(RECEPTIONIST.token_label)
    signed_in.type_pin()

    work = signed_in.window.work
    signed_in.wait(lambda: signed_in.window.page is work and work.consent.record is not None)
    assert work.banner.name.text() == "AMBERLOCK, Winifred (Mrs)"
    assert work.banner.confirm.isEnabled()  # identity is checked again after a lock
    assert not work.consent.change.isEnabled()


@pytest.mark.hazard("HAZ-007")
def test_a_wrong_passcode_at_the_lock_screen_keeps_it_locked(signed_in: Desk) -> None:
    open_patient(signed_in)
    lock_by_removing_the_card(signed_in)
    signed_in.insert(RECEPTIONIST.token_label)

    signed_in.type_pin("999999")

    lock = signed_in.window.lock
    signed_in.wait(lambda: "not correct" in lock.message.text)
    assert signed_in.window.page is lock
    assert lock.pin.field.text() == ""
    assert not leaked(every_text())


@pytest.mark.hazard("HAZ-005", "HAZ-007")
def test_another_card_at_the_lock_screen_signs_the_first_user_out(signed_in: Desk) -> None:
    open_patient(signed_in)
    lock_by_removing_the_card(signed_in)

    signed_in.insert(GP.token_label)
    signed_in.type_pin()

    page = signed_in.window.sign_in
    signed_in.wait(lambda: signed_in.window.page is page and "different smartcard" in page.message.text)
    assert signed_in.session is SessionState.SIGNED_OUT
    assert signed_in.window.status.user.text() == "Not signed in"
    assert not leaked(every_text())

    signed_in.type_pin()  # the GP can now sign in, and starts with no patient
    signed_in.wait(lambda: signed_in.window.page is signed_in.window.role)
    signed_in.window.role.choices.buttons()[0].click()
    signed_in.window.role.go.click()
    signed_in.wait(lambda: signed_in.window.page is signed_in.window.work)
    assert signed_in.window.work.banner.patient is None
    assert not leaked(every_text())


@pytest.mark.hazard("HAZ-003", "HAZ-004", "HAZ-007")
def test_a_change_sent_before_the_card_was_pulled_is_shown_after_unlocking(signed_in: Desk) -> None:
    open_patient(signed_in)
    signed_in.store.set_fault("latency", "1.5", scope="set", times=1)
    sent_before = requests_seen(signed_in.sandbox)
    confirm_step(signed_in).save.click()
    consent = signed_in.window.work.consent
    assert consent.outcome.headline.text() == "Saving to Spine\N{HORIZONTAL ELLIPSIS}"
    assert "cannot be cancelled" in consent.outcome.message.text()
    assert not signed_in.window.work.search.find_button.isEnabled()  # no other patient while it is on its way
    signed_in.wait(lambda: requests_seen(signed_in.sandbox) > sent_before)  # the change has reached Spine

    assert lock_by_removing_the_card(signed_in) < 1.0
    assert signed_in.store.assertions(README_EXAMPLE) == OPTED_OUT_ON_SPINE  # committed; its answer is late
    signed_in.qtbot.wait(2_000)  # Spine's late answer arrives while locked: held, not shown
    assert not leaked(every_text())

    signed_in.insert(RECEPTIONIST.token_label)
    signed_in.type_pin()
    signed_in.wait(lambda: consent.outcome.headline.text().startswith("Saved on Spine at "))
    assert signed_in.window.page is signed_in.window.work
    assert consent.patient is not None and consent.patient.nhs_number.digits == README_EXAMPLE
    signed_in.wait(lambda: consent.value.text() == OPTED_OUT)
    assert signed_in.window.work.search.find_button.isEnabled()


@pytest.mark.hazard("HAZ-003", "HAZ-007")
def test_a_change_refused_because_the_card_had_gone_is_shown_after_unlocking(signed_in: Desk) -> None:
    open_patient(signed_in)
    consent = signed_in.window.work.consent
    patient, record = consent.patient, consent.record
    assert patient is not None and record is not None
    lock_by_removing_the_card(signed_in)

    # What a Save pressed a moment before the card left becomes: the request is refused before it is sent.
    signed_in.controller.change_consent(patient, record, ConsentChoice.OPTED_OUT, ExpressedBy.IN_PERSON, "")
    signed_in.qtbot.wait(300)
    assert signed_in.window.page is signed_in.window.lock
    assert not leaked(every_text())

    signed_in.insert(RECEPTIONIST.token_label)
    signed_in.type_pin()
    signed_in.wait(lambda: consent.outcome.headline.text().startswith("NOT saved"))
    assert consent.outcome.headline.text() == "NOT saved \N{EM DASH} nothing was sent to Spine"
    assert signed_in.store.assertions(README_EXAMPLE) == {}


@pytest.mark.hazard("HAZ-004")
def test_the_window_stays_open_until_a_change_in_flight_has_its_answer(signed_in: Desk) -> None:
    open_patient(signed_in)
    signed_in.store.set_fault("latency", "1.0", scope="set", times=1)
    confirm_step(signed_in).save.click()

    signed_in.window.close()

    assert signed_in.window.isVisible()
    assert "Wait for the result before closing" in signed_in.window.work.notice.text
    consent = signed_in.window.work.consent
    signed_in.wait(lambda: consent.outcome.headline.text().startswith("Saved on Spine"))
    signed_in.window.close()
    assert not signed_in.window.isVisible()


@pytest.mark.hazard("HAZ-004")
def test_the_window_can_close_after_a_save_that_went_wrong_inside_the_app(
    signed_in: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_patient(signed_in)

    def bug(*_args: object) -> None:
        raise RuntimeError("a programming error")

    monkeypatch.setattr(signed_in.controller.workstation, "change_consent", bug)
    confirm_step(signed_in).save.click()
    consent = signed_in.window.work.consent
    signed_in.wait(lambda: consent.outcome.headline.text().startswith("Could not confirm"))
    signed_in.window.close()
    assert not signed_in.window.isVisible()


@pytest.mark.hazard("HAZ-004", "HAZ-007", "HAZ-008")
def test_a_change_the_user_signed_out_before_it_finished_is_shown_to_them_only(signed_in: Desk) -> None:
    open_patient(signed_in)
    signed_in.store.set_fault("latency", "1.0", scope="set", times=1)
    sent_before = requests_seen(signed_in.sandbox)
    confirm_step(signed_in).save.click()
    signed_in.wait(lambda: requests_seen(signed_in.sandbox) > sent_before)

    signed_in.controller.sign_out()
    signed_in.wait(lambda: signed_in.window.page is signed_in.window.sign_in)
    signed_in.qtbot.wait(1_500)  # the answer arrives after the sign-out
    signed_in.remove_card()
    signed_in.sign_in(ADMIN_NO_B0020.token_label)  # the next user
    signed_in.qtbot.wait(300)

    assert signed_in.store.assertions(README_EXAMPLE) == OPTED_OUT_ON_SPINE  # it was made, and is in the audit...
    assert not leaked(every_text())  # ...but the next user is not shown another user's patient
    assert not signed_in.window.work.notice.isVisible()

    signed_in.controller.sign_out()
    signed_in.wait(lambda: signed_in.window.page is signed_in.window.sign_in)
    signed_in.remove_card()
    signed_in.sign_in(RECEPTIONIST.token_label)  # the user who made it is back: they are told its outcome
    notice = signed_in.window.work.notice
    signed_in.wait(lambda: notice.isVisible() and "Saved on Spine at " in notice.text)
    assert "943 476 5919" in notice.text

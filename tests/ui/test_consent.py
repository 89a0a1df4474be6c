"""The consent panel: Spine's value in plain English, changing it through two dialogs, and the honest result —
including every way a change can fail — as the user sees it and as Spine then holds it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from consent_desktop.domain.consent import ConsentChoice, ExpressedBy
from consent_desktop.sandbox.patients import DECEASED_EXAMPLE, README_EXAMPLE, RESTRICTED_EXAMPLE
from consent_desktop.sandbox.users import ADMIN_NO_B0020, RECEPTIONIST
from consent_desktop.ui.change_dialogs import ChangeConsentDialog, ConfirmChangeDialog
from consent_desktop.ui.history_dialog import HistoryDialog
from consent_desktop.ui.slip import slip_for, slip_html
from tests.ui.conftest import Desk
from tests.ui.screen import every_text, visible_text

pytestmark = pytest.mark.gui

OPTED_OUT = "Opted out \N{EM DASH} their Summary Care Record is not shared"
ASK = "Sharing \N{EM DASH} no opt-out recorded (the default)"
OPTED_OUT_ON_SPINE = {"Store": "No", "View": "No"}


def open_patient(desk: Desk, nhs_number: str = README_EXAMPLE, *, confirm: bool = True) -> None:
    desk.look_up(nhs_number)
    if confirm:
        desk.window.work.banner.confirm.click()


def start_change(desk: Desk) -> ChangeConsentDialog:
    consent = desk.window.work.consent
    assert consent.change.isEnabled(), consent.change_reason.text()
    consent.change.click()
    dialog = consent.dialogs[-1]
    assert isinstance(dialog, ChangeConsentDialog)
    return dialog


def confirm_step(desk: Desk, expressed: ExpressedBy = ExpressedBy.IN_PERSON, note: str = "") -> ConfirmChangeDialog:
    first = start_change(desk)
    choice = next(c for c in ConsentChoice if first._choice_buttons[c].isEnabled())
    first.choose(choice, expressed, note)
    first.go.click()
    dialog = desk.window.work.consent.dialogs[-1]
    assert isinstance(dialog, ConfirmChangeDialog)
    return dialog


def save_change(desk: Desk, expressed: ExpressedBy = ExpressedBy.IN_PERSON, note: str = "") -> str:
    """Through both dialogs to Save; returns the result's headline once it is on screen."""
    confirm_step(desk, expressed, note).save.click()
    outcome = desk.window.work.consent.outcome
    desk.wait(lambda: outcome.headline.text() and "Saving" not in outcome.headline.text(), timeout=15_000)
    return outcome.headline.text()


@pytest.mark.hazard("HAZ-002", "HAZ-011", "HAZ-015")
def test_spine_value_is_shown_in_plain_english_with_when_it_was_read(signed_in: Desk) -> None:
    open_patient(signed_in, "9990000018", confirm=False)
    consent = signed_in.window.work.consent
    assert consent.value.text() == OPTED_OUT
    read_at = consent.current.read_at.text()
    assert re.fullmatch(r"Read from Spine at \d\d:\d\d (GMT|BST) on \d\d-[A-Z][a-z]{2}-\d{4}\.", read_at)

    open_patient(signed_in, "9990000026", confirm=False)
    assert consent.value.text() == ASK
    assert "older yes to sharing, which counts the same as no opt-out" in consent.current.notes.text()
    assert "View = Yes" in consent.current.help_desk.details.text()  # Spine's own value: for the help desk only
    assert "Yes" not in consent.current.notes.text()
    assert "recorded in the practice's GP system, not on Spine" in consent.gp_note.text()


@pytest.mark.hazard("HAZ-001")
def test_change_waits_for_the_right_patient_step(signed_in: Desk) -> None:
    open_patient(signed_in, confirm=False)
    consent = signed_in.window.work.consent

    assert not consent.change.isEnabled()
    assert consent.change_reason.text() == "Confirm this is the right patient before changing their choice."
    signed_in.qtbot.keyClick(signed_in.window.work.banner.confirm, Qt.Key.Key_Space)
    assert consent.change.isEnabled()
    assert not consent.change_reason.isVisible()


@pytest.mark.hazard("HAZ-001", "HAZ-004", "HAZ-015")
def test_a_change_is_restated_then_saved_and_shown_as_spine_now_holds_it(signed_in: Desk) -> None:
    open_patient(signed_in)
    first = start_change(signed_in)
    assert "AMBERLOCK, Winifred (Mrs)" in visible_text(first)
    assert first._choice_buttons[ConsentChoice.OPTED_OUT].isChecked()
    assert not first._choice_buttons[ConsentChoice.ASK_PERMISSION].isEnabled()  # already the value on Spine
    assert not first.go.isEnabled()
    assert first.hint.text() == "Choose how you got the patient's instruction."

    first._how_buttons[ExpressedBy.SIGNED_FORM].click()
    assert not first.go.isEnabled()  # the user must still say they have the instruction in person or in writing
    assert first.hint.text() == "Confirm you have the patient's instruction in person or in writing."
    first.have_instruction.click()
    first.note.setPlainText("Form at reception")
    first.go.click()
    confirm = signed_in.window.work.consent.dialogs[-1]
    assert isinstance(confirm, ConfirmChangeDialog)
    restated = visible_text(confirm)
    for expected in ("AMBERLOCK, Winifred (Mrs)", "943 476 5919", "14-Jul-1945", OPTED_OUT, "on a signed form"):
        assert expected in restated
    assert "Once sent, a change cannot be cancelled." in restated
    assert signed_in.store.assertions(README_EXAMPLE) == {}  # nothing sent yet

    confirm.save.click()
    consent = signed_in.window.work.consent
    signed_in.wait(lambda: consent.result is not None)
    assert consent.outcome.headline.text().startswith("Saved on Spine at ")
    assert f"Spine now holds: {OPTED_OUT}." in consent.outcome.message.text()
    assert consent.value.text() == OPTED_OUT
    assert signed_in.store.assertions(README_EXAMPLE) == OPTED_OUT_ON_SPINE


@pytest.mark.hazard("HAZ-015")
def test_cancelling_either_dialog_sends_nothing(signed_in: Desk) -> None:
    open_patient(signed_in)
    first = start_change(signed_in)
    signed_in.qtbot.keyClick(first, Qt.Key.Key_Escape)  # nothing chosen yet: it closes at once
    assert not first.isVisible()

    confirm = confirm_step(signed_in)
    signed_in.qtbot.keyClick(confirm, Qt.Key.Key_Escape)
    question = confirm.question
    assert question is not None and question.isVisible()
    next(b for b in question.buttons() if b.text() == "&Discard the change").click()
    signed_in.wait(lambda: not confirm.isVisible())
    signed_in.qtbot.wait(200)
    assert signed_in.store.assertions(README_EXAMPLE) == {}
    assert not signed_in.window.work.consent.outcome.isVisible()


@pytest.mark.hazard("HAZ-005")
def test_a_role_without_b0020_sees_why_change_is_not_offered(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    desk.sign_in(ADMIN_NO_B0020.token_label)
    open_patient(desk)

    consent = desk.window.work.consent
    assert not consent.change.isEnabled()
    assert consent.change_reason.text().startswith(
        "Your role (Medical Secretary) cannot change a patient's Summary Care Record choice."
    )
    assert "B0020" not in consent.change_reason.text()  # the code is for the help desk...
    assert 'B0020 "Record SCR consent preference"' in consent.reason_details.details.text()  # ...and there it is
    assert consent.value.text() == ASK  # viewing is still allowed


@pytest.mark.hazard("HAZ-006")
def test_a_deceased_patient_is_shown_as_such_and_change_is_blocked(signed_in: Desk) -> None:
    open_patient(signed_in, DECEASED_EXAMPLE)

    banner, consent = signed_in.window.work.banner, signed_in.window.work.consent
    assert banner.deceased.isVisible() and banner.deceased.text() == "Deceased"
    assert banner.values["Died"].text() == "03-Mar-2024"
    assert not consent.change.isEnabled()
    assert consent.change_reason.text() == "This patient has died (03-Mar-2024). Consent changes are blocked."


@pytest.mark.hazard("HAZ-006", "HAZ-008")
def test_a_restricted_patient_has_no_address_or_practice_anywhere_in_the_window(signed_in: Desk) -> None:
    open_patient(signed_in, RESTRICTED_EXAMPLE)
    headline = save_change(signed_in)
    assert headline.startswith("Saved on Spine")

    everything = every_text()
    assert "THISTLEQUINE, Imogen (Ms)" in everything  # the patient is on screen...
    for location in ("Nettlequarry", "QQ2 5HJ", "Ebbingford", "B82002", "Hillside"):  # ...where they live is not
        assert location not in everything
    banner = signed_in.window.work.banner
    assert banner.values["Address"].text() == "Not shown (restricted record)"
    assert banner.values["GP practice"].text() == "Not shown (restricted record)"
    assert "Restricted record: this patient's address" in visible_text(banner)
    consent = signed_in.window.work.consent
    assert consent.patient is not None and consent.result is not None and consent.user is not None
    slip = slip_html(slip_for(consent.patient, consent.result, consent.user))
    assert "THISTLEQUINE" in slip and "Nettlequarry" not in slip and "QQ2" not in slip


@pytest.mark.hazard("HAZ-003", "HAZ-009", "HAZ-016")
def test_a_load_balancers_503_after_sending_is_could_not_confirm_never_not_saved(signed_in: Desk) -> None:
    """The request was sent: only Spine can say whether it stored it. Read back, it shows the old value — which
    Spine may still change — so the user is told to check again, not that nothing changed."""
    open_patient(signed_in)
    signed_in.store.set_fault("http-503", scope="set")

    headline = save_change(signed_in)

    assert headline.startswith("Could not confirm whether the change was saved \N{EM DASH} ")
    assert headline.endswith("check again")
    assert signed_in.window.work.consent.value.text() == ASK  # what Spine showed when read straight after
    assert signed_in.store.assertions(README_EXAMPLE) == {}
    assert not signed_in.window.work.consent.slip.isEnabled()


@pytest.mark.hazard("HAZ-003", "HAZ-009")
def test_spine_saying_it_did_not_process_the_change_means_not_saved(signed_in: Desk) -> None:
    open_patient(signed_in)
    signed_in.store.set_fault("soap-fault-206", scope="set")

    headline = save_change(signed_in)

    assert headline.startswith("NOT saved \N{EM DASH} ")
    assert "(Spine code 206)" in headline
    assert headline.endswith("nothing changed")
    assert signed_in.store.assertions(README_EXAMPLE) == {}


@pytest.mark.hazard("HAZ-003")
def test_spine_rejecting_the_change_with_35160_means_not_saved(signed_in: Desk) -> None:
    open_patient(signed_in)
    signed_in.store.set_fault("reject-35160", scope="set")

    headline = save_change(signed_in)

    assert headline.startswith("NOT saved \N{EM DASH} ")
    assert signed_in.store.assertions(README_EXAMPLE) == {}
    assert signed_in.window.work.consent.value.text() == ASK


@pytest.mark.hazard("HAZ-003", "HAZ-004")
def test_no_answer_in_time_shows_what_spine_holds_when_read_back(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(**{"spine.read_timeout": 1.0})
    desk.sign_in()
    open_patient(desk)
    desk.store.set_fault("latency", "2.5", scope="set", times=1)  # Spine commits, then answers too late

    headline = save_change(desk)

    assert desk.store.assertions(README_EXAMPLE) == OPTED_OUT_ON_SPINE
    consent = desk.window.work.consent
    assert headline.startswith("Saved on Spine")  # the value read back is the evidence, and it is shown
    assert "checked by reading the value back from Spine" in consent.outcome.message.text()
    assert consent.value.text() == OPTED_OUT


@pytest.mark.hazard("HAZ-002", "HAZ-003", "HAZ-004")
def test_could_not_confirm_hides_the_old_value_until_check_again_reads_the_truth(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(**{"spine.read_timeout": 1.0})
    desk.sign_in()
    open_patient(desk)
    desk.store.set_fault("latency", "2.5", scope="set", times=1)
    desk.store.set_fault("http-503", scope="get")  # and Spine cannot be read back

    headline = save_change(desk)

    consent = desk.window.work.consent
    assert headline.startswith("Could not confirm whether the change was saved")
    assert headline.endswith("check again")
    assert consent.value.text().startswith("Not known")
    assert not consent.change.isEnabled()
    assert "Do not tell the patient" in consent.outcome.message.text()
    assert consent.check_again.isEnabled()

    desk.store.clear_faults()
    consent.check_again.click()
    desk.wait(lambda: consent.record is not None)
    assert consent.value.text() == OPTED_OUT  # what Spine really holds
    assert desk.store.assertions(README_EXAMPLE) == OPTED_OUT_ON_SPINE
    assert consent.change.isEnabled()


@pytest.mark.hazard("HAZ-003", "HAZ-004", "HAZ-016")
def test_a_change_spine_applies_late_turns_from_could_not_confirm_to_saved_on_screen(
    make_desk: Callable[..., Desk],
) -> None:
    """Spine holds the change past the deadline and applies it after the app read it back: "could not confirm",
    then — read again by the app while the patient is open — "saved", in the same place."""
    desk = make_desk(**{"spine.read_timeout": 5.0, "spine.change_deadline": 1.5})
    desk.sign_in()
    open_patient(desk)
    desk.store.set_fault("late-commit", "0.5", scope="set", times=1)

    headline = save_change(desk)

    consent = desk.window.work.consent
    assert headline.startswith("Could not confirm whether the change was saved"), headline
    assert desk.store.assertions(README_EXAMPLE) == {}  # Spine has not applied it yet
    desk.wait(lambda: consent.outcome.headline.text().startswith("Saved on Spine at "), timeout=15_000)
    assert consent.value.text() == OPTED_OUT
    assert desk.store.assertions(README_EXAMPLE) == OPTED_OUT_ON_SPINE


@pytest.mark.hazard("HAZ-002")
def test_check_again_shows_a_change_made_elsewhere(signed_in: Desk) -> None:
    open_patient(signed_in)
    signed_in.store.apply(
        README_EXAMPLE,
        {"View": "No", "Store": "No"},
        {"user": "555000000009", "role_profile": "1", "job_role": "R1", "asid": "1", "message_id": "m"},
    )

    consent = signed_in.window.work.consent
    consent.check_again.click()
    signed_in.wait(lambda: consent.value.text() == OPTED_OUT)


@pytest.mark.hazard("HAZ-015")
def test_history_lists_the_change_made_here(signed_in: Desk) -> None:
    open_patient(signed_in)
    save_change(signed_in, ExpressedBy.SIGNED_FORM, "Form at reception")

    consent = signed_in.window.work.consent
    consent.history.click()
    dialog = consent.history_dialog
    assert isinstance(dialog, HistoryDialog)
    signed_in.wait(lambda: dialog.table.rowCount() == 1)
    row = [dialog.table.item(0, column).text() for column in range(dialog.table.columnCount())]
    assert row[1:] == [
        RECEPTIONIST.name,
        "Receptionist, A81001",
        "Sharing \N{RIGHTWARDS ARROW} Opted out",
        "In writing, on a signed form",
        "Saved",
        "Form at reception",
    ]


@pytest.mark.hazard("HAZ-008")
def test_the_confirmation_slip_is_saved_as_a_pdf_for_the_patient(signed_in: Desk, tmp_path: Path) -> None:
    open_patient(signed_in)
    consent = signed_in.window.work.consent
    assert not consent.slip.isEnabled()  # nothing to confirm yet
    save_change(signed_in)
    assert consent.slip.isEnabled()

    target = tmp_path / "slip.pdf"
    consent.save_slip_to(target)
    signed_in.wait(lambda: consent.slip_saved.text.startswith("Saved as slip.pdf"))
    assert target.read_bytes().startswith(b"%PDF-")
    assert consent.patient is not None and consent.result is not None and consent.user is not None
    text = slip_html(slip_for(consent.patient, consent.result, consent.user))
    for expected in (
        "AMBERLOCK, Winifred (Mrs)",
        "943 476 5919",
        "14 July 1945",
        "Opted out of sharing your Summary Care Record",
        "Riverside Surgery (A81001)",
        "Refused consent for upload to national shared electronic record (SNOMED CT 416308001)",
    ):
        assert expected in text
    assert "Tallowfield" not in text  # never an address, for anyone


def test_a_slip_that_cannot_be_written_says_so(signed_in: Desk, tmp_path: Path) -> None:
    open_patient(signed_in)
    save_change(signed_in)
    consent = signed_in.window.work.consent
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")

    consent.save_slip_to(blocked / "slip.pdf")

    signed_in.wait(consent.slip_saved.headline.text)
    assert consent.slip_saved.headline.text() == "The confirmation slip was not saved"
    assert "could not be saved" in consent.slip_saved.message.text()
    assert str(blocked) not in consent.slip_saved.details.text()

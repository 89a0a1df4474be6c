"""The words of the desk: three states that differ in icon, colour and words; no codes or internal terms except
behind "For the help desk"; the NHS service manual's content style; the practice the patient is registered with;
the instruction in person or in writing; and what to record in the practice's GP system after a change."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from consent_desktop import ui
from consent_desktop.domain.consent import ConsentChoice, ExpressedBy
from consent_desktop.sandbox.patients import README_EXAMPLE
from consent_desktop.ui.consent_panel import ConsentPanel
from tests.ui.conftest import Desk
from tests.ui.screen import visible_text
from tests.ui.test_consent import ASK, OPTED_OUT, open_patient, save_change, start_change

pytestmark = pytest.mark.gui

OPTED_OUT_PATIENT, OLD_YES_PATIENT, HILLSIDE_PATIENT = "9990000018", "9990000026", "9990000034"
NOT_KNOWN = "Not known \N{EM DASH} use Check again to read what Spine holds now"
# Words of Spine, PDS, RBAC and the GP systems' coding that a receptionist should never have to read.
JARGON = re.compile(
    r"dissent|express(ed)? consent|\bACS\b|Access Control|\bB0020\b|\bRBAC\b|assertion|\bPDS\b|\bODS\b|ASID|"
    r"No preference recorded|\bClear\b|permission=|View =|Store =|Details for IT|\bIT team\b",
    re.IGNORECASE,
)
# Capitals the service manual allows: well-known abbreviations, time zones, the one emphasised NOT of a change
# that was not saved (the wording every user is trained on), and the SNOMED CT name for the GP system entry.
ALLOWED_CAPITALS = {"NHS", "GP", "GMT", "BST", "PDF", "SNOMED", "CT", "NOT", "CIS", "CIS2", "OK"}


def state_of(consent: ConsentPanel) -> tuple[str, str, str]:
    """What says the state: its icon, its style (colour and border) and its words."""
    current = consent.current
    return str(current.icon.property("iconName")), str(current.property("state")), current.headline.text()


def style_problems(text: str) -> list[str]:
    """Content style: no block capitals, no "don't" or "can't", no ampersands, straight apostrophes."""
    plain = text.replace("&&", "").replace("&", "")  # mnemonics are not text
    found = [word for word in re.findall(r"\b[A-Z]{2,}[0-9]*\b", plain) if word not in ALLOWED_CAPITALS]
    found += re.findall(r"\b(?:don't|can't|won't|doesn't|isn't)\b", plain, re.IGNORECASE)
    found += [ch for ch in "\N{RIGHT SINGLE QUOTATION MARK}\N{LEFT SINGLE QUOTATION MARK}" if ch in plain]
    return found


def desk_text(root: QWidget) -> str:
    """What the user reads under ``root``, leaving out codes that are part of the record itself (NHS numbers,
    practice codes, the SNOMED CT concept id) and user names."""
    text = visible_text(root)
    text = re.sub(r"\b[A-Z][A-Z'-]+(?: [A-Z][A-Z'-]+)*, ", "", text)  # FAMILY, Given: the CUI name form
    text = re.sub(r"\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\b", "", text)  # postcodes
    return re.sub(r"\b[A-Z]\d{5}\b|\b\d{3} \d{3} \d{4}\b|\b\d{6,}\b", "", text)


@pytest.mark.hazard("HAZ-002")
def test_the_three_states_differ_in_icon_colour_and_words(signed_in: Desk) -> None:
    consent = signed_in.window.work.consent
    open_patient(signed_in, OPTED_OUT_PATIENT, confirm=False)
    opted_out = state_of(consent)
    open_patient(signed_in, README_EXAMPLE, confirm=False)
    sharing = state_of(consent)
    signed_in.store.set_fault("http-503", scope="get")  # Spine's value cannot be read
    open_patient(signed_in, OLD_YES_PATIENT, confirm=False)
    not_known = state_of(consent)

    assert opted_out == ("opted-out", "opted-out", OPTED_OUT)
    assert sharing == ("sharing", "sharing", ASK)
    assert not_known == ("not-known", "not-known", NOT_KNOWN)
    for part in range(3):  # each of icon, colour and words tells the three apart on its own
        assert len({opted_out[part], sharing[part], not_known[part]}) == 3


@pytest.mark.hazard("HAZ-002")
def test_the_stored_value_is_for_the_help_desk_only(signed_in: Desk) -> None:
    open_patient(signed_in, OLD_YES_PATIENT, confirm=False)
    consent = signed_in.window.work.consent

    assert consent.value.text() == ASK
    assert consent.current.notes.text() == "Spine holds an older yes to sharing, which counts the same as no opt-out."
    assert consent.current.help_desk.toggle.text() == "For the help desk"
    assert not consent.current.help_desk.details.isVisible()
    consent.current.help_desk.toggle.click()
    assert consent.current.help_desk.details.text() == "Spine (Access Control Service) holds: View = Yes."


@pytest.mark.hazard("HAZ-002", "HAZ-015")
def test_no_screen_of_the_main_task_shows_jargon_or_breaks_the_content_style(signed_in: Desk) -> None:
    window = signed_in.window
    seen: list[str] = [desk_text(window)]
    open_patient(signed_in, confirm=False)
    seen.append(desk_text(window))
    window.work.banner.confirm.click()
    first = start_change(signed_in)
    seen.append(desk_text(first))
    first.choose(ConsentChoice.OPTED_OUT, ExpressedBy.IN_PERSON)
    first.go.click()
    confirm = window.work.consent.dialogs[-1]
    seen.append(desk_text(confirm))
    confirm.save.click()  # type: ignore[attr-defined]
    signed_in.wait(lambda: window.work.consent.result is not None)
    seen.append(desk_text(window))
    open_patient(signed_in, HILLSIDE_PATIENT, confirm=False)  # another practice, and Spine's two parts disagree
    seen.append(desk_text(window))
    signed_in.window.look_up("9990000050")  # not found
    signed_in.wait(window.work.search.result.isVisible)
    seen.append(desk_text(window))
    search = window.work.search
    search.family.setText("Hollowquay")
    search.gender.setCurrentIndex(search.gender.findData("Female"))
    search.birth.setText("30-Sep-2019")
    search.search()  # twins: more than one match
    signed_in.wait(lambda: "More than one" in search.result.text)
    seen.append(desk_text(window))

    for screen in seen:
        assert not JARGON.findall(screen), JARGON.findall(screen)
        assert style_problems(screen) == []


@pytest.mark.hazard("HAZ-002")
def test_a_patient_who_opted_back_in_is_shown_truthfully(signed_in: Desk) -> None:
    open_patient(signed_in, OPTED_OUT_PATIENT)

    headline = save_change(signed_in)

    consent = signed_in.window.work.consent
    assert headline.startswith("Saved on Spine at ")
    assert consent.value.text() == ASK  # Spine holds no opt-out: the same as for anyone who never opted out...
    assert consent.opted_back_in.isVisible()  # ...and the screen says what just happened
    assert consent.opted_back_in.text().startswith("Opted back in at ")
    assert "their opt-out was removed from Spine" in consent.opted_back_in.text()
    assert "417370002" in consent.gp_record.entry.text()
    assert signed_in.store.assertions(OPTED_OUT_PATIENT) == {}

    open_patient(signed_in, README_EXAMPLE, confirm=False)  # another patient: nothing carries over
    assert not consent.opted_back_in.isVisible()


@pytest.mark.hazard("HAZ-021")
def test_after_saving_the_gp_system_entry_is_shown_and_copied(signed_in: Desk) -> None:
    open_patient(signed_in)
    consent = signed_in.window.work.consent
    assert not consent.gp_record.isVisible()  # nothing to record before a change is saved

    save_change(signed_in)

    assert consent.gp_record.isVisible()
    assert consent.gp_record.heading.text() == "Now record this in the practice's GP system"
    assert consent.gp_record.entry.text() == (
        "Refused consent for upload to national shared electronic record (SNOMED CT 416308001)"
    )
    assert not consent.gp_record.elsewhere.isVisible()  # the patient is this practice's own
    QGuiApplication.clipboard().clear()
    consent.gp_record.copy.click()
    copied = QGuiApplication.clipboard().text()
    assert copied == "416308001 |Refused consent for upload to national shared electronic record|"
    assert consent.gp_record.copied.text() == "Copied. Paste it into the GP system."


@pytest.mark.hazard("HAZ-021")
def test_a_change_that_was_not_saved_asks_for_no_gp_system_entry(signed_in: Desk) -> None:
    open_patient(signed_in)
    signed_in.store.set_fault("reject-35160", scope="set")

    assert save_change(signed_in).startswith("NOT saved")

    assert not signed_in.window.work.consent.gp_record.isVisible()


@pytest.mark.hazard("HAZ-001", "HAZ-021")
def test_the_banner_says_when_the_patient_is_registered_with_another_practice(signed_in: Desk) -> None:
    open_patient(signed_in, README_EXAMPLE, confirm=False)
    banner = signed_in.window.work.banner
    assert banner.values["GP practice"].text() == "Riverside Surgery (A81001) \N{EM DASH} this practice"
    assert banner.notice_texts == []

    open_patient(signed_in, HILLSIDE_PATIENT)

    assert banner.values["GP practice"].text() == "Another practice (practice code B82002)"
    assert banner.notice_texts == [
        "Registered with another GP practice (practice code B82002), not with Riverside Surgery. Check this is the "
        "right patient. Their own practice keeps the record of their choice in its GP system."
    ]
    consent = signed_in.window.work.consent
    save_change(signed_in)
    assert consent.gp_record.elsewhere.isVisible()
    assert "registered with another practice (practice code B82002)" in consent.gp_record.elsewhere.text()


def test_the_workstation_practice_counts_as_ours(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(**{"auth.ods_code": "B82002"})  # a Riverside receptionist at a Hillside workstation
    desk.sign_in()
    open_patient(desk, HILLSIDE_PATIENT, confirm=False)

    assert desk.window.work.banner.values["GP practice"].text() == "This practice (B82002)"
    assert desk.window.work.banner.notice_texts == []


@pytest.mark.hazard("HAZ-015")
def test_the_change_needs_the_instruction_in_person_or_in_writing(signed_in: Desk) -> None:
    open_patient(signed_in)
    dialog = start_change(signed_in)

    offered = [button.text() for button in dialog._how_buttons.values()]
    assert offered == ["In person", "In writing, on a signed form", "Through a representative, in person or in writing"]
    dialog._how_buttons[ExpressedBy.IN_PERSON].click()
    assert not dialog.go.isEnabled()
    assert dialog.hint.text() == "Confirm you have the patient's instruction in person or in writing."
    assert dialog.have_instruction.text().replace("&", "") == "I have this instruction in person or in writing"
    dialog.have_instruction.click()
    assert dialog.go.isEnabled()
    dialog.have_instruction.click()
    assert not dialog.go.isEnabled()  # un-ticking takes Continue away again


def test_every_widget_text_comes_from_the_wording_module() -> None:
    """A widget module that spells out its own sentences would slip past review and translation."""
    folder = Path(ui.__file__).parent
    found = []
    for module in sorted(folder.glob("*.py")):
        if module.name == "wording.py":
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        documentation = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        logged = {id(arg) for node in ast.walk(tree) if _is_log_call(node) for arg in node.args}  # type: ignore[attr-defined]
        skipped = documentation | logged
        found += [
            f"{module.name}:{node.lineno}: {node.value}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped
            and re.match(r"[A-Z][a-z]+(?: \S+){3,}", node.value)  # a sentence: a capital, then words
        ]
    assert found == []


def _is_log_call(node: ast.AST) -> bool:
    """``log.info(...)`` and the like: the diagnostic log is for IT, not for the screen."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "log"
    )


@pytest.mark.hazard("HAZ-021")
def test_the_gp_system_entry_waits_until_spine_confirms_a_late_change(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(**{"spine.read_timeout": 5.0, "spine.change_deadline": 1.5})
    desk.sign_in()
    open_patient(desk)
    desk.store.set_fault("late-commit", "0.5", scope="set", times=1)  # Spine applies it after the app read back

    assert save_change(desk).startswith("Could not confirm")

    consent = desk.window.work.consent
    assert not consent.gp_record.isVisible()  # not known to be saved: nothing to record yet
    desk.wait(lambda: consent.outcome.headline.text().startswith("Saved on Spine at "), timeout=15_000)
    assert consent.gp_record.isVisible()
    assert "416308001" in consent.gp_record.entry.text()

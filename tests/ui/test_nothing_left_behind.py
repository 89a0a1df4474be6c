"""Nothing of one session survives it: no typed text to undo back into any box after a lock or sign-out, the
passcode handed over once and zeroed, the history dialog only ever the current patient's, and an audit edited by
hand reported at the next start."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QTextEdit

from consent_desktop.audit import PatientHistory
from consent_desktop.auth.session import SessionState
from consent_desktop.domain.consent import ExpressedBy
from consent_desktop.sandbox.patients import README_EXAMPLE
from consent_desktop.sandbox.users import GP, RECEPTIONIST, TRAINING_PIN
from consent_desktop.ui.history_dialog import HistoryDialog
from consent_desktop.ui.pin_entry import PinEntry
from tests.ui.conftest import Desk
from tests.ui.screen import every_text, visible_text
from tests.ui.test_consent import open_patient, save_change, start_change
from tests.ui.test_lock import leaked, lock_by_removing_the_card

pytestmark = pytest.mark.gui

TextBox = QLineEdit | QPlainTextEdit | QTextEdit
UNDO_KEYS = (
    (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier),
    (Qt.Key.Key_Backspace, Qt.KeyboardModifier.AltModifier),
)
REDO_KEYS = (
    (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier),
    (Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier),
)


def text_boxes() -> list[TextBox]:
    """Every text box in every window of the application, shown or not."""
    boxes: list[TextBox] = []
    for window in QApplication.topLevelWidgets():
        boxes += window.findChildren(QLineEdit) + window.findChildren(QPlainTextEdit) + window.findChildren(QTextEdit)
    return boxes


def text_of(box: TextBox) -> str:
    return box.text() if isinstance(box, QLineEdit) else box.toPlainText()


def type_everywhere(desk: Desk) -> None:
    """A patient found by typing their number, their details half-typed into the search, a note typed for a change:
    each box then has an undo history."""
    open_patient(desk)
    search = desk.window.work.search
    for box, text in (
        (search.family, "Amberlock"),
        (search.given, "Winifred"),
        (search.birth, "14-Jul-1945"),
        (search.postcode, "QQ1 1AA"),
    ):
        desk.qtbot.keyClicks(box, text)
    desk.qtbot.keyClicks(start_change(desk).note, "A form she signed")
    assert leaked("\n".join(text_of(box) for box in text_boxes()))  # the details really were typed


def undo_everywhere(desk: Desk) -> list[str]:
    """Ctrl+Z (and Alt+Backspace), Undo from the box's own context menu, then redo, in every text box: whatever
    text came back."""
    back = []
    for box in text_boxes():
        assert not box.isUndoAvailable() if isinstance(box, QLineEdit) else not box.document().isUndoAvailable()
        for key, modifiers in UNDO_KEYS:
            desk.qtbot.keyClick(box, key, modifiers)
        menu = box.createStandardContextMenu()
        for action in menu.actions():
            if action.text().replace("&", "").startswith(("Undo", "Redo")):
                assert not action.isEnabled(), f"{action.text()} offered in {box.accessibleName() or box}"
                action.trigger()
        menu.deleteLater()
        for key, modifiers in REDO_KEYS:
            desk.qtbot.keyClick(box, key, modifiers)
        if text_of(box):
            back.append(f"{box.accessibleName() or type(box).__name__}: {text_of(box)}")
    return back


@pytest.mark.hazard("HAZ-007")
def test_undo_brings_nothing_back_after_a_lock_or_a_sign_out(signed_in: Desk) -> None:
    type_everywhere(signed_in)
    lock_by_removing_the_card(signed_in)
    assert undo_everywhere(signed_in) == []
    assert not leaked(every_text())

    signed_in.insert(RECEPTIONIST.token_label)
    signed_in.type_pin()
    signed_in.wait(lambda: signed_in.window.page is signed_in.window.work)
    type_everywhere(signed_in)
    signed_in.window.work.consent.clear()  # the change dialog closed, as Cancel would
    signed_in.controller.sign_out()
    signed_in.wait(lambda: signed_in.window.page is signed_in.window.sign_in)
    assert undo_everywhere(signed_in) == []

    signed_in.insert(GP.token_label)  # the next user, on the patient screen
    signed_in.type_pin()
    signed_in.wait(lambda: signed_in.window.page is signed_in.window.role)
    signed_in.window.role.choices.buttons()[0].click()
    signed_in.window.role.go.click()
    signed_in.wait(lambda: signed_in.window.page is signed_in.window.work)
    assert undo_everywhere(signed_in) == []
    assert not leaked(every_text())


def handed_over(entry: PinEntry) -> list[bytearray]:
    """The bytearrays a passcode box hands to the app: the very objects the app received."""
    handed: list[bytearray] = []
    entry.submitted.connect(handed.append)
    return handed


@pytest.mark.hazard("HAZ-020")
def test_the_passcode_is_handed_over_once_then_zeroed_and_its_box_forgets_it(desk: Desk) -> None:
    at_sign_in = handed_over(desk.window.sign_in.pin)
    desk.sign_in()
    at_unlock = handed_over(desk.window.lock.pin)
    lock_by_removing_the_card(desk)
    desk.insert(RECEPTIONIST.token_label)
    desk.type_pin()
    desk.wait(lambda: desk.session is SessionState.ACTIVE)

    assert [bytes(pin) for pin in at_sign_in + at_unlock] == [bytes(len(TRAINING_PIN))] * 2  # zeroed once used
    for box in (desk.window.sign_in.pin.field, desk.window.lock.pin.field):
        assert box.text() == "" and not box.isUndoAvailable() and not box.isModified()
        desk.qtbot.keyClick(box, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert box.text() == ""


@pytest.mark.hazard("HAZ-001")
def test_a_late_history_answer_about_the_previous_patient_is_not_shown(signed_in: Desk) -> None:
    open_patient(signed_in)
    save_change(signed_in, ExpressedBy.SIGNED_FORM, "A form she signed")
    consent = signed_in.window.work.consent
    with signed_in.qtbot.waitSignal(signed_in.controller.history_loaded) as loaded:
        consent.history.click()
    earlier: PatientHistory = loaded.args[0]
    assert earlier.nhs_number == README_EXAMPLE and earlier.changes

    open_patient(signed_in, "9990000018", confirm=False)  # another patient, none of whose consent changed here
    consent.history.click()
    dialog = consent.history_dialog
    assert isinstance(dialog, HistoryDialog)
    signed_in.wait(lambda: dialog.status.text().startswith("No changes for this patient"))
    signed_in.controller.history_loaded.emit(earlier)  # the first patient's answer, arriving late

    assert dialog.table.rowCount() == 0
    assert dialog.status.text().startswith("No changes for this patient")
    assert not leaked(visible_text(dialog))


@pytest.mark.hazard("HAZ-014")
def test_one_byte_changed_in_the_audit_is_reported_at_the_next_start_and_in_the_history(
    make_desk: Callable[..., Desk],
) -> None:
    first = make_desk()
    first.sign_in()
    open_patient(first)
    audit = first.controller.workstation.parts.audit.path
    first.controller.shutdown()  # the app closed

    text = audit.read_bytes()
    audit.write_bytes(text.replace(README_EXAMPLE.encode(), README_EXAMPLE[:-1].encode() + b"8", 1))  # one byte

    again = make_desk()  # the next start
    message = again.window.sign_in.message
    again.wait(lambda: "altered" in message.text)
    assert message.text.startswith("The local record of changes on this computer has been altered since ")
    assert message.text.endswith("Tell your IT team. What Spine holds is not affected.")

    again.sign_in()
    open_patient(again)
    consent = again.window.work.consent
    consent.history.click()
    dialog = consent.history_dialog
    assert isinstance(dialog, HistoryDialog)
    again.wait(lambda: "altered" in dialog.problem.text)

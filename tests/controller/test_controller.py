"""The GUI's controller against the real sandbox and software cards: results reach the GUI thread by signals,
a lock wins every race, and a change's outcome is never lost."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from consent_desktop.auth.card import CardStatus
from consent_desktop.auth.session import SessionState
from consent_desktop.auth.training_presence import TrainingPresence
from consent_desktop.config import TomlFileSource, load_settings
from consent_desktop.controller.assembly import assemble
from consent_desktop.controller.controller import Controller
from consent_desktop.domain.consent import ConsentChoice, ExpressedBy, SaveOutcome, SaveResult
from consent_desktop.domain.errors import ConsentDesktopError, NotAuthorised, SessionNotActive
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Patient
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.users import ADMIN_NO_B0020, RECEPTIONIST, TRAINING_PIN

NHS = "9434765919"


@pytest.fixture
def controller(card_sandbox: Sandbox, qtbot: QtBot, tmp_path: Path) -> Iterator[Controller]:
    settings = load_settings([TomlFileSource(card_sandbox.data.client_config, "client.toml")])
    settings = dataclasses.replace(settings, app=dataclasses.replace(settings.app, data_dir=tmp_path / "data"))
    controller = Controller(assemble(settings), progress_delay_ms=50)
    with qtbot.waitSignal(controller.card_status, timeout=5000):
        controller.start()
    yield controller
    controller.shutdown()


def sign_in(controller: Controller, qtbot: QtBot) -> None:
    with qtbot.waitSignal(
        controller.session_changed, timeout=5000, check_params_cb=lambda change: change.state is SessionState.ACTIVE
    ):
        controller.sign_in(bytearray(TRAINING_PIN.encode()))


def look_up(controller: Controller, qtbot: QtBot, nhs: str = NHS) -> Patient:
    with qtbot.waitSignal(controller.patient_shown, timeout=5000) as shown:
        controller.look_up(nhs)
    patient = shown.args[0]
    assert isinstance(patient, Patient)
    return patient


def card(controller: Controller) -> TrainingPresence:
    presence = controller.training_card
    assert presence is not None
    return presence


def start_slow_opt_out(
    controller: Controller, qtbot: QtBot, sandbox: Sandbox, *, latency: str, how: ExpressedBy
) -> list[SaveResult]:
    """Sign in, look up and ask for an opt-out that Spine holds for `latency` seconds; the outcomes, as they come."""
    sign_in(controller, qtbot)
    patient = look_up(controller, qtbot)
    assert sandbox.store is not None
    sandbox.store.set_fault("latency", latency, scope="set", times=1)
    results: list[SaveResult] = []
    controller.save_finished.connect(results.append)
    controller.change_consent(patient, None, ConsentChoice.OPTED_OUT, how, "")
    qtbot.wait(150)  # the change is on its way to Spine
    return results


def test_card_status_follows_the_software_card(controller: Controller, qtbot: QtBot) -> None:
    with qtbot.waitSignal(controller.card_status, check_params_cb=lambda s: s is CardStatus.NO_CARD):
        card(controller).remove()
    with qtbot.waitSignal(controller.card_status, check_params_cb=lambda s: s is CardStatus.READY):
        card(controller).insert(RECEPTIONIST.token_label)


@pytest.mark.hazard("HAZ-003", "HAZ-014", "HAZ-015")
def test_sign_in_look_up_read_and_change(controller: Controller, qtbot: QtBot, card_sandbox: Sandbox) -> None:
    sign_in(controller, qtbot)
    patient = look_up(controller, qtbot)
    with qtbot.waitSignal(controller.consent_loaded) as loaded:
        controller.load_consent(patient.nhs_number)
    record = loaded.args[0]
    with qtbot.waitSignal(controller.save_finished, timeout=5000) as saved:
        controller.change_consent(patient, record, ConsentChoice.OPTED_OUT, ExpressedBy.IN_PERSON, "asked at desk")
    result: SaveResult = saved.args[0]
    assert result.outcome is SaveOutcome.SAVED and result.confirmed_by_reread
    with qtbot.waitSignal(controller.history_loaded) as history:
        controller.load_history(patient.nhs_number)
    assert history.args[0].nhs_number == patient.nhs_number.digits and history.args[0].altered is None
    [entry] = history.args[0].changes
    assert (entry.old, entry.new, entry.expressed_by, entry.note, entry.user_id) == (
        "ask",
        "no",
        "in person",
        "asked at desk",
        RECEPTIONIST.user_id,
    )


@pytest.mark.hazard("HAZ-001", "HAZ-007")
def test_a_lookup_finishing_after_the_card_left_is_never_shown(
    controller: Controller, qtbot: QtBot, card_sandbox: Sandbox
) -> None:
    sign_in(controller, qtbot)
    assert card_sandbox.store is not None
    card_sandbox.store.set_fault("latency", "0.5", scope="pds", times=1)
    shown: list[object] = []
    controller.patient_shown.connect(shown.append)
    controller.look_up(NHS)
    with qtbot.waitSignal(
        controller.session_changed, check_params_cb=lambda change: change.state is SessionState.LOCKED
    ):
        card(controller).remove()
    qtbot.wait(900)  # the lookup's answer has come back by now
    assert shown == []
    assert controller.runner.pending == 0


@pytest.mark.hazard("HAZ-002", "HAZ-004")
def test_a_change_whose_card_is_pulled_is_held_and_shown_after_unlock(
    controller: Controller, qtbot: QtBot, card_sandbox: Sandbox
) -> None:
    results = start_slow_opt_out(controller, qtbot, card_sandbox, latency="0.6", how=ExpressedBy.BY_PHONE)
    card(controller).remove()
    qtbot.wait(1200)
    assert results == []  # nothing about the patient while locked
    card(controller).insert(RECEPTIONIST.token_label)
    rereads: list[object] = []
    controller.consent_loaded.connect(rereads.append)
    with qtbot.waitSignal(controller.save_finished, timeout=5000):
        controller.unlock(bytearray(TRAINING_PIN.encode()))
    # Spine acknowledged the change, but the check read was refused while locked: reported as saved on Spine's
    # word, not "confirmed by re-read"; after unlocking, the consent is read again and shows the truth.
    assert results[0].outcome is SaveOutcome.SAVED and not results[0].confirmed_by_reread
    assert card_sandbox.store.assertions(NHS) == {"Store": "No", "View": "No"}
    qtbot.waitUntil(lambda: bool(rereads), timeout=5000)
    assert rereads[0].choice is ConsentChoice.OPTED_OUT  # type: ignore[attr-defined]


@pytest.mark.hazard("HAZ-005", "HAZ-007")
def test_another_card_signs_the_first_user_out(controller: Controller, qtbot: QtBot) -> None:
    sign_in(controller, qtbot)
    with qtbot.waitSignal(
        controller.session_changed, check_params_cb=lambda change: change.state is SessionState.LOCKED
    ):
        card(controller).remove()
    with qtbot.waitSignal(controller.card_status, check_params_cb=lambda s: s is CardStatus.READY):
        card(controller).insert(ADMIN_NO_B0020.token_label)
    failures: list[ConsentDesktopError] = []
    controller.failed.connect(lambda error, _action: failures.append(error))
    with qtbot.waitSignal(
        controller.session_changed, timeout=5000, check_params_cb=lambda change: change.state is SessionState.SIGNED_OUT
    ):
        controller.unlock(bytearray(TRAINING_PIN.encode()))
    qtbot.waitUntil(lambda: bool(failures))
    assert "different smartcard" in failures[0].user_message  # told why, though the session ended meanwhile
    with pytest.raises(SessionNotActive):
        controller.workstation.session.require_active()


@pytest.mark.hazard("HAZ-005")
def test_role_without_b0020_is_told_why(controller: Controller, qtbot: QtBot) -> None:
    with qtbot.waitSignal(controller.card_status, check_params_cb=lambda s: s is CardStatus.READY):
        card(controller).insert(ADMIN_NO_B0020.token_label)
    with qtbot.waitSignal(
        controller.session_changed, timeout=5000, check_params_cb=lambda change: change.state is SessionState.ACTIVE
    ):
        controller.sign_in(bytearray(TRAINING_PIN.encode()))
    check = controller.change_check()
    assert not check.allowed and "B0020" in check.reason
    patient = look_up(controller, qtbot)
    with qtbot.waitSignal(controller.failed) as failed:
        controller.change_consent(patient, None, ConsentChoice.OPTED_OUT, ExpressedBy.IN_PERSON, "")
    assert isinstance(failed.args[0], NotAuthorised)


@pytest.mark.hazard("HAZ-014")
def test_an_audit_that_cannot_be_written_never_hides_the_outcome(
    controller: Controller, qtbot: QtBot, tmp_path: Path
) -> None:
    sign_in(controller, qtbot)
    patient = look_up(controller, qtbot)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    controller.workstation.parts.audit.path = blocked / "audit.jsonl"
    with qtbot.waitSignal(controller.save_finished, timeout=5000) as saved:
        controller.change_consent(patient, None, ConsentChoice.OPTED_OUT, ExpressedBy.IN_PERSON, "")
    result: SaveResult = saved.args[0]
    assert result.outcome is SaveOutcome.SAVED
    assert "audit log could not record the change" in result.warning


def sign_out_for(controller: Controller, qtbot: QtBot, token_label: str) -> None:
    """Sign out, and put another card (``token_label``) in the reader for whoever signs in next."""
    with qtbot.waitSignal(
        controller.session_changed, timeout=5000, check_params_cb=lambda change: change.state is SessionState.SIGNED_OUT
    ):
        controller.sign_out()
    card(controller).remove()
    with qtbot.waitSignal(controller.card_status, check_params_cb=lambda s: s is CardStatus.READY):
        card(controller).insert(token_label)


@pytest.mark.hazard("HAZ-004", "HAZ-008")
def test_an_outcome_arriving_after_sign_out_is_shown_to_the_same_user_only(
    controller: Controller, qtbot: QtBot, card_sandbox: Sandbox
) -> None:
    """Signed out while the change was at Spine: it finishes, goes in the audit, is never shown to the next user,
    and is shown to the user who made it when they next sign in."""
    results = start_slow_opt_out(controller, qtbot, card_sandbox, latency="0.8", how=ExpressedBy.IN_PERSON)
    sign_out_for(controller, qtbot, ADMIN_NO_B0020.token_label)
    sign_in(controller, qtbot)  # the next user
    audit = controller.workstation.parts.audit
    qtbot.waitUntil(lambda: [e.event for e in audit.entries(NHS)].count("consent-change") == 1, timeout=5000)
    qtbot.wait(300)
    assert results == []  # never shown to another user...
    assert card_sandbox.store.assertions(NHS) == {"Store": "No", "View": "No"}  # ...though it was made, and audited
    sign_out_for(controller, qtbot, RECEPTIONIST.token_label)
    with qtbot.waitSignal(controller.save_finished, timeout=5000):
        sign_in(controller, qtbot)  # the user who made it is back
    assert len(results) == 1 and results[0].outcome is SaveOutcome.SAVED, results
    [change] = [e for e in audit.entries(NHS) if e.event == "consent-change"]
    assert change.user_id == RECEPTIONIST.user_id and change.outcome == "saved"


def test_a_deferred_workstation_is_built_off_the_gui_thread_then_used(
    card_sandbox: Sandbox, qtbot: QtBot, tmp_path: Path
) -> None:
    import threading

    from consent_desktop.controller.controller import WorkstationRecipe
    from consent_desktop.controller.presence_choice import choose_presence

    settings = load_settings([TomlFileSource(card_sandbox.data.client_config, "client.toml")])
    settings = dataclasses.replace(settings, app=dataclasses.replace(settings.app, data_dir=tmp_path / "data"))
    built_on: list[int] = []

    def build() -> object:
        built_on.append(threading.get_ident())
        return assemble(settings, presence=presence)

    presence = choose_presence(settings)
    controller = Controller(WorkstationRecipe(settings, presence, build), progress_delay_ms=50)  # type: ignore[arg-type]
    assert controller.session_state is SessionState.SIGNED_OUT and not controller.is_ready
    assert controller.training_card is presence  # the screen can offer the training cards at once
    try:
        with qtbot.waitSignal(controller.ready, timeout=10_000):
            controller.start()
        assert built_on and built_on[0] != threading.get_ident()
        sign_in(controller, qtbot)
        assert look_up(controller, qtbot).nhs_number.digits == NHS
    finally:
        controller.shutdown()


@pytest.mark.hazard("HAZ-012")
def test_a_workstation_that_cannot_be_built_says_why(card_sandbox: Sandbox, qtbot: QtBot) -> None:
    from consent_desktop.controller.controller import WorkstationRecipe
    from consent_desktop.domain.errors import ConfigError

    settings = load_settings([TomlFileSource(card_sandbox.data.client_config, "client.toml")])

    def build() -> object:
        raise ConfigError("settings", "auth.pkcs11_module", "no smartcard middleware (PKCS#11 library) is configured")

    controller = Controller(WorkstationRecipe(settings, TrainingPresence(), build))  # type: ignore[arg-type]
    try:
        with qtbot.waitSignal(controller.failed, timeout=5000) as failed:
            controller.start()
        assert failed.args[1] == "start" and "auth.pkcs11_module" in failed.args[0].user_message
        assert not controller.is_ready
    finally:
        controller.shutdown()


# --- a change Spine applies late: read again in place ---------------------------------------------------------


@pytest.fixture
def rechecking(card_sandbox: Sandbox, qtbot: QtBot, tmp_path: Path) -> Iterator[Controller]:
    """A controller whose change deadline is short, reading unconfirmed changes again after 0.8, 1.6 and 3.2 s."""
    settings = load_settings([TomlFileSource(card_sandbox.data.client_config, "client.toml")])
    settings = dataclasses.replace(
        settings,
        spine=dataclasses.replace(settings.spine, read_timeout=5.0, change_deadline=1.5),
        app=dataclasses.replace(settings.app, data_dir=tmp_path / "data"),
    )
    controller = Controller(assemble(settings), progress_delay_ms=50, recheck_after_ms=(800, 1600, 3200))
    with qtbot.waitSignal(controller.card_status, timeout=5000):
        controller.start()
    yield controller
    controller.shutdown()


def late_change(controller: Controller, qtbot: QtBot, sandbox: Sandbox, commit_after: str) -> SaveResult:
    """An opt-out Spine holds past the deadline and applies ``commit_after`` seconds after the client's re-read."""
    sign_in(controller, qtbot)
    patient = look_up(controller, qtbot)
    assert sandbox.store is not None
    sandbox.store.set_fault("late-commit", commit_after, scope="set", times=1)
    with qtbot.waitSignal(controller.save_finished, timeout=10_000) as told:
        controller.change_consent(patient, None, ConsentChoice.OPTED_OUT, ExpressedBy.IN_PERSON, "")
    first: SaveResult = told.args[0]
    assert first.outcome is SaveOutcome.UNCONFIRMED, first.headline  # never "not saved"
    return first


@pytest.mark.hazard("HAZ-004", "HAZ-016")
def test_a_change_applied_late_is_updated_in_place_to_saved(
    rechecking: Controller, qtbot: QtBot, card_sandbox: Sandbox
) -> None:
    late_change(rechecking, qtbot, card_sandbox, "1.0")
    with qtbot.waitSignal(rechecking.save_rechecked, timeout=10_000) as rechecked:
        pass
    later: SaveResult = rechecked.args[0]
    assert later.outcome is SaveOutcome.SAVED and later.confirmed_by_reread, later.headline
    assert card_sandbox.store is not None
    assert len({c.message_id for c in card_sandbox.store.changes(NHS)}) == 1  # read again, never sent again
    readings = [e for e in rechecking.workstation.parts.audit.entries(NHS) if e.event == "consent-recheck"]
    assert readings and readings[-1].outcome.startswith("saved")  # each reading is audited
    assert all(e.outcome.startswith("could not confirm") for e in readings[:-1])
    history = rechecking.workstation.history(NhsNumber.parse(NHS))
    assert [e.event for e in history.changes] == ["consent-change", "consent-recheck"]


@pytest.mark.hazard("HAZ-016")
@pytest.mark.parametrize("how", ["cancel", "another patient"])
def test_reading_a_change_again_stops_when_cancelled_or_the_patient_is_closed(
    rechecking: Controller, qtbot: QtBot, card_sandbox: Sandbox, how: str
) -> None:
    late_change(rechecking, qtbot, card_sandbox, "0.5")
    rechecked: list[SaveResult] = []
    rechecking.save_rechecked.connect(rechecked.append)
    if how == "cancel":
        rechecking.cancel()
    else:
        look_up(rechecking, qtbot, "9990000018")
    qtbot.wait(4_000)  # past every reading it would have made
    assert rechecked == []
    readings = [e for e in rechecking.workstation.parts.audit.entries(NHS) if e.event == "consent-recheck"]
    assert readings == []


@pytest.mark.hazard("HAZ-004")
def test_a_bug_during_a_change_goes_to_the_crash_route_and_still_settles_the_change(
    controller: Controller, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not swallowed: the crash route has it. And the change is not left hanging: whether it reached Spine is
    unknown, so it is "could not confirm — check again" (and read again), and the screen can let go of it."""
    sign_in(controller, qtbot)
    patient = look_up(controller, qtbot)

    def bug(*_args: object) -> SaveResult:
        raise RuntimeError("a programming error")

    monkeypatch.setattr(controller.workstation, "change_consent", bug)
    crashes: list[object] = []
    controller.crashed.connect(crashes.append)
    with qtbot.waitSignal(controller.save_finished, timeout=5000) as told:
        controller.change_consent(patient, None, ConsentChoice.OPTED_OUT, ExpressedBy.IN_PERSON, "")
    result: SaveResult = told.args[0]
    assert result.outcome is SaveOutcome.UNCONFIRMED and result.headline.endswith("check again"), result.headline
    assert len(crashes) == 1 and isinstance(crashes[0], RuntimeError)

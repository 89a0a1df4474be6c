"""The app as `consent-desktop --sandbox` starts it: the window first, the workstation built behind it, and the
training reader on screen the very one the workstation follows. As a new user meets it: CIS2 by default; the legacy
smartcard route when Group Policy says so, signing in through the gpOBJECT exchange and the SAML lookup."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from consent_desktop.app import RunningApp, start_app
from consent_desktop.auth.session import SessionState
from consent_desktop.config.registry import POLICY_KEY, REG_SZ
from consent_desktop.controller.assembly import assemble
from consent_desktop.sandbox.users import ADMIN_NO_B0020, GP, RECEPTIONIST, TRAINING_PIN
from consent_desktop.training import TrainingRun
from tests.cis2.conftest import PlayedBrowser
from tests.packaging.test_config_layers import FakeRegistry

pytestmark = pytest.mark.gui
WAIT_MS = 15_000


@contextmanager
def app_of(run: TrainingRun, tmp_path: Path) -> Iterator[RunningApp]:
    running = start_app(run.settings, training=run.kit, preferences_path=tmp_path / "preferences.toml")
    try:
        running.window.show()
        yield running
    finally:
        running.controller.shutdown()
        running.window.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def sign_in_with_passcode(running: RunningApp, qtbot: QtBot, token_label: str) -> None:
    """Put the card in on screen, then type the passcode and press Enter, as a trainee does."""
    window = running.window
    panel = window.sign_in.training
    assert panel is not None
    panel.cards.setCurrentIndex(panel.cards.findData(token_label))
    panel.insert.click()
    qtbot.waitUntil(lambda: running.controller.card_in_reader == token_label, timeout=WAIT_MS)
    qtbot.waitUntil(window.sign_in.pin.field.isEnabled, timeout=WAIT_MS)
    qtbot.keyClicks(window.sign_in.pin.field, TRAINING_PIN)
    qtbot.keyClick(window.sign_in.pin.field, "\r")


@pytest.mark.hazard("HAZ-010", "HAZ-018")
def test_training_mode_offers_cis2_by_default_and_its_settings_sign_in(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOFTHSM2_CONF", "")  # the card token sets it for the process; put it back afterwards
    with TrainingRun(tmp_path / "training") as run:
        assert run.settings.auth.provider == "cis2"
        with app_of(run, tmp_path) as running:
            page = running.window.sign_in
            assert page.title.text() == "Sign in with NHS CIS2"
            assert page.provider.text() == "Sign-in service: NHS CIS2 Authentication"
            assert not page.notice.isVisible()
            qtbot.waitUntil(lambda: running.controller.is_ready, timeout=WAIT_MS)
            assert not page.pin.isVisible() and page.browser_sign_in.isVisible()
        # The same training settings, with the browser played: the sandbox's CIS2 signs the user in.
        workstation = assemble(run.settings, browser=PlayedBrowser(run.sandbox))
        try:
            workstation.start()
            assert workstation.sign_in() is SessionState.ACTIVE
            assert workstation.session.require_active().user_id == RECEPTIONIST.user_id
        finally:
            workstation.close()


@pytest.mark.hazard("HAZ-005", "HAZ-010", "HAZ-017")
def test_cis_by_policy_signs_in_through_gpobject_and_saml_and_b0020_is_judged_on_the_saml_codes(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOFTHSM2_CONF", "")
    policy = FakeRegistry({POLICY_KEY: {"AuthProvider": ("cis", REG_SZ)}})
    with TrainingRun(tmp_path / "training", registry=policy) as run:
        assert run.settings.auth.provider == "cis"
        with app_of(run, tmp_path) as running:
            controller, window = running.controller, running.window
            assert window.sign_in.title.text() == "Sign in with your NHS smartcard"
            assert "28 February 2027" in window.sign_in.notice.text() and window.sign_in.notice.isVisible()
            qtbot.waitUntil(lambda: controller.is_ready, timeout=WAIT_MS)
            sign_in_with_passcode(running, qtbot, ADMIN_NO_B0020.token_label)
            qtbot.waitUntil(lambda: controller.session_state is SessionState.ACTIVE, timeout=WAIT_MS)
            session = controller.workstation.session
            ticket = session.ticket
            assert ticket is not None and ticket.value.startswith("AQIC5wM2LY4S")  # an SSO ticket from authvalidate
            assert run.sandbox.cis is not None
            assert run.sandbox.cis.selected_role(ticket.value) == ADMIN_NO_B0020.roles[0].role_profile_id
            role = session.require_active().role
            assert (role.job_role_code, role.activities) == ("S8002:G8002:R8002", {"B0264"})  # from the SAML
            check = controller.change_check()
            assert not check.allowed and "B0020" in check.reason


@pytest.mark.hazard("HAZ-010")
def test_a_card_put_in_on_screen_signs_in_on_the_legacy_route(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOFTHSM2_CONF", "")
    with TrainingRun(tmp_path / "training", provider="cis") as run, app_of(run, tmp_path) as running:
        controller, window = running.controller, running.window
        assert window.sign_in.card.text.text().startswith("Checking for your smartcard")
        qtbot.waitUntil(lambda: controller.is_ready, timeout=WAIT_MS)
        sign_in_with_passcode(running, qtbot, GP.token_label)
        qtbot.waitUntil(lambda: controller.session_state is SessionState.CHOOSING_ROLE, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: window.page is window.role, timeout=WAIT_MS)  # the GP's two roles, once told

"""The real window and controller against one in-process sandbox with software smartcards, shared by every GUI
test of the session; each test gets a fresh workstation (card token, audit, window) and a clean Spine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from consent_desktop.auth.session import SessionState
from consent_desktop.config import MappingSource, Settings, TomlFileSource, load_settings
from consent_desktop.controller.assembly import assemble
from consent_desktop.controller.controller import Controller
from consent_desktop.controller.workstation import Workstation
from consent_desktop.sandbox.patients import INITIAL_CONSENT
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.store import Store
from consent_desktop.sandbox.users import RECEPTIONIST, TRAINING_PIN
from consent_desktop.training import training_kit
from consent_desktop.ui.main_window import MainWindow, build_main_window
from tests.smartcard.conftest import pcscd, pinlock_shim, vicc  # noqa: F401 - fixtures: real PC/SC, PIN counter
from tests.softhsm import require_softhsm, softhsm_conf_put_back

WAIT_MS = 10_000  # generous: CI machines are slow; tests return as soon as the screen shows the answer


@pytest.fixture(scope="session")
def ui_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    require_softhsm()
    with softhsm_conf_put_back(), Sandbox(tmp_path_factory.mktemp("ui-sandbox"), software_cards=True) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def store(ui_sandbox: Sandbox) -> Store:
    assert ui_sandbox.store is not None
    return ui_sandbox.store


@pytest.fixture(autouse=True)
def clean_spine(store: Store) -> Iterator[None]:
    """Every test starts from the sandbox's first-start consent, with no fault switched on."""
    yield
    store.clear_faults()
    with store.transaction() as db:
        db.execute("DELETE FROM assertion")
        db.executemany(
            "INSERT INTO assertion VALUES (?, ?, ?, datetime('now'))",
            [(nhs, function, permission) for nhs, items in INITIAL_CONSENT.items() for function, permission in items],
        )


def spine_holds(store: Store, nhs_number: str) -> dict[str, str]:
    return store.assertions(nhs_number)


@dataclass
class Desk:
    """One workstation on screen, and the ways a user works it."""

    window: MainWindow
    controller: Controller
    settings: Settings
    sandbox: Sandbox
    qtbot: QtBot

    @property
    def store(self) -> Store:
        assert self.sandbox.store is not None
        return self.sandbox.store

    def wait(self, condition: Callable[[], object], timeout: int = WAIT_MS) -> None:
        self.qtbot.waitUntil(lambda: bool(condition()), timeout=timeout)

    def insert(self, token_label: str) -> None:
        reader = self.controller.training_card
        assert reader is not None
        reader.insert(token_label)
        self.wait(lambda: self.controller.card_in_reader == token_label)

    def remove_card(self) -> None:
        reader = self.controller.training_card
        assert reader is not None
        reader.remove()

    def type_pin(self, pin: str = TRAINING_PIN) -> None:
        page = self.window.lock if self.window.page is self.window.lock else self.window.sign_in
        self.wait(page.pin.field.isEnabled)
        self.qtbot.keyClicks(page.pin.field, pin)
        self.qtbot.keyClick(page.pin.field, "\r")

    def sign_in(self, token_label: str = RECEPTIONIST.token_label) -> None:
        self.insert(token_label)
        self.type_pin()
        self.wait(lambda: self.window.page is self.window.work)

    def look_up(self, nhs_number: str) -> None:
        """Type the number, press Enter, and wait until the banner and Spine's consent value are on screen."""
        field = self.window.work.search.nhs
        field.clear()
        self.qtbot.keyClicks(field, nhs_number)
        self.qtbot.keyClick(field, "\r")
        digits = "".join(ch for ch in nhs_number if ch.isdigit())
        self.wait(lambda: (p := self.window.work.banner.patient) is not None and p.nhs_number.digits == digits)
        self.wait(lambda: self.window.work.consent.record is not None or self.window.work.consent.read_problem.text)

    @property
    def session(self) -> SessionState:
        return self.controller.session_state


@pytest.fixture
def make_desk(qtbot: QtBot, ui_sandbox: Sandbox, tmp_path: Path) -> Iterator[Callable[..., Desk]]:
    """``make_desk(**settings)``: a window for these setting overrides (``{"spine.read_timeout": 1.0}``);
    ``build`` makes the workstation behind it from the settings (for a slowed card, say)."""
    made: list[Desk] = []

    def make(*, build: Callable[[Settings], Workstation] = assemble, **overrides: object) -> Desk:
        settings = load_settings(
            [
                TomlFileSource(ui_sandbox.data.client_config, "sandbox client.toml"),
                MappingSource("test", {"app.data_dir": str(tmp_path / "audit"), **overrides}),
            ]
        )
        controller = Controller(build(settings), progress_delay_ms=100)
        window = build_main_window(
            controller, settings, training=training_kit(), preferences_path=tmp_path / "preferences.toml"
        )
        desk = Desk(window, controller, settings, ui_sandbox, qtbot)
        made.append(desk)
        controller.start()
        window.show()
        qtbot.waitUntil(window.sign_in.pin.field.isEnabled, timeout=3 * WAIT_MS)  # a slowed card takes a while
        return desk

    yield make
    for desk in made:
        desk.controller.shutdown()  # signs out and releases the card token for the next test
        desk.window.hide()
        desk.window.deleteLater()
    # Gone now, not at some later turn of the event loop: the next test reads every window there is.
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def desk(make_desk: Callable[..., Desk]) -> Desk:
    return make_desk()


@pytest.fixture
def signed_in(desk: Desk) -> Desk:
    desk.sign_in()
    return desk

"""Card removal on the real PC/SC stack: the real window and controller, with card presence from pyscard against a
real pcscd, vsmartcard's virtual reader (vpcd) and its virtual card (vicc), started by process id.

The workstation is assembled from settings exactly as a training workstation with a PC/SC reader is: training mode
with ``auth.allow_virtual_readers`` on makes ``choose_presence`` pick :class:`PcscPresence` and accept the virtual
reader (outside training mode it is refused: ``tests/smartcard/test_pcsc_presence.py``). The card's PKCS#11 side is
the receptionist's SoftHSM2 software card. The virtual card is pulled while each screen is up; every patient
detail must be gone from every window by the time the lock screen shows, and a change already on its way to Spine
must keep its outcome: held while locked, shown to the same user once they unlock.

Run these under ``flock /tmp/consent-pcscd.lock`` (pcscd is one daemon for the whole machine).
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from consent_desktop.auth.card import CardStatus
from consent_desktop.auth.presence import PcscPresence
from consent_desktop.auth.session import SessionChange, SessionState
from consent_desktop.config import Settings
from consent_desktop.controller.assembly import assemble
from consent_desktop.controller.workstation import Workstation
from consent_desktop.sandbox.patients import README_EXAMPLE
from consent_desktop.sandbox.runtime import Sandbox
from tests.pds.conftest import requests_seen
from tests.smartcard.conftest import VIRTUAL_READER, VirtualCard
from tests.ui.conftest import Desk
from tests.ui.screen import every_text
from tests.ui.test_consent import OPTED_OUT_ON_SPINE, confirm_step, open_patient, start_change
from tests.ui.test_lock import leaked

pytestmark = [pytest.mark.gui, pytest.mark.smartcard]

PULL_LIMIT_S = 1.0  # the limit; the benchmark reports the median and maximum against a 250 ms goal
PULLS = int(os.environ.get("CARD_PULLS") or 3)


def pcsc_settings(settings: Settings) -> Settings:
    """The sandbox's client settings without the software card's own reader: presence then comes from PC/SC."""
    return dataclasses.replace(settings, auth=dataclasses.replace(settings.auth, softhsm2_conf=None))


@pytest.fixture
def pcsc_desk(
    make_desk: Callable[..., Desk], ui_sandbox: Sandbox, vicc: VirtualCard, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Desk]:
    """A window whose card presence is PC/SC, on the sign-in screen with the virtual card in the reader."""
    assert ui_sandbox.cards is not None
    monkeypatch.setenv("SOFTHSM2_CONF", str(ui_sandbox.cards.conf_path))  # the PKCS#11 side: the software cards

    def build(settings: Settings) -> Workstation:
        workstation = assemble(pcsc_settings(settings))
        assert isinstance(workstation.parts.presence, PcscPresence)  # chosen from settings, virtual reader allowed
        return workstation

    vicc.insert()
    yield make_desk(build=build)


class Pull:
    """Pulls the virtual card and times it: from vicc's death to the lock screen up with no patient detail left.

    The window hides patient details in its own slot for the session's change; this slot is connected after it,
    so it runs once they are cleared, and reads every text in every window at that moment."""

    def __init__(self, desk: Desk, card: VirtualCard) -> None:
        self.desk, self.card = desk, card
        self.hidden_at: float | None = None
        self.left_on_screen: list[str] = []
        desk.controller.session_changed.connect(self._changed)

    def _changed(self, change: SessionChange) -> None:
        if change.state is SessionState.LOCKED and self.hidden_at is None:
            self.hidden_at = time.monotonic()
            self.left_on_screen = leaked(every_text())

    def __call__(self) -> float:
        self.hidden_at = None
        gone = self.card.remove()
        self.desk.wait(lambda: self.hidden_at is not None, timeout=5_000)
        assert self.hidden_at is not None
        assert self.desk.window.page is self.desk.window.lock
        assert self.left_on_screen == [], f"still on screen as the lock showed: {self.left_on_screen}"
        assert not leaked(every_text())
        return self.hidden_at - gone


def insert_and_type_pin(desk: Desk, card: VirtualCard) -> None:
    """The card back in the virtual reader, then the passcode typed once the screen sees it."""
    statuses: list[object] = []
    desk.controller.card_status.connect(statuses.append)
    card.insert()
    desk.wait(lambda: CardStatus.READY in statuses)
    desk.type_pin()


def sign_in(desk: Desk) -> None:
    desk.type_pin()
    desk.wait(lambda: desk.window.page is desk.window.work)


def unlock(desk: Desk, card: VirtualCard) -> None:
    insert_and_type_pin(desk, card)
    desk.wait(lambda: desk.window.page is desk.window.work)
    assert desk.session is SessionState.ACTIVE


SCREENS: dict[str, Callable[[Desk], object]] = {
    "search": lambda desk: desk.qtbot.keyClicks(desk.window.work.search.family, "Amberlock"),  # half-typed
    "patient shown": open_patient,
    "change dialog open": start_change,
}


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.hazard("HAZ-007")
def test_pulling_the_card_on_each_screen_hides_every_patient_detail(
    pcsc_desk: Desk, vicc: VirtualCard, screen: str
) -> None:
    sign_in(pcsc_desk)
    if screen != "search":
        open_patient(pcsc_desk)
    SCREENS[screen](pcsc_desk)
    assert leaked(every_text())  # something of the patient really was on screen

    assert Pull(pcsc_desk, vicc)() < PULL_LIMIT_S
    assert pcsc_desk.session is SessionState.LOCKED
    assert pcsc_desk.window.work.consent.dialogs == []

    unlock(pcsc_desk, vicc)  # the same card and passcode resume the session


@pytest.mark.hazard("HAZ-004", "HAZ-007")
def test_a_save_in_flight_when_the_card_is_pulled_keeps_its_outcome(pcsc_desk: Desk, vicc: VirtualCard) -> None:
    sign_in(pcsc_desk)
    open_patient(pcsc_desk)
    pcsc_desk.store.set_fault("latency", "1.5", scope="set", times=1)
    sent_before = requests_seen(pcsc_desk.sandbox)
    confirm_step(pcsc_desk).save.click()
    pcsc_desk.wait(lambda: requests_seen(pcsc_desk.sandbox) > sent_before)  # the change has reached Spine

    assert Pull(pcsc_desk, vicc)() < PULL_LIMIT_S
    pcsc_desk.qtbot.wait(2_000)  # Spine's late answer arrives while locked: held, never shown
    assert pcsc_desk.window.page is pcsc_desk.window.lock
    assert not leaked(every_text())
    assert pcsc_desk.store.assertions(README_EXAMPLE) == OPTED_OUT_ON_SPINE

    unlock(pcsc_desk, vicc)
    consent = pcsc_desk.window.work.consent
    pcsc_desk.wait(lambda: consent.outcome.headline.text().startswith("Saved on Spine at "))
    assert consent.patient is not None and consent.patient.nhs_number.digits == README_EXAMPLE


@pytest.mark.hazard("HAZ-007")
def test_every_card_pull_hides_the_patient_within_the_limit(pcsc_desk: Desk, vicc: VirtualCard) -> None:
    """Pull after pull with a patient on screen (``CARD_PULLS``, 3 by default; the benchmark asks for 20). With
    ``CARD_PULL_FIGURES`` naming a file, the times are written there for the benchmark report."""
    sign_in(pcsc_desk)
    pull = Pull(pcsc_desk, vicc)
    seconds: list[float] = []
    for _ in range(PULLS):
        open_patient(pcsc_desk)
        seconds.append(pull())
        unlock(pcsc_desk, vicc)
    print(
        f"\ncard pulled -> patient hidden over {PULLS} pulls on {VIRTUAL_READER}: median "
        f"{statistics.median(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms"
    )
    if target := os.environ.get("CARD_PULL_FIGURES"):
        Path(target).write_text(json.dumps({"pull_to_hidden_ms": [s * 1000 for s in seconds]}), encoding="utf-8")
    assert max(seconds) < PULL_LIMIT_S

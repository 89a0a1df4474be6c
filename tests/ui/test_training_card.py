"""Training mode: the software card comes out at any time, also once signed in (that is how staff learn the lock),
and goes back in at the lock screen."""

from __future__ import annotations

import pytest

from consent_desktop.auth.session import SessionState
from consent_desktop.sandbox.users import RECEPTIONIST
from tests.ui.conftest import Desk
from tests.ui.screen import every_text
from tests.ui.test_consent import open_patient

pytestmark = pytest.mark.gui


@pytest.mark.hazard("HAZ-007", "HAZ-010")
def test_the_training_card_comes_out_once_signed_in_and_goes_back_in_at_the_lock(signed_in: Desk) -> None:
    window = signed_in.window
    banner = window.training_banner
    assert banner is not None
    open_patient(signed_in)
    assert banner.remove.isVisible() and banner.remove.isEnabled()
    assert banner.in_reader.text() == (
        f"Training card in the reader: {RECEPTIONIST.name} \N{EM DASH} receptionist, can change consent"
    )

    banner.remove.click()  # as a trainee pulls their card from the reader

    signed_in.wait(lambda: window.page is window.lock)
    assert signed_in.session is SessionState.LOCKED
    assert "AMBERLOCK" not in every_text()
    lock_panel = window.lock.training
    assert lock_panel is not None
    lock_panel.cards.setCurrentIndex(lock_panel.cards.findData(RECEPTIONIST.token_label))
    lock_panel.insert.click()
    signed_in.type_pin()
    signed_in.wait(lambda: window.page is window.work and window.work.banner.patient is not None)
    assert window.work.banner.confirm.isEnabled()  # the patient is to be confirmed again


@pytest.mark.hazard("HAZ-010")
def test_the_banner_offers_the_card_only_where_the_screen_has_no_card_panel(desk: Desk) -> None:
    banner = desk.window.training_banner
    assert banner is not None
    assert not banner.remove.isVisible()  # the sign-in screen has the full card panel
    desk.sign_in()
    assert banner.remove.isVisible()
    desk.remove_card()
    desk.wait(lambda: desk.window.page is desk.window.lock)
    assert not banner.remove.isVisible()  # and so has the lock screen

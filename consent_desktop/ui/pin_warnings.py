"""What a card says about its passcode before anyone types one, in words for the sign-in and lock screens."""

from __future__ import annotations

from consent_desktop.auth.card import PinState
from consent_desktop.domain.errors import PinLocked
from consent_desktop.ui.errors import MessagePanel

FINAL_TRY = "One attempt left before your card is locked. Type the passcode carefully."


def show_pin_state(panel: MessagePanel, state: PinState, action: str) -> bool:
    """Warn of a final try, or give the unlock guidance for a locked card; True when the card is locked (then no
    attempt may be offered at all)."""
    if state is PinState.LOCKED:
        panel.show_error(PinLocked(), action)
        return True
    if state is PinState.FINAL_TRY:
        panel.show_message(FINAL_TRY, "warning")
    return False

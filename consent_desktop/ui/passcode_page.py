"""What the sign-in and lock screens share: the card's status, the passcode box, and what the card says about its
passcode — a final try warned of, a locked card never offered another attempt. The passcode box has the focus
whenever the card is ready for it, so the user can simply type."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from consent_desktop.auth.card import CardStatus, PinState
from consent_desktop.controller.controller import Controller
from consent_desktop.domain.errors import ConsentDesktopError, PinIncorrect, PinLocked
from consent_desktop.ui.card_status import CardStatusLine
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.pin_entry import PinEntry
from consent_desktop.ui.wording import CARD_READY, CHECKING_CARD, FINAL_TRY


class PasscodePage(QWidget):
    def __init__(  # noqa: PLR0917 - the screen's words and its action
        self,
        controller: Controller,
        button: str,
        name: str,
        action: str,
        send: Callable[[bytearray], None],
        card_ready: str = CARD_READY,
    ) -> None:
        super().__init__()
        self._controller = controller
        self._send = send  # the controller's sign_in or unlock
        self._action = action  # what the user is doing, for IT's details ("sign in", "unlock")
        self._card_locked = False  # a locked card is never offered another attempt
        self._working = False
        self.card = CardStatusLine(card_ready)
        self.pin = PinEntry(button, name)
        self.pin.submitted.connect(self._submitted)
        self.message = MessagePanel(f"{name} message")
        controller.card_status.connect(self.show_card)
        controller.pin_state.connect(self.show_pin_state)

    def show_card(self, status: CardStatus) -> None:
        previous = self.card.status
        self.card.show_status(status)
        if status is not CardStatus.READY or previous is not CardStatus.READY:
            self._card_locked = False  # another card, or the same one back: it may be unlocked now
        self._update()

    def show_pin_state(self, state: PinState) -> None:
        if state is PinState.LOCKED:
            self._card_locked = True
            self.message.show_error(PinLocked(), self._action)
        elif state is PinState.FINAL_TRY:
            self.message.show_message(FINAL_TRY, "warning")
        self._update()

    def show_failure(self, error: ConsentDesktopError, action: str) -> None:
        self._working = False
        self.pin.clear()
        if isinstance(error, PinLocked):
            self._card_locked = True
        self.message.show_error(error, action)
        self._update()
        if isinstance(error, PinIncorrect):
            self.pin.field.setFocus()

    def _submitted(self, pin: bytearray) -> None:
        self._begin(CHECKING_CARD)
        self._send(pin)

    def _begin(self, message: str) -> None:
        self._working = True
        self.message.show_message(message, "info")
        self._update()

    @property
    def _ready(self) -> bool:
        return self.card.status is CardStatus.READY and not self._card_locked and not self._working

    def _update(self) -> None:
        ready = self._ready
        self.pin.set_ready(ready)
        if ready and self.isVisible():
            self.pin.field.setFocus()  # the next keystroke is the passcode

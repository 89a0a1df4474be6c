"""Signing in, choosing a role, unlocking and signing out: the card, the legacy CIS services and the session
driven together; and the seam every identity provider implements.

Every method blocks until the card and the service have answered; the controller runs them on its card lane
(the one thread that talks PKCS#11), never on the GUI thread. Each PIN is overwritten with zeros before the
method returns, whatever happens. Nothing here logs a PIN or a ticket.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Protocol

from consent_desktop.auth.card import CardIdentity, CardToken, PinState
from consent_desktop.auth.cis import CisClient, CisSignIn, CisTicket
from consent_desktop.auth.providers import CIS
from consent_desktop.auth.session import Session, SessionChange, SessionState
from consent_desktop.domain.errors import (
    ConsentDesktopError,
    PinFormatInvalid,
    PinLocked,
    SessionNotActive,
    SignInFailed,
)
from consent_desktop.domain.identity import SpineIdentity

log = logging.getLogger(__name__)


class IdentityFlow(Protocol):
    """The one seam between the workstation and an identity provider: the CIS smartcard challenge
    (:class:`SignInFlow`) or CIS2 OpenID Connect (:class:`~consent_desktop.auth.cis2.Cis2SignInFlow`)."""

    provider: str  # "cis" or "cis2", as in auth.provider
    provider_label: str  # for the sign-in screen
    needs_pin: bool  # whether sign_in takes the card's PIN (unlock always does)

    def sign_in(self, pin: bytearray | None = None, token_label: str | None = None) -> SessionState: ...

    def cancel(self) -> None:
        """Give up a sign-in that is waiting for the user elsewhere (the browser); callable from any thread."""
        ...

    def choose_role(self, role_profile_id: str) -> SpineIdentity: ...

    def unlock(self, pin: bytearray, token_label: str | None = None) -> SessionState: ...

    def sign_out(self) -> None: ...


class SignInFlow:
    """The legacy CIS smartcard route (:mod:`consent_desktop.auth.cis`) driven with the card and the session.

    As with the Identity Agent, the SSB's session ends when the card leaves the reader: the session locks at once
    and the ticket is ended at the service in the background. Unlocking with the same card and PIN is a fresh
    sign-in that selects the role the user was working in, not a resume of the old ticket.
    """

    provider = CIS.key
    provider_label = CIS.label
    needs_pin = CIS.needs_pin

    def __init__(self, token: CardToken, cis: CisClient, session: Session) -> None:
        self._token = token
        self._cis = cis
        self._session = session
        self._lock = threading.Lock()
        self._ticket: CisTicket | None = None  # the live ticket, until it is ended
        self._role_id: str | None = None  # the role selected at the SSB for it
        self._logouts: list[threading.Thread] = []  # tickets being ended after a card removal
        session.add_listener(self._heard)

    def sign_in(self, pin: bytearray | None = None, token_label: str | None = None) -> SessionState:
        """ACTIVE (one role, or LOCKED if the card left meanwhile) or CHOOSING_ROLE. A locked card gets no
        attempt."""
        if pin is None:
            raise PinFormatInvalid()  # nothing reaches the card or the session
        try:
            self._session.begin_sign_in()
            try:
                return self._sign_in(pin, token_label)
            except BaseException as exc:
                reason = exc.user_message if isinstance(exc, ConsentDesktopError) else "sign-in did not complete"
                self._session.sign_in_failed(reason)
                raise
        finally:
            zero(pin)

    def _sign_in(self, pin: bytearray, token_label: str | None) -> SessionState:
        if self._token.pin_state(token_label) is PinState.LOCKED:
            raise PinLocked()
        card = self._token.login(pin, token_label)
        signed_in: CisSignIn | None = None
        try:
            signed_in = self._signed_in(card, None)
            return self._session.sign_in_succeeded(signed_in)
        except BaseException:
            self._end_quietly(self._take_ticket() or (signed_in.ticket if signed_in else None))
            raise

    def _signed_in(self, card: CardIdentity, role_id: str | None) -> CisSignIn:
        """The exchange with the GAS; with one role (or ``role_id``) that role selected and confirmed by SAML."""
        signed_in = self._cis.sign_in(self._token, card)
        with self._lock:
            self._ticket, self._role_id = signed_in.ticket, None
        role_id = role_id or (signed_in.roles[0].role_profile_id if len(signed_in.roles) == 1 else None)
        if role_id is None:
            return signed_in
        if role_id not in {role.role_profile_id for role in signed_in.roles}:
            raise SignInFailed(
                "The role you were working in is no longer one of your roles, so you were signed out. Sign in again.",
                "role of the locked session not offered by the renewed sign-in",
            )
        role = self._cis.select_role(signed_in.ticket, role_id)
        with self._lock:
            self._role_id = role_id
        roles = tuple(role if offered.role_profile_id == role_id else offered for offered in signed_in.roles)
        return replace(signed_in, roles=roles, selected_role_id=role_id)

    def cancel(self) -> None:
        """Nothing to give up: the card answers within the PKCS#11 call."""

    def choose_role(self, role_profile_id: str) -> SpineIdentity:
        self._session.offered_role(role_profile_id)  # an unknown or stale choice never reaches the service
        ticket = self._session.ticket
        assert ticket is not None  # a session offering roles holds its ticket
        try:
            role = self._cis.select_role(ticket, role_profile_id)
        except SessionNotActive:  # the service has ended the ticket
            self._session.sign_out("session expired")
            self._end_quietly(None)
            raise
        with self._lock:
            self._role_id = role_profile_id
        return self._session.choose_role(role_profile_id, role)

    def unlock(self, pin: bytearray, token_label: str | None = None) -> SessionState:
        """The same user's card signs in afresh, in the role they were working in; another user's card signs
        everyone out (IdentityMismatch), as does a session that expired while locked."""
        card = prove_card_for_unlock(self._session, self._token, pin, token_label)
        renewed: CisSignIn | None = None
        try:
            if card.user_id == self._session.user_id:
                with self._lock:
                    role_id = self._role_id
                renewed = self._signed_in(card, role_id)
            return self._session.unlock(card, renewed)
        except BaseException:
            self._end_quietly(self._take_ticket())  # a renewal that was not taken up, or another user's card
            raise

    def sign_out(self) -> None:
        """Locally first, so nothing more can be sent whatever the service or the card then do."""
        ticket = self._take_ticket()
        self._session.sign_out()
        try:
            if ticket is not None:
                self._cis.sign_out(ticket)
        except SignInFailed as exc:
            raise SignInFailed(
                "You are signed out of this app, but the sign-in service could not be told; your session there "
                "will end on its own.",
                exc.details,
            ) from exc
        finally:
            self._token.logout()

    def _heard(self, change: SessionChange) -> None:
        """The card left (the session locked): the ticket is ended at the service on a thread of its own, so that a
        slow service cannot hold up the thread that reported the removal (the card watcher's)."""
        if change.state is SessionState.LOCKED:
            ticket = self._take_ticket()
            if ticket is not None:
                logout = threading.Thread(target=self._end_ticket, args=(ticket,), name="cis-logout", daemon=True)
                with self._lock:
                    self._logouts = [thread for thread in self._logouts if thread.is_alive()] + [logout]
                logout.start()

    def close(self, wait: float = 10.0) -> None:
        """Let any ticket still being ended reach the service (up to ``wait`` seconds each), then close the
        connections. Blocks: called when the app closes."""
        with self._lock:
            logouts, self._logouts = self._logouts, []
        for logout in logouts:
            logout.join(wait)
        self._cis.close()

    def _take_ticket(self) -> CisTicket | None:
        with self._lock:
            ticket, self._ticket = self._ticket, None
            return ticket

    def _end_ticket(self, ticket: CisTicket) -> None:
        try:
            self._cis.sign_out(ticket)
        except ConsentDesktopError as exc:
            log.warning("could not end the CIS ticket: %s", exc.details)

    def _end_quietly(self, ticket: CisTicket | None) -> None:
        """Best effort ending of the service ticket and the card login; failures are logged, not raised, so
        they cannot hide the error that caused this."""
        if ticket is not None:
            self._end_ticket(ticket)
        try:
            self._token.logout()
        except ConsentDesktopError as exc:
            log.warning("could not log out of the card: %s", exc.details)


def prove_card_for_unlock(session: Session, token: CardToken, pin: bytearray, token_label: str | None) -> CardIdentity:
    """The card's identity, once its PIN is proven, to unlock a locked session. Refuses before any PIN reaches
    the card when the session is not locked (or has expired) or the card is locked; the PIN is zeroed."""
    try:
        session.require_locked()
        if token.pin_state(token_label) is PinState.LOCKED:
            raise PinLocked()
        return token.login(pin, token_label)
    finally:
        zero(pin)


def zero(pin: bytearray) -> None:
    pin[:] = bytes(len(pin))

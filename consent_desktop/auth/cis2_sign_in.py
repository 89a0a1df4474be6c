"""Signing in with NHS CIS2 Authentication: the browser sign-in (:mod:`consent_desktop.auth.cis2`), the card in
the reader bound to it, and the session driven together; the CIS2 counterpart of
:class:`~consent_desktop.auth.sign_in.SignInFlow`.

Every method blocks; the controller runs them on its card lane, never on the GUI thread. Each PIN is overwritten
with zeros before the method returns. Nothing here logs a PIN or a token.
"""

from __future__ import annotations

import logging
import threading
import webbrowser
from collections.abc import Callable

from consent_desktop.auth.card import CardIdentity, CardPresence, CardToken
from consent_desktop.auth.cis import CisSignIn, CisTicket
from consent_desktop.auth.cis2 import Cis2Client, Cis2Tokens
from consent_desktop.auth.loopback import DEFAULT_TIMEOUT, LoopbackReceiver
from consent_desktop.auth.providers import CIS2
from consent_desktop.auth.session import NOT_SIGNED_IN, Session, SessionState
from consent_desktop.auth.sign_in import prove_card_for_unlock, zero
from consent_desktop.config import AuthSettings
from consent_desktop.domain.errors import CardError, ConsentDesktopError, NoCard, SessionNotActive, SignInFailed
from consent_desktop.domain.identity import SpineIdentity

log = logging.getLogger(__name__)

Browser = Callable[[str], bool]  # webbrowser.open: False when no browser could be started


class Cis2SignInFlow:
    """The sign-in seam for CIS2: sign in (no PIN: the authenticator asks in the browser), choose a role, unlock
    with the card and its PIN, sign out. Every method blocks; the controller runs them on its card lane.

    With ``lock_on_card_removal`` on, a smartcard must be in the reader to sign in (the session locks whenever
    it is not). Whenever a card is in the reader, its certificate's user id must be the CIS2 user's.
    """

    provider = CIS2.key
    provider_label = CIS2.label
    needs_pin = CIS2.needs_pin

    def __init__(
        self,
        client: Cis2Client,
        token: CardToken,
        session: Session,
        presence: CardPresence,
        auth: AuthSettings,
        *,
        browser: Browser = webbrowser.open,
        browser_timeout: float = DEFAULT_TIMEOUT,
        redirect_port: int = 0,
    ) -> None:
        """``redirect_port``: the loopback port registered with CIS2 (0: any free port each sign-in)."""
        self._client = client
        self._token = token
        self._session = session
        self._presence = presence
        self._lock_on_removal = auth.lock_on_card_removal
        self._browser = browser
        self._browser_timeout = browser_timeout
        self._redirect_port = redirect_port
        self._lock = threading.Lock()
        self._tokens: Cis2Tokens | None = None
        self._cancelled: threading.Event | None = None

    def sign_in(self, pin: bytearray | None = None, token_label: str | None = None) -> SessionState:
        """ACTIVE (in the role CIS2 selected, or the only one; LOCKED if the card left meanwhile) or
        CHOOSING_ROLE. A PIN, if given, is wiped unused: CIS2 asks for it in its own software."""
        if pin is not None:
            zero(pin)
        return self._begin(token_label, change_role=False)

    def change_role(self, token_label: str | None = None) -> SessionState:
        """Work in another role: the sign-in here ends (the CIS2 session is kept), and CIS2 is asked to offer its
        role choice again (``changedrole``); the session then starts in the role chosen there."""
        tokens = self._take_tokens()
        self._session.sign_out("changing role")
        if tokens is None:
            raise SessionNotActive(NOT_SIGNED_IN)
        return self._begin(token_label, change_role=True)

    def _begin(self, token_label: str | None, *, change_role: bool) -> SessionState:
        cancelled = threading.Event()
        self._session.begin_sign_in()
        with self._lock:
            self._cancelled = cancelled
        try:
            return self._sign_in(token_label, cancelled, change_role=change_role)
        except BaseException as exc:
            reason = exc.user_message if isinstance(exc, ConsentDesktopError) else "sign-in did not complete"
            self._session.sign_in_failed(reason)
            raise
        finally:
            with self._lock:
                if self._cancelled is cancelled:
                    self._cancelled = None

    def cancel(self) -> None:
        """Stop waiting for the browser (from any thread); the sign-in then fails as cancelled."""
        with self._lock:
            if self._cancelled is not None:
                self._cancelled.set()

    def choose_role(self, role_profile_id: str) -> SpineIdentity:
        """Only when CIS2 selected no role (no ``selectedrole`` scope asked for, and no Identity Agent choice):
        CIS2 has no role-selection call, so the chosen role travels in each Spine message's author."""
        self._session.offered_role(role_profile_id)
        return self._session.choose_role(role_profile_id)

    def unlock(self, pin: bytearray, token_label: str | None = None) -> SessionState:
        """The same user's card and PIN resume the session while its tokens are valid; another user's card
        signs everyone out (IdentityMismatch), as does a session that expired while locked."""
        try:
            card = prove_card_for_unlock(self._session, self._token, pin, token_label)
            self._token.logout()  # the PIN is proven; nothing is signed with the card under CIS2
            return self._session.unlock(card)
        except BaseException:
            if self._session.state is SessionState.SIGNED_OUT:
                self._end_quietly(self._take_tokens())
            raise

    def sign_out(self) -> None:
        """Locally first, so nothing more can be sent; then the provider is told, if the sign-in was still
        live (an expired or already ended session only has its tokens forgotten)."""
        tokens = self._take_tokens()
        live = self._session.state is not SessionState.SIGNED_OUT
        self._session.sign_out()
        try:
            if tokens is not None and live:
                self._client.end_session(tokens)
        except SignInFailed as exc:
            raise SignInFailed(
                "You are signed out of this app, but the CIS2 sign-in service could not be told; your session "
                "there will end on its own.",
                exc.details,
            ) from exc
        finally:
            self._token.logout()

    # --- internals -------------------------------------------------------------------------------------------

    def _sign_in(self, token_label: str | None, cancelled: threading.Event, *, change_role: bool) -> SessionState:
        card = self._card_in_reader(token_label)
        with LoopbackReceiver(timeout=self._browser_timeout, port=self._redirect_port) as receiver:
            request = self._client.authorization_request(receiver.redirect_uri, change_role=change_role)
            if not self._browser(request.url):
                raise SignInFailed(
                    "No web browser could be opened to sign in with CIS2. Ask your IT team.",
                    "the system browser could not be started",
                )
            answer = receiver.wait(request.state, cancelled)
        tokens = self._client.redeem(request, answer)
        try:
            user = self._client.user(tokens)
            if card is not None and card.user_id != user.user_id:
                raise SignInFailed(
                    "The smartcard in the reader belongs to someone other than the person who signed in with CIS2, "
                    "so you were not signed in. Use your own smartcard and sign in again.",
                    "card certificate user id differs from the CIS2 user id",
                )
            if cancelled.is_set():
                raise SignInFailed("Sign-in was cancelled.", "CIS2 sign-in cancelled after the browser answered")
            with self._lock:
                self._tokens = tokens
            return self._session.sign_in_succeeded(
                CisSignIn(
                    user.user_id,
                    user.user_name,
                    user.roles,
                    CisTicket(tokens.access_token),
                    tokens.expires_in,
                    selected_role_id=tokens.selected_role,  # the session's role is CIS2's, never asked again
                )
            )
        except BaseException:
            self._end_quietly(self._take_tokens() or tokens)
            raise

    def _card_in_reader(self, token_label: str | None) -> CardIdentity | None:
        """The card to bind the sign-in to, read without a PIN; None when no card is in and policy allows it."""
        try:
            present = self._presence.card_present()
        except CardError:
            if self._lock_on_removal:
                raise
            return None
        if not present:
            if self._lock_on_removal:
                raise NoCard("CIS2 sign-in needs the card in the reader while auth.lock_on_card_removal is on")
            return None
        return self._token.read_identity(token_label)

    def _take_tokens(self) -> Cis2Tokens | None:
        with self._lock:
            tokens, self._tokens = self._tokens, None
            return tokens

    def _end_quietly(self, tokens: Cis2Tokens | None) -> None:
        """Best effort: a failure is logged, never raised, so it cannot hide the error that caused this."""
        if tokens is None:
            return
        try:
            self._client.end_session(tokens)
        except ConsentDesktopError as exc:
            log.warning("could not end the CIS2 session: %s", exc.details)

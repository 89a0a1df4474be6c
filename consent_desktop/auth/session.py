"""The sign-in session: one thread-safe state machine that every Spine request consults, and the RBAC check for
changing consent.

    SIGNED_OUT -> SIGNING_IN -> (CHOOSING_ROLE, when the user has several roles and the identity service has not
    selected one) -> ACTIVE <-> LOCKED -> SIGNED_OUT

Listeners are plain callables (no Qt here; the controller bridges them to signals). They hear every transition,
in order. No lock is held while they run, nor while the card reader is asked whether the card is still in, so a
slow card or a slow audit disk never makes a reader of the session's state (the GUI thread) wait.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from consent_desktop.auth.card import CardEvent, CardIdentity, CardPresence
from consent_desktop.config import AuthSettings
from consent_desktop.domain.errors import (
    CardError,
    IdentityMismatch,
    InvalidInput,
    NotAuthorised,
    SessionNotActive,
    SignInFailed,
)
from consent_desktop.domain.identity import RoleProfile, SpineIdentity

if TYPE_CHECKING:  # the CIS client's types only: the session itself never talks to a service
    from consent_desktop.auth.cis import CisSignIn, CisTicket

# National RBAC activity names, for messages; a code not listed here is shown by its code alone.
ACTIVITY_NAMES = {"B0020": "Record SCR consent preference"}


class SessionState(Enum):
    SIGNED_OUT = "signed out"
    SIGNING_IN = "signing in"
    CHOOSING_ROLE = "choosing role"
    ACTIVE = "active"
    LOCKED = "locked"


@dataclass(frozen=True)
class SessionChange:
    """One transition. The user and role are those of the session it concerns (for a sign-out, the user who was
    signed out), for display and audit; ``reason`` is plain English."""

    state: SessionState
    previous: SessionState
    reason: str
    user_id: str | None = None
    user_name: str | None = None
    role: RoleProfile | None = None


SessionListener = Callable[[SessionChange], None]


@dataclass(frozen=True)
class ChangeConsentCheck:
    """Whether the UI may offer "Change", and if not, the sentence that says why."""

    allowed: bool
    reason: str = ""


NOT_SIGNED_IN = "You are not signed in. Sign in with your smartcard."
EXPIRED = "Your session has expired. Sign in again with your smartcard."
_LOCKED_BY_REMOVAL = (
    "The session is locked because your smartcard was removed. Insert your smartcard and enter your passcode."
)
_LOCKED_BY_READER = (
    "The session is locked because the smartcard reader stopped responding. Check the reader, then insert your "
    "smartcard and enter your passcode."
)
_NOT_ACTIVE = {
    SessionState.SIGNED_OUT: NOT_SIGNED_IN,
    SessionState.SIGNING_IN: "Sign-in has not finished yet.",
    SessionState.CHOOSING_ROLE: "Choose the role you are working in before continuing.",
}


def consent_change_refusal(role: RoleProfile, required: Iterable[str]) -> NotAuthorised | None:
    """The refusal for a role that lacks an activity needed to change consent; None when it has them all."""
    missing = sorted(role.missing(frozenset(required)))
    if not missing:
        return None
    if not role.activities:  # the identity service gave this role no RBAC activity codes at all
        return NotAuthorised(
            f"The NHS sign-in service gave no activity codes for your role ({role.job_role_name}, {role.org_name}), "
            "so this app cannot tell whether it may change consent. You can still view it. To change consent, "
            "sign in with a role that includes B0020, or ask your Registration Authority.",
            missing,
        )
    named = [f'{code} "{ACTIVITY_NAMES[code]}"' if code in ACTIVITY_NAMES else code for code in missing]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    verb = "is" if len(named) == 1 else "are"
    return NotAuthorised(
        f"Your role ({role.job_role_name}, {role.org_name}) does not include {listed}, which {verb} needed to "
        "change consent. You can still view it.",
        missing,
    )


class Session:
    """Implements :class:`~consent_desktop.domain.identity.SessionGate`. Thread-safe.

    ``clock`` (seconds, monotonic) decides when the ticket lapses. With ``presence`` given and
    ``lock_on_card_removal`` on, :meth:`require_active` also checks the card is still in the reader, so a lost
    removal event cannot leave the session open.
    """

    def __init__(
        self,
        auth: AuthSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        presence: CardPresence | None = None,
    ) -> None:
        self._auth = auth
        self._clock = clock
        self._presence = presence
        self._lock = threading.Lock()  # held only to read or change fields: never across I/O or listeners
        self._listeners: list[SessionListener] = []
        self._state = SessionState.SIGNED_OUT
        self._moves = 0  # counts transitions, so a check made without the lock knows whether it is still current
        self._untold: deque[SessionChange] = deque()  # transitions made, in order, that listeners are yet to hear
        self._telling = False  # a thread is telling listeners; others leave their changes to it
        self._clear()

    def _clear(self) -> None:
        self._user_id: str | None = None
        self._user_name: str | None = None
        self._roles: dict[str, RoleProfile] = {}
        self._identity: SpineIdentity | None = None
        self._ticket: CisTicket | None = None
        self._deadline = 0.0
        self._resume = SessionState.ACTIVE  # where unlocking returns to
        self._lock_message = _LOCKED_BY_REMOVAL
        self._card_left_during_sign_in = False

    # --- reading ---------------------------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        with self._lock:
            return self._state

    @property
    def user_id(self) -> str | None:
        with self._lock:
            return self._user_id

    @property
    def user_name(self) -> str | None:
        with self._lock:
            return self._user_name

    @property
    def offered_roles(self) -> tuple[RoleProfile, ...]:
        """The signed-in user's roles, in the order the service listed them."""
        with self._lock:
            return tuple(self._roles.values())

    @property
    def ticket(self) -> CisTicket | None:
        """The service ticket of the current sign-in, needed to choose a role and to sign out."""
        with self._lock:
            return self._ticket

    def add_listener(self, listener: SessionListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: SessionListener) -> None:
        with self._lock:
            self._listeners.remove(listener)

    def require_active(self) -> SpineIdentity:
        """The active identity. With card checks on, the reader is asked without the lock held; if the session
        moved meanwhile, it is checked again as it now is."""
        while True:
            with self._changing():
                identity = self._active()
                moves = self._moves
            self._check_card_present(moves)
            with self._lock:
                if self._moves == moves:
                    return identity

    def change_consent_check(self) -> ChangeConsentCheck:
        """For greying out "Change": the chosen role's RBAC only (no transition, no card check)."""
        with self._lock:
            if self._identity is None:
                return ChangeConsentCheck(False, "Sign in and choose a role to change consent.")
            refusal = consent_change_refusal(self._identity.role, self._auth.change_consent_activities)
        return ChangeConsentCheck(refusal is None, refusal.user_message if refusal else "")

    def require_change_consent(self) -> SpineIdentity:
        """The active identity, if its role may change consent; else NotAuthorised naming what is missing."""
        identity = self.require_active()
        refusal = consent_change_refusal(identity.role, self._auth.change_consent_activities)
        if refusal is not None:
            raise refusal
        return identity

    # --- transitions -----------------------------------------------------------------------------------------

    def begin_sign_in(self) -> None:
        with self._changing():
            if self._state is SessionState.SIGNING_IN:
                raise SignInFailed("A sign-in is already in progress.", "sign-in requested while signing in")
            if self._state is not SessionState.SIGNED_OUT:
                raise SignInFailed(
                    "Someone is already signed in. Sign out first.", f"sign-in requested while {self._state.value}"
                )
            self._clear()
            self._move(SessionState.SIGNING_IN, "sign-in started")

    def sign_in_failed(self, reason: str) -> None:
        """Back to signed out, if this sign-in is still the one in progress."""
        with self._changing():
            if self._state is SessionState.SIGNING_IN:
                self._move(SessionState.SIGNED_OUT, reason, discard=True)

    def sign_in_succeeded(self, signed_in: CisSignIn) -> SessionState:
        """A role the identity service selected, or the only one: active at once, in that role. Otherwise the
        user chooses. A card removed meanwhile: locked."""
        with self._changing():
            if self._state is not SessionState.SIGNING_IN:
                raise SessionNotActive("The sign-in was cancelled before it finished.")
            problem = _unusable(signed_in)
            if problem is not None:
                self._move(SessionState.SIGNED_OUT, problem.user_message, discard=True)
                raise problem
            self._user_id = signed_in.user_id
            self._user_name = signed_in.user_name
            self._roles = {role.role_profile_id: role for role in signed_in.roles}
            self._ticket = signed_in.ticket
            self._deadline = self._clock() + signed_in.expires_in
            selected = signed_in.selected_role_id or (
                signed_in.roles[0].role_profile_id if len(self._roles) == 1 else None
            )
            if selected is not None:
                self._identity = SpineIdentity(signed_in.user_id, signed_in.user_name, self._roles[selected])
                target = SessionState.ACTIVE
            else:
                target = SessionState.CHOOSING_ROLE
            if self._card_left_during_sign_in and self._auth.lock_on_card_removal:
                self._resume = target
                self._move(SessionState.LOCKED, "smartcard removed during sign-in")
            else:
                self._move(target, "signed in" if target is SessionState.ACTIVE else "signed in: choose a role")
            return self._state

    def offered_role(self, role_profile_id: str) -> RoleProfile:
        """The offered role with this id, while the user is choosing; checked before asking the service."""
        with self._lock:
            return self._offered(role_profile_id)

    def choose_role(self, role_profile_id: str, confirmed: RoleProfile | None = None) -> SpineIdentity:
        """``confirmed``: the role as the identity service confirmed it once selected (the legacy route's SAML
        RoleAssertion, with its job-role and activity codes); it replaces the offered one."""
        with self._changing():
            role = self._offered(role_profile_id)
            if confirmed is not None:
                if confirmed.role_profile_id != role_profile_id:
                    raise SignInFailed(_OTHER_ROLE, "role confirmed by the identity service is not the one chosen")
                role = self._roles[role_profile_id] = confirmed
            assert self._user_id is not None and self._user_name is not None
            try:
                self._identity = SpineIdentity(self._user_id, self._user_name, role)
            except ValueError as exc:
                raise SignInFailed(_INCOMPLETE, f"identity unusable: {exc}") from None
            self._move(SessionState.ACTIVE, "role chosen")
            return self._identity

    def card_event(self, event: CardEvent) -> None:
        """From card presence. "removed" and "failed" (presence unknown) lock the session when policy says so."""
        if event.kind not in ("removed", "failed") or not self._auth.lock_on_card_removal:
            return
        with self._changing():
            if self._state is SessionState.SIGNING_IN:
                self._card_left_during_sign_in = True
            elif self._state in (SessionState.ACTIVE, SessionState.CHOOSING_ROLE):
                reader_failed = event.kind == "failed"
                self._lock_session(
                    _LOCKED_BY_READER if reader_failed else _LOCKED_BY_REMOVAL,
                    "smartcard reader stopped responding" if reader_failed else "smartcard removed",
                )

    def require_locked(self) -> None:
        """Refuse, before anyone types a PIN, to unlock a session that is not locked or has expired."""
        with self._changing():
            self._locked()

    def unlock(self, card: CardIdentity, renewed: CisSignIn | None = None) -> SessionState:
        """With the card just logged in again: the same user resumes; anyone else ends the session.

        ``renewed``: a fresh sign-in made for this unlock (the legacy route ends its ticket when the card leaves).
        It replaces the ticket and roles; the session resumes in the role it had, as the service now describes it,
        and only if the service selected that same role."""
        with self._changing():
            self._locked()
            if card.user_id != self._user_id or (renewed is not None and renewed.user_id != self._user_id):
                self._move(SessionState.SIGNED_OUT, "a different smartcard was used to unlock", discard=True)
                raise IdentityMismatch()
            if renewed is not None:
                self._renew(renewed)
            self._move(self._resume, "unlocked")
            return self._state

    def expire_if_due(self) -> bool:
        """Sign out if the ticket has lapsed; True when that happened. Also for the controller's timer."""
        with self._changing():
            return self._expire_if_due()

    def sign_out(self, reason: str = "signed out") -> None:
        """From any state; every trace of the user is discarded."""
        with self._changing():
            if self._state is SessionState.SIGNED_OUT:
                self._clear()
            else:
                self._move(SessionState.SIGNED_OUT, reason, discard=True)

    # --- internals: the methods below expect the lock held, except where they say otherwise ---------------------

    def _expire_if_due(self) -> bool:
        if self._ticket is None or self._clock() < self._deadline:
            return False
        self._move(SessionState.SIGNED_OUT, "session expired", discard=True)
        return True

    def _active(self) -> SpineIdentity:
        """The identity of an active session, else SessionNotActive saying why."""
        if self._expire_if_due():
            raise SessionNotActive(EXPIRED)
        if self._state is SessionState.LOCKED:
            raise SessionNotActive(self._lock_message)
        if self._state is not SessionState.ACTIVE:
            raise SessionNotActive(_NOT_ACTIVE[self._state])
        assert self._identity is not None
        return self._identity

    def _locked(self) -> None:
        if self._expire_if_due():
            raise SessionNotActive(EXPIRED)
        if self._state is not SessionState.LOCKED:
            raise SessionNotActive(_NOT_ACTIVE.get(self._state, "The session is not locked."))

    def _offered(self, role_profile_id: str) -> RoleProfile:
        self._require_choosing()
        role = self._roles.get(role_profile_id)
        if role is None:
            raise InvalidInput("role", "That role is not one of yours. Choose one of the roles listed.")
        return role

    def _renew(self, renewed: CisSignIn) -> None:
        """While locked."""
        held = self._identity.role.role_profile_id if self._identity is not None else None
        if renewed.selected_role_id != held or _unusable(renewed) is not None:
            self._move(SessionState.SIGNED_OUT, "the renewed sign-in did not keep the session's role", discard=True)
            raise SignInFailed(_OTHER_ROLE, "renewed sign-in selected another role, or none")
        self._roles = {role.role_profile_id: role for role in renewed.roles}
        self._ticket = renewed.ticket
        self._deadline = self._clock() + renewed.expires_in
        if held is not None:
            assert self._user_id is not None and self._user_name is not None
            self._identity = SpineIdentity(self._user_id, self._user_name, self._roles[held])

    def _require_choosing(self) -> None:
        if self._state is SessionState.CHOOSING_ROLE:
            return
        if self._state is SessionState.LOCKED:
            raise SessionNotActive(self._lock_message)
        if self._state is SessionState.ACTIVE:
            raise SessionNotActive("A role has already been chosen for this session.")
        raise SessionNotActive(_NOT_ACTIVE[self._state])

    def _check_card_present(self, moves: int) -> None:
        """Without the lock (the reader may be slow): ask whether the card is in. If not, lock the session, unless
        it has moved on since ``moves`` (then the caller checks it again as it is)."""
        if self._presence is None or not self._auth.lock_on_card_removal:
            return
        try:
            present = self._presence.card_present()
        except CardError:
            self._lock_if_unmoved(moves, _LOCKED_BY_READER, "smartcard reader stopped responding")
            raise
        if not present:
            self._lock_if_unmoved(moves, _LOCKED_BY_REMOVAL, "smartcard not in the reader")
            raise SessionNotActive(_LOCKED_BY_REMOVAL)

    def _lock_if_unmoved(self, moves: int, message: str, reason: str) -> None:
        """Without the lock held."""
        with self._changing():
            if self._moves == moves:
                self._lock_session(message, reason)

    def _lock_session(self, message: str, reason: str) -> None:
        self._resume = self._state
        self._lock_message = message
        self._move(SessionState.LOCKED, reason)

    def _move(self, state: SessionState, reason: str, *, discard: bool = False) -> None:
        """The new state (and, with ``discard``, the loss of every trace of the user) takes effect at once;
        listeners hear of it when the lock is let go (see :meth:`_changing`)."""
        self._untold.append(
            SessionChange(
                state,
                self._state,
                reason,
                self._user_id,
                self._user_name,
                self._identity.role if self._identity else None,
            )
        )
        self._state = state
        self._moves += 1
        if discard:
            self._clear()

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """Hold the lock for a transition; once it is let go (whatever happened), tell listeners what moved."""
        try:
            with self._lock:
                yield
        finally:
            self._tell()

    def _tell(self) -> None:
        """Without the lock held: listeners hear every untold change, in order, on one thread at a time (a thread
        that finds another telling leaves its changes to it). Every listener hears each change even if an earlier
        one fails (a broken audit listener must not stop the screen being blanked); the first failure is then
        raised."""
        failures: list[Exception] = []
        while True:
            with self._lock:
                if self._telling or not self._untold:
                    break
                self._telling = True
                change = self._untold.popleft()
                listeners = list(self._listeners)
            try:
                for listener in listeners:
                    try:
                        listener(change)
                    except Exception as exc:  # re-raised below, once every listener has heard
                        failures.append(exc)
            finally:
                with self._lock:
                    self._telling = False
        if failures:
            raise failures[0]


_INCOMPLETE = "The sign-in service's details for your smartcard are incomplete. Contact your Registration Authority."
_OTHER_ROLE = (
    "The sign-in service did not confirm the role you are working in, so you were signed out. Sign in again and "
    "choose your role."
)


def _unusable(signed_in: CisSignIn) -> SignInFailed | None:
    """Roles may still lack their codes while offered (the legacy route reads them once one is selected); a
    selected role must be one of the user's, and complete."""
    if not signed_in.roles:
        return SignInFailed(
            "Your smartcard has no roles, so you cannot work in this app. Contact your Registration Authority.",
            "the identity service returned no role profiles",
        )
    roles = {role.role_profile_id: role for role in signed_in.roles}
    selected = signed_in.selected_role_id
    if selected is not None and selected not in roles:
        return SignInFailed(
            "The NHS sign-in service selected a role that is not one of yours, so you were not signed in. Sign in "
            "again; if it keeps happening, ask your IT team.",
            "selected role is not among the user's role profiles",
        )
    try:
        for role in signed_in.roles:
            if not role.role_profile_id:
                raise ValueError("a role has no role profile id")
            if role.job_role_code or role.role_profile_id == selected or len(roles) == 1:
                SpineIdentity(signed_in.user_id, signed_in.user_name, role)
    except ValueError as exc:
        return SignInFailed(_INCOMPLETE, f"identity unusable: {exc}")
    return None

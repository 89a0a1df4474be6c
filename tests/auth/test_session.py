"""The session state machine on its own: fake clock, fake card presence, sign-in results built by hand."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from consent_desktop.auth.card import CardEvent, CardIdentity
from consent_desktop.auth.cis import CisSignIn, CisTicket
from consent_desktop.auth.session import Session, SessionChange, SessionState, consent_change_refusal
from consent_desktop.config import AuthSettings
from consent_desktop.domain.errors import (
    IdentityMismatch,
    InvalidInput,
    NoReader,
    NotAuthorised,
    SessionNotActive,
    SignInFailed,
)
from consent_desktop.sandbox import users
from tests.fakes import FakePresence

MEDICAL_SECRETARY_REFUSAL = (
    'Your role (Medical Secretary, Riverside Surgery) does not include B0020 "Record SCR consent preference", '
    "which is needed to change consent. You can still view it."
)
LOCKED_BY_REMOVAL = (
    "The session is locked because your smartcard was removed. Insert your smartcard and enter your passcode."
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def signed_in(user: users.SandboxUser, *, expires_in: float = 600.0) -> CisSignIn:
    return CisSignIn(user.user_id, user.name, user.roles, CisTicket(f"ticket-{user.user_id}"), expires_in)


def card_of(user: users.SandboxUser) -> CardIdentity:
    return CardIdentity(user.user_id, f"CN={user.user_id},OU=people,O=nhs", "CN=SubCA", datetime.now(UTC), b"")


class Rig:
    def __init__(self, *, lock_on_card_removal: bool = True) -> None:
        self.clock = Clock()
        self.presence = FakePresence()
        self.session = Session(
            AuthSettings(lock_on_card_removal=lock_on_card_removal), clock=self.clock, presence=self.presence
        )
        self.presence.start(self.session.card_event)
        self.heard: list[SessionChange] = []
        self.session.add_listener(self.heard.append)

    def sign_in(self, user: users.SandboxUser, **kwargs: float) -> SessionState:
        self.session.begin_sign_in()
        return self.session.sign_in_succeeded(signed_in(user, **kwargs))

    @property
    def states(self) -> list[SessionState]:
        return [change.state for change in self.heard]


@pytest.fixture
def rig() -> Rig:
    return Rig()


def refusal_of(session: Session) -> str:
    with pytest.raises(SessionNotActive) as caught:
        session.require_active()
    return caught.value.user_message


@pytest.mark.hazard("HAZ-007")
def test_nobody_signed_in_is_refused_with_a_plain_message(rig: Rig) -> None:
    assert refusal_of(rig.session) == "You are not signed in. Sign in with your smartcard."


def test_one_role_makes_the_session_active_at_once(rig: Rig) -> None:
    assert rig.sign_in(users.RECEPTIONIST) is SessionState.ACTIVE

    identity = rig.session.require_active()
    assert (identity.user_id, identity.user_name) == ("555000000001", "Alex Morgan")
    assert identity.role == users.RECEPTIONIST.roles[0]
    assert rig.states == [SessionState.SIGNING_IN, SessionState.ACTIVE]
    assert rig.heard[-1].user_name == "Alex Morgan"
    assert rig.heard[-1].role == users.RECEPTIONIST.roles[0]


def test_several_roles_wait_for_a_choice(rig: Rig) -> None:
    assert rig.sign_in(users.GP) is SessionState.CHOOSING_ROLE
    assert rig.session.offered_roles == users.GP.roles
    assert refusal_of(rig.session) == "Choose the role you are working in before continuing."

    identity = rig.session.choose_role("555254240103")

    assert identity.role.org_name == "Hillside Medical Centre"
    assert rig.session.require_active() == identity
    assert rig.heard[-1] == SessionChange(
        SessionState.ACTIVE, SessionState.CHOOSING_ROLE, "role chosen", "555000000002", "Dr Sam Patel", identity.role
    )


@pytest.mark.hazard("HAZ-005")
def test_a_role_not_offered_is_refused_and_changes_nothing(rig: Rig) -> None:
    rig.sign_in(users.GP)

    with pytest.raises(InvalidInput) as caught:
        rig.session.choose_role(users.RECEPTIONIST.roles[0].role_profile_id)

    assert caught.value.user_message == "That role is not one of yours. Choose one of the roles listed."
    assert rig.session.state is SessionState.CHOOSING_ROLE


@pytest.mark.hazard("HAZ-005")
def test_a_role_without_b0020_may_view_but_not_change(rig: Rig) -> None:
    rig.sign_in(users.ADMIN_NO_B0020)

    assert rig.session.require_active().user_id == "555000000003"  # viewing is allowed
    check = rig.session.change_consent_check()
    assert not check.allowed
    assert check.reason == MEDICAL_SECRETARY_REFUSAL
    with pytest.raises(NotAuthorised) as caught:
        rig.session.require_change_consent()
    assert caught.value.user_message == MEDICAL_SECRETARY_REFUSAL
    assert caught.value.missing_activities == ("B0020",)


@pytest.mark.hazard("HAZ-005")
def test_a_role_with_b0020_may_change(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST)

    assert rig.session.change_consent_check().allowed
    assert rig.session.require_change_consent().role.activities >= {"B0020"}


@pytest.mark.hazard("HAZ-005")
def test_the_refusal_names_every_missing_activity() -> None:
    refusal = consent_change_refusal(users.ADMIN_NO_B0020.roles[0], ("B0020", "B8029"))

    assert refusal is not None
    assert 'does not include B0020 "Record SCR consent preference" and B8029, which are needed' in (
        refusal.user_message
    )


@pytest.mark.hazard("HAZ-005")
def test_without_a_role_change_is_not_offered(rig: Rig) -> None:
    rig.sign_in(users.GP)

    assert rig.session.change_consent_check().reason == "Sign in and choose a role to change consent."


@pytest.mark.hazard("HAZ-007")
def test_removing_the_card_locks_the_session(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST)

    rig.presence.fire("removed")

    assert rig.session.state is SessionState.LOCKED
    assert refusal_of(rig.session) == LOCKED_BY_REMOVAL
    assert rig.heard[-1].reason == "smartcard removed"
    assert rig.heard[-1].user_name == "Alex Morgan"


@pytest.mark.hazard("HAZ-007")
def test_losing_track_of_the_reader_locks_the_session(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST)

    rig.presence.fire("failed")

    assert rig.session.state is SessionState.LOCKED
    assert "the smartcard reader stopped responding" in refusal_of(rig.session)


@pytest.mark.hazard("HAZ-007")
def test_a_missed_removal_is_caught_before_a_request(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST)
    rig.presence.present = False  # the event never arrived

    assert refusal_of(rig.session) == LOCKED_BY_REMOVAL
    assert rig.session.state is SessionState.LOCKED


@pytest.mark.hazard("HAZ-007")
def test_a_reader_that_cannot_be_asked_locks_the_session(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST)
    rig.presence.broken = True

    with pytest.raises(NoReader):
        rig.session.require_active()
    assert rig.session.state is SessionState.LOCKED


def test_with_the_policy_off_removal_does_not_lock() -> None:
    rig = Rig(lock_on_card_removal=False)
    rig.sign_in(users.RECEPTIONIST)

    rig.presence.fire("removed")

    assert rig.session.require_active().user_id == "555000000001"


def test_scripted_removal_and_reinsertion(rig: Rig) -> None:
    rig.presence = FakePresence([CardEvent("removed"), CardEvent("inserted")])
    rig.presence.start(rig.session.card_event)
    rig.sign_in(users.RECEPTIONIST)

    rig.presence.next_event()
    rig.presence.next_event()  # putting a card back proves nothing until its PIN is entered

    assert rig.session.state is SessionState.LOCKED


@pytest.mark.hazard("HAZ-007")
def test_unlocking_with_the_same_card_resumes(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST)
    rig.presence.fire("removed")
    rig.presence.fire("inserted")

    assert rig.session.unlock(card_of(users.RECEPTIONIST)) is SessionState.ACTIVE
    assert rig.session.require_active().role == users.RECEPTIONIST.roles[0]
    assert rig.heard[-1].reason == "unlocked"


def test_unlocking_while_choosing_returns_to_the_choice(rig: Rig) -> None:
    rig.sign_in(users.GP)
    rig.presence.fire("removed")

    with pytest.raises(SessionNotActive):
        rig.session.choose_role("555254240102")

    assert rig.session.unlock(card_of(users.GP)) is SessionState.CHOOSING_ROLE


@pytest.mark.hazard("HAZ-005", "HAZ-007")
def test_unlocking_with_another_card_signs_out_and_forgets_everything(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST)
    rig.presence.fire("removed")

    with pytest.raises(IdentityMismatch) as caught:
        rig.session.unlock(card_of(users.GP))

    assert caught.value.user_message.startswith("This is a different smartcard")
    assert rig.session.state is SessionState.SIGNED_OUT
    assert rig.session.user_name is None
    assert rig.session.ticket is None
    assert rig.session.offered_roles == ()
    assert rig.session.change_consent_check().allowed is False
    assert refusal_of(rig.session) == "You are not signed in. Sign in with your smartcard."
    assert rig.heard[-1].reason == "a different smartcard was used to unlock"
    assert rig.heard[-1].user_name == "Alex Morgan"  # who was signed out, for the audit log


def test_an_active_session_cannot_be_unlocked(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST)

    with pytest.raises(SessionNotActive):
        rig.session.unlock(card_of(users.GP))
    assert rig.session.state is SessionState.ACTIVE


@pytest.mark.hazard("HAZ-007")
def test_an_expired_ticket_signs_out(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST, expires_in=600)
    rig.clock.now += 599
    assert rig.session.require_active().user_id == "555000000001"

    rig.clock.now += 1

    assert refusal_of(rig.session) == "Your session has expired. Sign in again with your smartcard."
    assert rig.session.state is SessionState.SIGNED_OUT
    assert rig.session.ticket is None
    assert rig.heard[-1].reason == "session expired"


@pytest.mark.hazard("HAZ-007")
def test_a_session_that_expired_while_locked_cannot_be_unlocked(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST, expires_in=60)
    rig.presence.fire("removed")
    rig.clock.now += 61

    with pytest.raises(SessionNotActive) as caught:
        rig.session.unlock(card_of(users.RECEPTIONIST))

    assert caught.value.user_message == "Your session has expired. Sign in again with your smartcard."
    assert rig.session.state is SessionState.SIGNED_OUT


@pytest.mark.hazard("HAZ-007")
def test_the_expiry_timer_signs_out_without_a_request(rig: Rig) -> None:
    rig.sign_in(users.GP, expires_in=60)
    assert not rig.session.expire_if_due()

    rig.clock.now += 60

    assert rig.session.expire_if_due()
    assert rig.states[-1] is SessionState.SIGNED_OUT


@pytest.mark.hazard("HAZ-007")
def test_a_card_removed_during_sign_in_locks_when_it_completes(rig: Rig) -> None:
    rig.session.begin_sign_in()
    rig.presence.fire("removed")

    assert rig.session.sign_in_succeeded(signed_in(users.RECEPTIONIST)) is SessionState.LOCKED
    assert refusal_of(rig.session) == LOCKED_BY_REMOVAL
    assert rig.session.unlock(card_of(users.RECEPTIONIST)) is SessionState.ACTIVE


def test_a_failed_sign_in_returns_to_signed_out(rig: Rig) -> None:
    rig.session.begin_sign_in()

    rig.session.sign_in_failed("The passcode was not correct.")

    assert rig.session.state is SessionState.SIGNED_OUT
    assert rig.heard[-1].reason == "The passcode was not correct."


@pytest.mark.hazard("HAZ-005")
def test_a_user_without_roles_cannot_sign_in(rig: Rig) -> None:
    rig.session.begin_sign_in()

    with pytest.raises(SignInFailed) as caught:
        rig.session.sign_in_succeeded(replace(signed_in(users.RECEPTIONIST), roles=()))

    assert "has no roles" in caught.value.user_message
    assert rig.session.state is SessionState.SIGNED_OUT


def test_a_second_sign_in_is_refused_while_someone_is_signed_in(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST)

    with pytest.raises(SignInFailed) as caught:
        rig.session.begin_sign_in()

    assert caught.value.user_message == "Someone is already signed in. Sign out first."
    assert rig.session.require_active().user_id == "555000000001"


def test_a_sign_in_cancelled_by_sign_out_does_not_become_active(rig: Rig) -> None:
    rig.session.begin_sign_in()
    rig.session.sign_out()

    with pytest.raises(SessionNotActive):
        rig.session.sign_in_succeeded(signed_in(users.RECEPTIONIST))
    assert rig.session.state is SessionState.SIGNED_OUT


@pytest.mark.hazard("HAZ-007")
def test_sign_out_forgets_the_user(rig: Rig) -> None:
    rig.sign_in(users.GP)
    rig.session.choose_role("555254240102")

    rig.session.sign_out()

    assert rig.session.state is SessionState.SIGNED_OUT
    assert (rig.session.user_name, rig.session.ticket, rig.session.offered_roles) == (None, None, ())
    assert rig.heard[-1].previous is SessionState.ACTIVE
    assert rig.heard[-1].reason == "signed out"


@pytest.mark.hazard("HAZ-007")
def test_every_listener_hears_a_lock_even_if_one_fails(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST)

    def broken(_change: SessionChange) -> None:
        raise RuntimeError("audit disk full")

    later: list[SessionState] = []
    rig.session.add_listener(broken)
    rig.session.add_listener(lambda change: later.append(change.state))

    with pytest.raises(RuntimeError, match="audit disk full"):
        rig.presence.fire("removed")

    assert later == [SessionState.LOCKED]
    assert rig.session.state is SessionState.LOCKED


@pytest.mark.hazard("HAZ-007")
def test_a_removal_on_another_thread_stops_the_next_request(rig: Rig) -> None:
    rig.sign_in(users.RECEPTIONIST)

    presence_thread = threading.Thread(target=rig.presence.fire, args=("removed",))
    presence_thread.start()
    presence_thread.join()

    assert refusal_of(rig.session) == LOCKED_BY_REMOVAL


class HeldCardCheck(FakePresence):
    """A reader whose "is the card in?" does not answer until the test lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = threading.Event()
        self.answer = threading.Event()

    def card_present(self) -> bool:
        self.asked.set()
        assert self.answer.wait(10), "the test never let the reader answer"
        return super().card_present()


def answers_at_once(read: Callable[[], object]) -> bool:
    """Whether ``read`` returns within a second on another thread (it would block on a lock held elsewhere)."""
    done = threading.Event()
    reader = threading.Thread(target=lambda: (read(), done.set()), daemon=True)
    reader.start()
    return done.wait(1.0)


@pytest.mark.hazard("HAZ-009")
def test_the_state_can_be_read_while_the_reader_is_slow_to_answer() -> None:
    presence = HeldCardCheck()
    session = Session(AuthSettings(), presence=presence)
    session.begin_sign_in()
    session.sign_in_succeeded(signed_in(users.RECEPTIONIST))
    request = threading.Thread(target=session.require_active)
    request.start()
    assert presence.asked.wait(5)

    assert answers_at_once(lambda: session.state)  # the GUI thread's question
    assert answers_at_once(session.change_consent_check)

    presence.answer.set()
    request.join()


@pytest.mark.hazard("HAZ-007")
def test_a_card_pulled_while_the_reader_was_asked_still_refuses_the_request() -> None:
    presence = HeldCardCheck()
    session = Session(AuthSettings(), presence=presence)
    presence.start(session.card_event)
    session.begin_sign_in()
    session.sign_in_succeeded(signed_in(users.RECEPTIONIST))
    refused: list[BaseException] = []

    def request() -> None:
        try:
            session.require_active()
        except SessionNotActive as error:
            refused.append(error)

    asking = threading.Thread(target=request)
    asking.start()
    assert presence.asked.wait(5)
    presence.fire("removed")  # the removal event arrives while the reader is being asked (and says "present")
    presence.present = True
    presence.answer.set()
    asking.join()

    assert [error.user_message for error in refused] == [LOCKED_BY_REMOVAL]  # checked again as it now is


@pytest.mark.hazard("HAZ-007", "HAZ-009")
def test_the_state_can_be_read_while_a_listener_is_slow() -> None:
    """A listener that takes its time (the audit on a slow disk) holds up nobody who only asks the state."""
    rig = Rig()
    rig.sign_in(users.RECEPTIONIST)
    writing, finish = threading.Event(), threading.Event()

    def slow_audit(change: SessionChange) -> None:
        writing.set()
        assert finish.wait(10), "the test never let the listener finish"

    rig.session.add_listener(slow_audit)
    removal = threading.Thread(target=rig.presence.fire, args=("removed",))
    removal.start()
    assert writing.wait(5)

    assert answers_at_once(lambda: rig.session.state)
    assert rig.session.state is SessionState.LOCKED  # the new state holds before every listener has heard

    finish.set()
    removal.join()


def test_listeners_hear_transitions_from_several_threads_in_order() -> None:
    """A transition made while another thread is telling listeners is told after it, never before."""
    rig = Rig()
    rig.sign_in(users.RECEPTIONIST)
    telling, finish = threading.Event(), threading.Event()
    order: list[SessionState] = []

    def slow_first(change: SessionChange) -> None:
        if change.state is SessionState.LOCKED:
            telling.set()
            assert finish.wait(10)
        order.append(change.state)

    rig.session.add_listener(slow_first)
    removal = threading.Thread(target=rig.presence.fire, args=("removed",))
    removal.start()
    assert telling.wait(5)
    rig.session.sign_out()  # returns at once: the lock's telling is still under way, and tells this after it
    finish.set()
    removal.join()

    assert order == [SessionState.LOCKED, SessionState.SIGNED_OUT]
    assert rig.states[-2:] == [SessionState.LOCKED, SessionState.SIGNED_OUT]

"""The sign-in flow end to end: fake cards from the sandbox's card CA, the sandbox's CIS service over HTTPS,
and the real session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from consent_desktop.auth.cis import CisClient, CisTicket
from consent_desktop.auth.session import Session, SessionChange, SessionState
from consent_desktop.auth.sign_in import SignInFlow
from consent_desktop.config import Settings
from consent_desktop.domain.errors import (
    IdentityMismatch,
    InvalidInput,
    PinIncorrect,
    PinLocked,
    SessionNotActive,
    SignInFailed,
)
from consent_desktop.sandbox import users
from consent_desktop.sandbox.runtime import Sandbox
from tests.fakes import FakeCard, FakeCardToken, FakePresence, card_for_user

PIN = users.TRAINING_PIN


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Rig:
    def __init__(self, sandbox: Sandbox, settings: Settings) -> None:
        self.sandbox = sandbox
        self.card_ca = sandbox.data.card_ca()
        self.token = FakeCardToken()
        self.presence = FakePresence()
        self.clock = Clock()
        self.session = Session(settings.auth, clock=self.clock, presence=self.presence)
        self.presence.start(self.session.card_event)
        self.heard: list[SessionChange] = []
        self.session.add_listener(self.heard.append)
        self.cis = CisClient.from_settings(settings)
        self.flow = SignInFlow(self.token, self.cis, self.session)

    def insert(self, user: users.SandboxUser) -> FakeCard:
        card = card_for_user(self.card_ca, user)
        self.token.insert(card)
        self.presence.fire("inserted")
        return card

    def remove(self) -> None:
        self.token.remove()
        self.presence.fire("removed")

    def ticket_is_live(self, ticket_value: str) -> bool:
        try:
            self.cis.select_role(CisTicket(ticket_value), "000000000000")
        except SessionNotActive:
            return False
        except SignInFailed:
            return True  # the ticket was accepted; the made-up role was not
        raise AssertionError("a made-up role was accepted")


@pytest.fixture
def rig(sandbox: Sandbox, sandbox_settings: Settings) -> Iterator[Rig]:
    built = Rig(sandbox, sandbox_settings)
    yield built
    built.cis.close()


def pin(text: str = PIN) -> bytearray:
    return bytearray(text.encode())


def test_a_receptionist_signs_in_and_is_active(rig: Rig) -> None:
    rig.insert(users.RECEPTIONIST)
    typed = pin()

    assert rig.flow.sign_in(typed) is SessionState.ACTIVE

    identity = rig.session.require_active()
    assert (identity.user_id, identity.user_name) == ("555000000001", "Alex Morgan")
    assert identity.role.role_profile_id == "555254240101"
    assert typed == bytearray(len(PIN))  # the PIN is gone from memory
    assert rig.token.logged_in
    ticket = rig.session.ticket
    assert ticket is not None
    assert rig.sandbox.cis is not None
    assert rig.sandbox.cis.selected_role(ticket.value) == "555254240101"  # the one role was selected at CIS


def test_a_gp_with_two_roles_chooses_one(rig: Rig) -> None:
    rig.insert(users.GP)

    assert rig.flow.sign_in(pin()) is SessionState.CHOOSING_ROLE
    assert [role.org_name for role in rig.session.offered_roles] == ["Riverside Surgery", "Hillside Medical Centre"]

    identity = rig.flow.choose_role("555254240103")

    assert identity.role.org_code == "B82002"
    assert rig.session.require_active() == identity
    ticket = rig.session.ticket
    assert ticket is not None
    assert rig.sandbox.cis is not None
    assert rig.sandbox.cis.selected_role(ticket.value) == "555254240103"


def test_choosing_a_role_not_offered_never_reaches_the_service(rig: Rig) -> None:
    rig.insert(users.GP)
    rig.flow.sign_in(pin())

    with pytest.raises(InvalidInput):
        rig.flow.choose_role(users.RECEPTIONIST.roles[0].role_profile_id)

    ticket = rig.session.ticket
    assert ticket is not None
    assert rig.sandbox.cis is not None
    assert rig.sandbox.cis.selected_role(ticket.value) is None
    assert rig.session.state is SessionState.CHOOSING_ROLE


@pytest.mark.hazard("HAZ-005")
def test_a_secretary_may_view_but_changing_consent_is_refused(rig: Rig) -> None:
    rig.insert(users.ADMIN_NO_B0020)
    rig.flow.sign_in(pin())

    assert rig.session.require_active().role.job_role_name == "Medical Secretary"
    check = rig.session.change_consent_check()
    assert not check.allowed
    assert check.reason == (
        'Your role (Medical Secretary, Riverside Surgery) does not include B0020 "Record SCR consent '
        'preference", which is needed to change consent. You can still view it.'
    )


@pytest.mark.hazard("HAZ-007")
def test_removing_the_card_locks_and_the_same_card_unlocks(rig: Rig) -> None:
    card = rig.insert(users.RECEPTIONIST)
    rig.flow.sign_in(pin())

    rig.remove()

    assert rig.session.state is SessionState.LOCKED
    with pytest.raises(SessionNotActive):
        rig.session.require_active()

    rig.token.insert(card)
    rig.presence.fire("inserted")
    typed = pin()
    assert rig.flow.unlock(typed) is SessionState.ACTIVE
    assert typed == bytearray(len(PIN))
    assert rig.session.require_active().user_id == "555000000001"
    assert rig.token.login_attempts == 2


@pytest.mark.hazard("HAZ-005", "HAZ-007")
def test_unlocking_with_another_users_card_signs_everyone_out(rig: Rig) -> None:
    rig.insert(users.RECEPTIONIST)
    rig.flow.sign_in(pin())
    ticket = rig.session.ticket
    assert ticket is not None
    rig.remove()
    rig.insert(users.GP)

    with pytest.raises(IdentityMismatch):
        rig.flow.unlock(pin())

    assert rig.session.state is SessionState.SIGNED_OUT
    assert (rig.session.user_name, rig.session.ticket, rig.session.offered_roles) == (None, None, ())
    assert not rig.token.logged_in  # the other user's card is not left logged in
    assert not rig.ticket_is_live(ticket.value)  # and the first user's ticket was ended at CIS


def test_a_wrong_pin_at_unlock_stays_locked(rig: Rig) -> None:
    rig.insert(users.RECEPTIONIST)
    rig.flow.sign_in(pin())
    rig.presence.fire("removed")

    with pytest.raises(PinIncorrect):
        rig.flow.unlock(pin("000000"))

    assert rig.session.state is SessionState.LOCKED


def test_an_expired_ticket_signs_out(rig: Rig) -> None:
    rig.insert(users.RECEPTIONIST)
    rig.flow.sign_in(pin())

    rig.clock.now += 8 * 3600

    with pytest.raises(SessionNotActive) as caught:
        rig.session.require_active()
    assert caught.value.user_message == "Your session has expired. Sign in again with your smartcard."
    assert rig.session.state is SessionState.SIGNED_OUT


@pytest.mark.hazard("HAZ-005")
def test_a_locked_card_gets_no_login_attempt(rig: Rig) -> None:
    card = rig.insert(users.RECEPTIONIST)
    card.failures = card.max_tries
    typed = pin()

    with pytest.raises(PinLocked) as caught:
        rig.flow.sign_in(typed)

    assert "Registration Authority" in caught.value.user_message
    assert rig.token.login_attempts == 0
    assert rig.token.signed == []
    assert typed == bytearray(len(PIN))
    assert rig.session.state is SessionState.SIGNED_OUT


def test_a_wrong_pin_keeps_you_signed_out_and_warns_before_the_card_locks(rig: Rig) -> None:
    rig.insert(users.RECEPTIONIST)

    with pytest.raises(PinIncorrect) as first:
        rig.flow.sign_in(pin("111111"))
    with pytest.raises(PinIncorrect) as second:
        rig.flow.sign_in(pin("222222"))

    assert first.value.user_message == "The passcode was not correct."
    assert second.value.user_message == "The passcode was not correct. One attempt left before your card is locked."
    assert rig.session.state is SessionState.SIGNED_OUT
    assert rig.heard[-1].reason == second.value.user_message
    assert rig.token.signed == []

    with pytest.raises(PinIncorrect):
        rig.flow.sign_in(pin("333333"))
    with pytest.raises(PinLocked):
        rig.flow.sign_in(pin())
    assert rig.token.login_attempts == 3  # the locked card was not tried a fourth time


@pytest.mark.hazard("HAZ-005")
def test_a_refused_card_leaves_nobody_signed_in(rig: Rig) -> None:
    rig.insert(users.EXPIRED_CARD)

    with pytest.raises(SignInFailed) as caught:
        rig.flow.sign_in(pin())

    assert caught.value.user_message.startswith("The certificate on your smartcard has expired.")
    assert rig.session.state is SessionState.SIGNED_OUT
    assert not rig.token.logged_in


def test_an_unreachable_service_leaves_nobody_signed_in(rig: Rig) -> None:
    rig.insert(users.RECEPTIONIST)
    rig.sandbox.stop()

    with pytest.raises(SignInFailed) as caught:
        rig.flow.sign_in(pin())

    assert caught.value.retryable
    assert rig.session.state is SessionState.SIGNED_OUT
    assert not rig.token.logged_in


@pytest.mark.hazard("HAZ-007")
def test_sign_out_ends_the_ticket_and_the_card_login(rig: Rig) -> None:
    rig.insert(users.GP)
    rig.flow.sign_in(pin())
    rig.flow.choose_role("555254240102")
    ticket = rig.session.ticket
    assert ticket is not None

    rig.flow.sign_out()

    assert rig.session.state is SessionState.SIGNED_OUT
    assert not rig.token.logged_in
    assert not rig.ticket_is_live(ticket.value)
    assert [change.state for change in rig.heard] == [
        SessionState.SIGNING_IN,
        SessionState.CHOOSING_ROLE,
        SessionState.ACTIVE,
        SessionState.SIGNED_OUT,
    ]


def test_a_second_sign_in_does_not_disturb_the_first(rig: Rig) -> None:
    rig.insert(users.RECEPTIONIST)
    rig.flow.sign_in(pin())
    typed = pin()

    with pytest.raises(SignInFailed):
        rig.flow.sign_in(typed)

    assert typed == bytearray(len(PIN))
    assert rig.session.require_active().user_id == "555000000001"
    assert rig.token.login_attempts == 1

"""The legacy CIS sign-in flow end to end: fake cards from the sandbox's card CA, the sandbox's GAS and SSB over
HTTPS (gpOBJECT, CMS/S-MIME, RoleSelectionGP, SAML RoleAssertion), and the real session."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from consent_desktop.auth.cis import CisClient
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
        assert self.sandbox.cis is not None
        return self.sandbox.cis.is_live(ticket_value)


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """For what happens off the caller's thread (the ticket ended at the service after a card removal)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def rig(sandbox: Sandbox, sandbox_settings: Settings) -> Iterator[Rig]:
    built = Rig(sandbox, sandbox_settings)
    yield built
    built.flow.close()


def pin(text: str = PIN) -> bytearray:
    return bytearray(text.encode())


def test_a_receptionist_signs_in_and_is_active(rig: Rig) -> None:
    rig.insert(users.RECEPTIONIST)
    typed = pin()

    assert rig.flow.sign_in(typed) is SessionState.ACTIVE

    identity = rig.session.require_active()
    assert (identity.user_id, identity.user_name) == ("555000000001", "Alex Morgan")
    assert identity.role == users.RECEPTIONIST.roles[0]  # job-role and activity codes from the SAML assertion
    assert typed == bytearray(len(PIN))  # the PIN is gone from memory
    assert rig.token.logged_in
    ticket = rig.session.ticket
    assert ticket is not None
    assert rig.sandbox.cis is not None
    assert rig.sandbox.cis.selected_role(ticket.value) == "555254240101"  # the one role was selected at CIS


@pytest.mark.hazard("HAZ-017")
def test_a_gp_with_two_roles_chooses_one_and_works_in_it_with_the_ssbs_codes(rig: Rig) -> None:
    rig.insert(users.GP)

    assert rig.flow.sign_in(pin()) is SessionState.CHOOSING_ROLE
    assert [role.org_name for role in rig.session.offered_roles] == ["Riverside Surgery", "Hillside Medical Centre"]
    assert all(not role.activities and not role.job_role_code for role in rig.session.offered_roles)

    identity = rig.flow.choose_role("555254240103")

    assert identity.role == users.GP.roles[1]  # completed by the RoleAssertion that names it the session role
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
def test_a_secretary_may_view_but_changing_consent_is_refused_on_the_saml_codes(rig: Rig) -> None:
    rig.insert(users.ADMIN_NO_B0020)
    rig.flow.sign_in(pin())
    assert rig.session.require_active().role.activities == {"B0264"}  # the RoleAssertion's B-codes

    assert rig.session.require_active().role.job_role_name == "Medical Secretary"
    check = rig.session.change_consent_check()
    assert not check.allowed
    assert check.reason == (
        'Your role (Medical Secretary, Riverside Surgery) does not include B0020 "Record SCR consent '
        'preference", which is needed to change consent. You can still view it.'
    )


@pytest.mark.hazard("HAZ-007")
def test_removing_the_card_locks_and_ends_the_ticket_and_the_same_card_signs_in_afresh(rig: Rig) -> None:
    card = rig.insert(users.GP)
    rig.flow.sign_in(pin())
    rig.flow.choose_role("555254240103")
    first = rig.session.ticket
    assert first is not None

    rig.remove()

    assert rig.session.state is SessionState.LOCKED
    with pytest.raises(SessionNotActive):
        rig.session.require_active()
    assert eventually(lambda: not rig.ticket_is_live(first.value))  # ended at the SSB, as the Identity Agent does

    rig.token.insert(card)
    rig.presence.fire("inserted")
    typed = pin()
    assert rig.flow.unlock(typed) is SessionState.ACTIVE
    assert typed == bytearray(len(PIN))
    renewed = rig.session.ticket
    assert renewed is not None and renewed.value != first.value and rig.ticket_is_live(renewed.value)
    assert rig.session.require_active().role == users.GP.roles[1]  # the role the user was working in
    assert rig.sandbox.cis is not None and rig.sandbox.cis.selected_role(renewed.value) == "555254240103"
    assert rig.token.login_attempts == 2 and len(rig.token.signed) == 2  # a new signature, not a resume


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
    assert eventually(lambda: not rig.ticket_is_live(ticket.value))  # and the first user's ticket was ended
    assert len(rig.token.signed) == 1  # nothing was signed with the other user's card


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

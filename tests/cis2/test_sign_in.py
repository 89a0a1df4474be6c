"""CIS2 sign-in end to end against the sandbox's provider: the whole browser flow, then a Spine call with the
identity it gave; and every refusal the flow owes the user."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from consent_desktop.auth.session import EXPIRED, SessionState
from consent_desktop.domain.errors import IdentityMismatch, NoCard, NotAuthorised, SessionNotActive, SignInFailed
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.sandbox.users import ADMIN_NO_B0020, GP, RECEPTIONIST, TRAINING_PIN
from consent_desktop.spine.acs_client import AcsClient
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.transport import SpineTransport
from tests.cis2.conftest import PlayedBrowser, Rig, make_rig
from tests.fakes import card_for_user

NHS = "9434765919"


def read_consent(rig: Rig) -> str:
    """An ACS read through the session: it carries whoever the session says is signed in."""
    spine = rig.settings.spine
    transport = SpineTransport(spine, rig.settings.tls)
    try:
        endpoint = SpineEndpoint.for_acs(spine)
        return AcsClient(transport, endpoint, rig.session).get_consent(NhsNumber.parse(NHS)).choice.value
    finally:
        transport.close()


def pin() -> bytearray:
    return bytearray(TRAINING_PIN.encode())


def test_browser_sign_in_gives_the_users_identity_and_spine_answers(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert rig.flow.sign_in() is SessionState.ACTIVE
    rig.browser.finish()
    [visit] = rig.browser.visits
    assert visit.status == 200 and "You can close this window" in visit.page
    identity = rig.session.require_active()
    assert (identity.user_id, identity.user_name, identity.role) == (
        RECEPTIONIST.user_id,
        RECEPTIONIST.name,
        RECEPTIONIST.roles[0],
    )
    assert read_consent(rig) == "ask"
    # The card was read without a PIN, and nothing secret went to the log.
    assert rig.token.identity_reads == 1 and rig.token.login_attempts == 0
    code = visit.redirect.split("code=")[1].split("&")[0]
    ticket = rig.session.ticket
    assert ticket is not None
    # The app sets httpx and httpcore to WARNING (consent_desktop.logs); below that they also log this test's
    # stand-in browser, which is not the app.
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert "/cis2/" in logged  # the sign-in was logged at all...
    for secret in (code, ticket.value):
        assert secret not in logged  # ...but not its secrets
        assert secret not in repr({k: v for k, v in vars(rig.flow).items() if k != "_browser"})  # the test's


def test_authorize_request_uses_pkce_s256_nonce_and_a_loopback_redirect(rig: Rig) -> None:
    rig.flow.sign_in()
    [url] = rig.browser.opened
    assert "code_challenge_method=S256" in url and "code_challenge=" in url and "nonce=" in url
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url
    assert "code_verifier" not in url


@pytest.mark.hazard("HAZ-005")
def test_several_roles_are_chosen_and_rbac_applies(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    gp = make_rig(sandbox, cis2_settings, card_user=GP, browser=PlayedBrowser(sandbox, GP))
    assert gp.flow.sign_in() is SessionState.CHOOSING_ROLE
    assert gp.session.offered_roles == GP.roles
    identity = gp.flow.choose_role(GP.roles[1].role_profile_id)
    assert identity.role.org_code == "B82002" and gp.session.state is SessionState.ACTIVE
    gp.client.close()

    admin = make_rig(sandbox, cis2_settings, card_user=ADMIN_NO_B0020, browser=PlayedBrowser(sandbox, ADMIN_NO_B0020))
    admin.flow.sign_in()
    with pytest.raises(NotAuthorised) as refused:
        admin.session.require_change_consent()
    assert "B0020" in refused.value.user_message
    admin.client.close()


@pytest.mark.hazard("HAZ-005", "HAZ-013")
def test_a_redirect_with_another_state_is_refused(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    browser = PlayedBrowser(sandbox, tamper=lambda location: location.replace("state=", "state=forged"))
    rig = make_rig(sandbox, cis2_settings, browser=browser)
    with pytest.raises(SignInFailed) as refused:
        rig.flow.sign_in()
    assert "did not ask for" in refused.value.user_message
    rig.browser.finish()
    assert rig.browser.visits[0].status == 400
    assert rig.session.state is SessionState.SIGNED_OUT
    assert sandbox.cis2 is not None and sandbox.cis2.live_sign_ins(RECEPTIONIST.user_id) == 0  # code never redeemed
    rig.client.close()


@pytest.mark.parametrize(
    ("misbehaviour", "said", "detail"),
    [
        ("wrong-nonce", "could not be verified", "nonce"),
        ("foreign-signature", "could not be verified", "bad_signature"),
        ("expired-id-token", "had already expired", "expired"),
    ],
)
@pytest.mark.hazard("HAZ-005", "HAZ-013")
def test_an_id_token_that_fails_verification_is_refused(rig: Rig, misbehaviour: str, said: str, detail: str) -> None:
    assert rig.sandbox.cis2 is not None
    rig.sandbox.cis2.misbehave(misbehaviour)
    with pytest.raises(SignInFailed) as refused:
        rig.flow.sign_in()
    assert said in refused.value.user_message
    assert detail in refused.value.details
    assert rig.session.state is SessionState.SIGNED_OUT
    with pytest.raises(SessionNotActive):
        read_consent(rig)


@pytest.mark.hazard("HAZ-005")
def test_a_card_of_another_user_refuses_the_sign_in(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(sandbox, cis2_settings, card_user=GP)  # the receptionist signs in with the GP's card in
    with pytest.raises(SignInFailed) as refused:
        rig.flow.sign_in()
    assert "belongs to someone other than" in refused.value.user_message
    assert rig.session.state is SessionState.SIGNED_OUT
    assert sandbox.cis2.live_sign_ins(RECEPTIONIST.user_id) == 0  # the provider session was ended too
    rig.client.close()


@pytest.mark.hazard("HAZ-007")
def test_with_the_lock_policy_a_card_must_be_in_the_reader(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(sandbox, cis2_settings, card_user=None)
    with pytest.raises(NoCard):
        rig.flow.sign_in()
    assert rig.browser.opened == []
    rig.client.close()


def test_without_the_lock_policy_no_card_is_needed(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(sandbox, cis2_settings, card_user=None, lock_on_card_removal=False)
    assert rig.flow.sign_in() is SessionState.ACTIVE
    assert read_consent(rig) == "ask"
    rig.client.close()


@pytest.mark.hazard("HAZ-007")
def test_card_removed_locks_and_the_same_card_and_pin_resume(rig: Rig) -> None:
    rig.flow.sign_in()
    rig.presence.fire("removed")
    assert rig.session.state is SessionState.LOCKED
    with pytest.raises(SessionNotActive):
        read_consent(rig)
    rig.presence.fire("inserted")
    assert rig.flow.unlock(pin()) is SessionState.ACTIVE
    assert read_consent(rig) == "ask"
    assert not rig.token.logged_in  # the PIN was proven, and the card is not left logged in


@pytest.mark.hazard("HAZ-005", "HAZ-007")
def test_another_users_card_at_unlock_signs_out(rig: Rig) -> None:
    rig.flow.sign_in()
    rig.presence.fire("removed")
    rig.token.insert(card_for_user(rig.sandbox.data.card_ca(), GP))
    rig.presence.fire("inserted")
    with pytest.raises(IdentityMismatch):
        rig.flow.unlock(pin())
    assert rig.session.state is SessionState.SIGNED_OUT
    assert rig.sandbox.cis2 is not None and rig.sandbox.cis2.live_sign_ins(RECEPTIONIST.user_id) == 0


@pytest.mark.hazard("HAZ-007")
def test_after_the_tokens_expire_unlocking_signs_out(rig: Rig) -> None:
    rig.flow.sign_in()
    rig.presence.fire("removed")
    rig.clock[0] += 3600  # the sandbox's access tokens last an hour
    rig.presence.fire("inserted")
    with pytest.raises(SessionNotActive) as refused:
        rig.flow.unlock(pin())
    assert refused.value.user_message == EXPIRED
    assert rig.session.state is SessionState.SIGNED_OUT
    assert rig.token.login_attempts == 0  # no PIN was spent on a session that had ended


@pytest.mark.hazard("HAZ-007")
def test_an_active_session_signs_out_when_its_tokens_expire(rig: Rig) -> None:
    rig.flow.sign_in()
    rig.clock[0] += 3600
    with pytest.raises(SessionNotActive):
        read_consent(rig)
    assert rig.session.state is SessionState.SIGNED_OUT


@pytest.mark.hazard("HAZ-007")
def test_sign_out_ends_the_provider_session(rig: Rig) -> None:
    rig.flow.sign_in()
    assert rig.sandbox.cis2 is not None and rig.sandbox.cis2.live_sign_ins(RECEPTIONIST.user_id) == 1
    rig.flow.sign_out()
    assert rig.session.state is SessionState.SIGNED_OUT
    assert rig.sandbox.cis2.live_sign_ins(RECEPTIONIST.user_id) == 0
    assert rig.browser.opened and len(rig.browser.opened) == 1  # no browser window at sign-out


def test_cancelling_stops_the_wait_for_the_browser(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(sandbox, cis2_settings, browser=PlayedBrowser(sandbox, user=None))
    threading.Timer(0.2, rig.flow.cancel).start()
    started = time.monotonic()
    with pytest.raises(SignInFailed) as refused:
        rig.flow.sign_in()
    assert refused.value.user_message == "Sign-in was cancelled."
    assert time.monotonic() - started < 2
    assert rig.session.state is SessionState.SIGNED_OUT
    rig.client.close()


def test_cancelling_in_the_browser_is_reported(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(sandbox, cis2_settings, browser=PlayedBrowser(sandbox, cancel=True))
    with pytest.raises(SignInFailed) as refused:
        rig.flow.sign_in()
    assert refused.value.user_message == "Sign-in was cancelled in the browser."
    rig.client.close()


def test_a_browser_left_alone_times_out_with_a_plain_message(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(sandbox, cis2_settings, browser=PlayedBrowser(sandbox, user=None), browser_timeout=0.3)
    with pytest.raises(SignInFailed) as refused:
        rig.flow.sign_in()
    assert "was not finished within 1 minute" in refused.value.user_message
    assert refused.value.retryable
    assert rig.session.state is SessionState.SIGNED_OUT
    rig.client.close()

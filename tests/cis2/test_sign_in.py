"""CIS2 sign-in end to end against the sandbox's provider: the whole browser flow, then a Spine call with the
identity it gave; and every refusal the flow owes the user."""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time

import pytest

from consent_desktop.auth.session import EXPIRED, SessionState
from consent_desktop.domain.consent import ConsentChoice
from consent_desktop.domain.errors import IdentityMismatch, NoCard, NotAuthorised, SessionNotActive, SignInFailed
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.sandbox.store import Change
from consent_desktop.sandbox.users import ADMIN_NO_B0020, GP, NO_ACTIVITY_CODES, NO_ROLES, RECEPTIONIST, TRAINING_PIN
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
    assert "/NHSIdentity/" in logged  # the sign-in was logged at all...
    for secret in (code, ticket.value):
        assert secret not in logged  # ...but not its secrets
        assert secret not in repr({k: v for k, v in vars(rig.flow).items() if k != "_browser"})  # the test's


def test_authorize_request_uses_pkce_s256_nonce_and_a_loopback_redirect(rig: Rig) -> None:
    rig.flow.sign_in()
    [url] = rig.browser.opened
    assert "code_challenge_method=S256" in url and "code_challenge=" in url and "nonce=" in url
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url
    assert "code_verifier" not in url


def set_consent(rig: Rig) -> Change:
    """A consent change through the session, and what the sandbox's ACS recorded about who made it."""
    transport = SpineTransport(rig.settings.spine, rig.settings.tls)
    try:
        client = AcsClient(transport, SpineEndpoint.for_acs(rig.settings.spine), rig.session)
        client.set_consent(NhsNumber.parse(NHS), ConsentChoice.OPTED_OUT)
    finally:
        transport.close()
    assert rig.sandbox.store is not None
    return rig.sandbox.store.changes(NHS)[-1]


@pytest.mark.hazard("HAZ-005", "HAZ-017")
def test_the_role_chosen_in_cis2_is_the_sessions_and_spines_with_no_second_picker(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    chosen = GP.roles[1].role_profile_id
    gp = make_rig(sandbox, cis2_settings, card_user=GP, browser=PlayedBrowser(sandbox, GP, role=chosen))
    assert gp.flow.sign_in() is SessionState.ACTIVE  # never CHOOSING_ROLE: CIS2 asked, in the browser
    assert gp.browser.role_pages == [[role.role_profile_id for role in GP.roles]]
    assert "selectedrole" in gp.browser.opened[0] and "prompt=login" in gp.browser.opened[0]
    assert gp.session.require_active().role == GP.roles[1]
    change = set_consent(gp)
    assert (change.sds_user_id, change.role_profile_id, change.job_role_code) == (
        GP.user_id,
        chosen,
        GP.roles[1].job_role_code,
    )
    gp.client.close()


@pytest.mark.hazard("HAZ-017")
def test_a_role_the_identity_agent_chose_at_card_insertion_is_used_without_asking(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    assert sandbox.cis2 is not None
    sandbox.cis2.profile.preselected_roles[GP.user_id] = GP.roles[1].role_profile_id
    gp = make_rig(sandbox, cis2_settings, card_user=GP, browser=PlayedBrowser(sandbox, GP))
    assert gp.flow.sign_in() is SessionState.ACTIVE
    assert gp.browser.role_pages == []  # chosen at the card, not on CIS2's page
    assert set_consent(gp).role_profile_id == GP.roles[1].role_profile_id
    gp.client.close()


@pytest.mark.hazard("HAZ-017")
def test_a_selected_role_that_is_not_the_users_refuses_the_sign_in(rig: Rig) -> None:
    assert rig.sandbox.cis2 is not None
    rig.sandbox.cis2.misbehave("foreign-role")
    with pytest.raises(SignInFailed) as refused:
        rig.flow.sign_in()
    assert "selected a role that is not one of yours" in refused.value.user_message
    assert rig.session.state is SessionState.SIGNED_OUT
    assert rig.sandbox.cis2.live_sign_ins(RECEPTIONIST.user_id) == 0


@pytest.mark.hazard("HAZ-017")
def test_changedrole_offers_cis2s_role_choice_again(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    browser = PlayedBrowser(sandbox, GP, role=GP.roles[0].role_profile_id)
    gp = make_rig(sandbox, cis2_settings, card_user=GP, browser=browser)
    gp.flow.sign_in()
    browser.role = GP.roles[1].role_profile_id
    assert gp.flow.change_role() is SessionState.ACTIVE
    assert "changedrole" in browser.opened[1] and "selectedrole" not in browser.opened[1]
    assert len(browser.role_pages) == 2  # asked again, although the provider session remembered the first choice
    assert gp.session.require_active().role == GP.roles[1]
    gp.client.close()


@pytest.mark.hazard("HAZ-005")
def test_without_selectedrole_the_app_offers_the_roles_and_rbac_applies(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    scopes = tuple(scope for scope in cis2_settings.cis2.scopes if scope != "selectedrole")
    settings = dataclasses.replace(cis2_settings, cis2=dataclasses.replace(cis2_settings.cis2, scopes=scopes))
    gp = make_rig(sandbox, settings, card_user=GP, browser=PlayedBrowser(sandbox, GP))
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


@pytest.mark.hazard("HAZ-005", "HAZ-017")
def test_a_role_without_activity_codes_may_view_but_not_change_and_is_told_why(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    user = NO_ACTIVITY_CODES
    rig = make_rig(sandbox, cis2_settings, card_user=user, browser=PlayedBrowser(sandbox, user))
    assert rig.flow.sign_in() is SessionState.ACTIVE
    role = rig.session.require_active().role
    assert (role.job_role_name, role.activities) == ("Admin/Clinical Support Access Role", frozenset())
    assert read_consent(rig) == "ask"
    check = rig.session.change_consent_check()
    assert not check.allowed
    assert check.reason.startswith("The NHS sign-in service gave no activity codes for your role")
    rig.client.close()


def test_a_user_with_no_roles_is_told_to_contact_their_ra(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    rig = make_rig(sandbox, cis2_settings, card_user=NO_ROLES, browser=PlayedBrowser(sandbox, NO_ROLES))
    with pytest.raises(SignInFailed, match="Registration Authority"):
        rig.flow.sign_in()
    rig.client.close()


@pytest.mark.hazard("HAZ-018")
def test_a_fixed_port_meets_exact_redirect_matching_and_an_ephemeral_one_does_not(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    assert sandbox.cis2 is not None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sandbox.cis2.profile.registered_redirect_uri = f"http://127.0.0.1:{port}/consent-desktop/signed-in"
    fixed = make_rig(sandbox, cis2_settings, redirect_port=port)
    assert fixed.flow.sign_in() is SessionState.ACTIVE
    fixed.client.close()
    ephemeral = make_rig(sandbox, cis2_settings, browser_timeout=1)
    with pytest.raises(SignInFailed):
        ephemeral.flow.sign_in()
    ephemeral.browser.finish()
    [visit] = ephemeral.browser.visits
    assert visit.status == 400 and "not the one registered" in visit.page
    ephemeral.client.close()


@pytest.mark.parametrize("as_text", [False, True])
@pytest.mark.hazard("HAZ-018")
def test_assurance_levels_as_numbers_or_text_are_accepted(rig: Rig, as_text: bool) -> None:
    assert rig.sandbox.cis2 is not None
    rig.sandbox.cis2.profile.assurance_as_text = as_text
    assert rig.flow.sign_in() is SessionState.ACTIVE


@pytest.mark.hazard("HAZ-018")
def test_an_id_token_without_acr_is_accepted_on_its_assurance_levels(rig: Rig) -> None:
    assert rig.sandbox.cis2 is not None
    rig.sandbox.cis2.misbehave("no-acr")
    assert rig.flow.sign_in() is SessionState.ACTIVE


@pytest.mark.hazard("HAZ-005", "HAZ-013")
def test_a_redirect_with_another_state_is_turned_away(sandbox, cis2_settings) -> None:  # type: ignore[no-untyped-def]
    browser = PlayedBrowser(sandbox, tamper=lambda location: location.replace("state=", "state=forged"))
    rig = make_rig(sandbox, cis2_settings, browser=browser, browser_timeout=1)
    with pytest.raises(SignInFailed) as refused:
        rig.flow.sign_in()
    assert "was not finished within 1 minute" in refused.value.user_message  # waited for the real answer
    assert "1 answer(s) with another state turned away" in refused.value.details
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
        ("aal2", "not strong enough for this app", "(acr)"),  # AAL2, as NHS apps refuse it for this use
        ("stale-auth-time", "was for an earlier sign-in", "(auth_time)"),
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

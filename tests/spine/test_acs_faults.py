"""Every fault the sandbox can inject, for a read and for a change, over real mutual TLS.

A read either succeeds (after a safe retry) or fails with a typed error. A change ends in exactly one of
saved / not saved / could not confirm, and the sandbox's store agrees with what the client reports.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import httpx
import pytest

from consent_desktop.config import Settings
from consent_desktop.domain.consent import ConsentChoice, SaveOutcome
from consent_desktop.domain.errors import (
    PatientNotFound,
    SpineError,
    SpineTimeout,
    SpineUnavailable,
    TlsFailure,
    UnexpectedResponse,
)
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine.acs_client import AcsClient
from consent_desktop.spine.envelope import SoapFault
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.transport import SpineTransport
from tests.conftest import ActiveGate

NHS = NhsNumber.parse("9434765919")


def stored(sandbox: Sandbox) -> dict[str, str]:
    assert sandbox.store is not None
    return sandbox.store.assertions(NHS.digits)


@pytest.fixture
def quick(sandbox_settings: Settings) -> Iterator[AcsClient]:
    """A client whose reads must end within 1 s and changes within 1.5 s, whatever the answer does."""
    spine = dataclasses.replace(sandbox_settings.spine, read_timeout=5.0, read_deadline=1.0, change_deadline=1.5)
    transport = SpineTransport(spine, sandbox_settings.tls)
    yield AcsClient(transport, SpineEndpoint.for_acs(spine), ActiveGate(), backoff=0.01, change_deadline=1.5)
    transport.close()


@pytest.mark.hazard("HAZ-009")
@pytest.mark.parametrize("code", ["200", "206", "208"])
def test_read_retries_a_retriable_soap_fault(sandbox: Sandbox, acs: AcsClient, code: str) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault(f"soap-fault-{code}", scope="get", times=2)
    assert acs.get_consent(NHS).choice is ConsentChoice.ASK_PERMISSION


@pytest.mark.hazard("HAZ-009")
def test_read_gives_up_after_the_configured_attempts(sandbox: Sandbox, acs: AcsClient) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault("soap-fault-206", scope="get", times=3)
    with pytest.raises(SoapFault) as raised:
        acs.get_consent(NHS)
    assert raised.value.retryable and "Try again" in raised.value.user_message
    assert sandbox.store.faults() == []  # exactly three attempts were made


@pytest.mark.hazard("HAZ-002", "HAZ-009")
@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("http-503", SpineUnavailable),
        ("html", UnexpectedResponse),
        ("malformed", UnexpectedResponse),
        ("empty", UnexpectedResponse),
        ("reject-35160", PatientNotFound),
        ("other-message", UnexpectedResponse),
        ("other-patient", UnexpectedResponse),
        ("drop-before-commit", SpineUnavailable),
    ],
)
def test_read_faults_become_typed_errors_without_a_retry(
    sandbox: Sandbox, acs: AcsClient, fault: str, error: type[SpineError]
) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault(fault, scope="get", times=1)
    with pytest.raises(error) as raised:
        acs.get_consent(NHS)
    assert raised.value.user_message and "Traceback" not in raised.value.user_message
    assert acs.get_consent(NHS).choice is ConsentChoice.ASK_PERMISSION  # one failure, then normal again


@pytest.mark.hazard("HAZ-009")
def test_soap_fault_201_is_not_retried(sandbox_settings: Settings) -> None:
    # Only TMS 200/206/208 are safe to repeat; any other fault must surface after one attempt.
    from tests.spine import wire

    attempts: list[httpx.Request] = []

    def spine(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        return httpx.Response(500, content=wire.soap_fault(("201", "The message is not well formed")))

    spine_settings = sandbox_settings.spine
    transport = SpineTransport(spine_settings, sandbox_settings.tls, transport=httpx.MockTransport(spine))
    client = AcsClient(transport, SpineEndpoint(spine_settings.acs_endpoint, "1", "2"), ActiveGate(), backoff=0)
    with pytest.raises(SoapFault) as raised:
        client.get_consent(NHS)
    assert len(attempts) == 1 and not raised.value.retryable


@pytest.mark.hazard("HAZ-009")
def test_latency_past_the_read_timeout(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    spine = sandbox_settings.spine
    fast = type(spine)(**{**spine.__dict__, "read_timeout": 0.3})
    transport = SpineTransport(fast, sandbox_settings.tls)
    client = AcsClient(transport, SpineEndpoint.for_acs(spine), ActiveGate())
    assert sandbox.store is not None
    sandbox.store.set_fault("latency", "1", scope="get", times=1)
    with pytest.raises(SpineTimeout):
        client.get_consent(NHS)
    transport.close()


# --- changes ----------------------------------------------------------------------------------------------------

CHANGE_CASES = [
    # fault, outcome the user is told, whether the store holds the change afterwards. NOT saved only when Spine
    # refused the change (an error acknowledgement, or a SOAP fault saying it was not processed); after the
    # request was sent anything else is unknown, settled only by what a read of Spine shows.
    ("drop-before-commit", SaveOutcome.UNCONFIRMED, False),
    ("drop-after-commit", SaveOutcome.SAVED, True),
    ("malformed", SaveOutcome.SAVED, True),
    ("empty", SaveOutcome.SAVED, True),
    ("http-503", SaveOutcome.UNCONFIRMED, False),
    ("html", SaveOutcome.UNCONFIRMED, False),
    ("http-503-after-commit", SaveOutcome.SAVED, True),
    ("soap-fault-200", SaveOutcome.NOT_SAVED, False),
    ("soap-fault-206", SaveOutcome.NOT_SAVED, False),
    ("soap-fault-208", SaveOutcome.NOT_SAVED, False),
    ("reject-35160", SaveOutcome.NOT_SAVED, False),
    ("other-message", SaveOutcome.SAVED, True),
]


@pytest.mark.hazard("HAZ-003", "HAZ-004", "HAZ-009")
@pytest.mark.parametrize(("fault", "outcome", "committed"), CHANGE_CASES)
def test_change_outcome_matches_the_store(
    sandbox: Sandbox, acs: AcsClient, fault: str, outcome: SaveOutcome, committed: bool
) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault(fault, scope="set", times=1)
    result = acs.set_consent(NHS, ConsentChoice.OPTED_OUT)
    assert result.outcome is outcome, result.headline
    assert (stored(sandbox) == {"Store": "No", "View": "No"}) is committed
    if outcome is SaveOutcome.SAVED:
        assert result.record is not None and result.record.choice is ConsentChoice.OPTED_OUT
    else:
        assert result.reason


@pytest.mark.hazard("HAZ-003", "HAZ-004")
def test_unknown_outcome_and_spine_still_down_is_could_not_confirm(sandbox: Sandbox, acs: AcsClient) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault("drop-after-commit", scope="set", times=1)
    sandbox.store.set_fault("http-503", scope="get")
    result = acs.set_consent(NHS, ConsentChoice.OPTED_OUT)
    assert result.outcome is SaveOutcome.UNCONFIRMED
    assert "check again" in result.headline
    assert stored(sandbox) == {"Store": "No", "View": "No"}  # it was saved: "could not confirm" is the honest answer


@pytest.mark.hazard("HAZ-004")
def test_change_never_re_sent(sandbox: Sandbox, acs: AcsClient) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault("drop-after-commit", scope="set", times=1)
    acs.set_consent(NHS, ConsentChoice.OPTED_OUT)
    assert len({c.message_id for c in sandbox.store.changes(NHS.digits)}) == 1


@pytest.mark.hazard("HAZ-004")
def test_change_timeout_is_settled_by_a_re_read(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    spine = sandbox_settings.spine
    fast = type(spine)(**{**spine.__dict__, "read_timeout": 0.3})
    transport = SpineTransport(fast, sandbox_settings.tls)
    client = AcsClient(transport, SpineEndpoint.for_acs(spine), ActiveGate())
    assert sandbox.store is not None
    sandbox.store.set_fault("latency", "0.6", scope="set", times=1)
    result = client.set_consent(NHS, ConsentChoice.OPTED_OUT)
    # The sandbox commits before its delayed answer: the re-read finds the change.
    assert result.outcome is SaveOutcome.SAVED and result.confirmed_by_reread
    transport.close()


@pytest.mark.hazard("HAZ-003", "HAZ-016")
def test_a_change_spine_applies_after_the_re_read_is_never_not_saved(sandbox: Sandbox, quick: AcsClient) -> None:
    """Spine holds the change past the deadline and applies it after the client's re-read showed the old value:
    the user is told "could not confirm", and reading again once it has landed says "saved"."""
    assert sandbox.store is not None
    sandbox.store.set_fault("late-commit", "0.5", scope="set", times=1)
    result = quick.set_consent(NHS, ConsentChoice.OPTED_OUT)
    assert result.outcome is SaveOutcome.UNCONFIRMED, result.headline
    assert result.record is not None and result.record.choice is ConsentChoice.ASK_PERMISSION  # the re-read
    assert "check again" in result.headline
    assert stored(sandbox) == {}  # not yet...
    deadline = time.monotonic() + 5
    while stored(sandbox) == {} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored(sandbox) == {"Store": "No", "View": "No"}  # ...then Spine applies it
    later = quick.recheck(result)
    assert later.outcome is SaveOutcome.SAVED and later.confirmed_by_reread, later.headline
    assert len(sandbox.store.changes(NHS.digits)) == 2  # one change (View and Store), sent once


@pytest.mark.hazard("HAZ-004", "HAZ-016")
def test_an_acknowledged_change_reads_do_not_see_yet_is_confirmed_by_a_later_read(
    sandbox: Sandbox, acs: AcsClient
) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault("hold-write", "0.8", scope="set", times=1)
    result = acs.set_consent(NHS, ConsentChoice.OPTED_OUT)
    assert stored(sandbox) == {"Store": "No", "View": "No"}
    assert result.outcome is SaveOutcome.UNCONFIRMED, result.headline  # Spine said AA; reads still show the old
    assert acs.recheck(result).outcome is SaveOutcome.UNCONFIRMED
    time.sleep(0.9)
    assert acs.recheck(result).outcome is SaveOutcome.SAVED


@pytest.mark.hazard("HAZ-009")
def test_a_trickled_answer_is_cut_off_at_the_read_deadline(sandbox: Sandbox, quick: AcsClient) -> None:
    """One byte every 50 ms keeps resetting the 5 s read timeout; the 1 s deadline ends the read all the same."""
    assert sandbox.store is not None
    sandbox.store.set_fault("trickle", "0.05", scope="get", times=1)
    started = time.monotonic()
    with pytest.raises(SpineTimeout):
        quick.get_consent(NHS)
    assert time.monotonic() - started < 3.0  # the deadline, plus a generous margin for a busy machine


@pytest.mark.hazard("HAZ-003", "HAZ-004", "HAZ-009")
def test_a_trickled_answer_to_a_stored_change_is_settled_by_a_re_read(sandbox: Sandbox, quick: AcsClient) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault("trickle", "0.05", scope="set", times=1)
    result = quick.set_consent(NHS, ConsentChoice.OPTED_OUT)
    assert result.outcome is SaveOutcome.SAVED and result.confirmed_by_reread, result.headline


@pytest.mark.hazard("HAZ-003")
def test_spines_refusal_with_its_template_relates_to_is_not_saved_with_every_reason(
    sandbox: Sandbox, acs: AcsClient
) -> None:
    """Spine's error answers carry wsa:RelatesTo "uuid:example-request-GUID"; the acknowledgement's messageRef
    is what ties them to the request. Each reason is told in plain words, with its code for the help desk."""
    assert sandbox.store is not None
    sandbox.store.set_fault("reject-35160", scope="set", times=1)
    result = acs.set_consent(NHS, ConsentChoice.OPTED_OUT)
    assert result.outcome is SaveOutcome.NOT_SAVED, result.headline
    assert "the request was not valid (Spine code 400)" in result.reason
    assert "Spine does not recognise this NHS number (Spine code 35160)" in result.reason
    assert stored(sandbox) == {}


@pytest.mark.hazard("HAZ-003", "HAZ-009")
def test_tls_handshake_refused(sandbox: Sandbox, acs: AcsClient) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault("tls-refuse", times=3)
    with pytest.raises((TlsFailure, SpineUnavailable)) as raised:
        acs.get_consent(NHS)
    assert raised.value.request_sent is False
    sandbox.store.set_fault("tls-refuse", times=1)
    result = acs.set_consent(NHS, ConsentChoice.OPTED_OUT)
    assert result.outcome is SaveOutcome.NOT_SAVED and stored(sandbox) == {}
    sandbox.store.set_fault("tls-refuse", times=1)
    assert acs.get_consent(NHS).choice is ConsentChoice.ASK_PERMISSION  # nothing was sent: a read may retry

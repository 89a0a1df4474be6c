"""Every fault the sandbox can inject, for a read and for a change, over real mutual TLS.

A read either succeeds (after a safe retry) or fails with a typed error. A change ends in exactly one of
saved / not saved / could not confirm, and the sandbox's store agrees with what the client reports.
"""

from __future__ import annotations

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
    # fault, outcome the user is told, whether the store holds the change afterwards
    ("drop-before-commit", SaveOutcome.NOT_SAVED, False),
    ("drop-after-commit", SaveOutcome.SAVED, True),
    ("malformed", SaveOutcome.SAVED, True),
    ("empty", SaveOutcome.SAVED, True),
    ("http-503", SaveOutcome.NOT_SAVED, False),
    ("html", SaveOutcome.NOT_SAVED, False),
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

"""When Spine, the network or the session misbehave: the PDS client retries only what is safe and says so plainly."""

from __future__ import annotations

import pytest

from consent_desktop.config import Settings
from consent_desktop.domain.errors import SessionNotActive, SpineUnavailable, UnexpectedResponse
from consent_desktop.domain.identity import SpineIdentity
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import TraceQuery
from consent_desktop.sandbox import patients
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine.envelope import SoapFault
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.pds_client import PdsClient
from tests.pds.conftest import TODAY, CountingGate, RecordingTransport, requests_seen

NUMBER = NhsNumber(patients.README_EXAMPLE)
QUERY = TraceQuery.parse(family_name="Amberlock", gender="F", date_of_birth="14-Jul-1945", today=TODAY)


def faults(sandbox: Sandbox) -> list[str]:
    assert sandbox.store is not None
    return [f.name for f in sandbox.store.faults()]


def arm(sandbox: Sandbox, name: str, times: int | None = 1) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault(name, scope="pds", times=times)


@pytest.mark.hazard("HAZ-009")
def test_soap_fault_206_is_retried_with_a_fresh_message(
    sandbox: Sandbox, pds: PdsClient, gate: CountingGate, wire: RecordingTransport
) -> None:
    arm(sandbox, "soap-fault-206")
    assert pds.retrieve(NUMBER).display_name == "AMBERLOCK, Winifred (Mrs)"
    assert faults(sandbox) == []  # the fault answered the first attempt
    assert gate.asked == 2  # the session was consulted before each attempt
    assert [answer.status for _, answer in wire.exchanges] == [500, 200]
    assert wire.exchanges[0][0] != wire.exchanges[1][0]  # new message ids: Spine would refuse a repeat


@pytest.mark.hazard("HAZ-009")
def test_persistent_soap_fault_gives_up_after_three_attempts(
    sandbox: Sandbox, pds: PdsClient, gate: CountingGate
) -> None:
    arm(sandbox, "soap-fault-208", times=None)
    with pytest.raises(SoapFault) as failed:
        pds.trace(QUERY)
    assert failed.value.retryable
    assert failed.value.user_message == (
        "Spine could not process the request just now: it could not be stored for processing (Spine code 208). "
        "Try again in a moment."
    )
    assert gate.asked == 3


@pytest.mark.hazard("HAZ-001", "HAZ-013")
@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        ("html", UnexpectedResponse, "a web page"),
        ("empty", UnexpectedResponse, "empty"),
        ("malformed", UnexpectedResponse, "could not be read"),
        ("http-503", SpineUnavailable, "a web page"),
        ("other-message", UnexpectedResponse, "a different request"),
        ("other-patient", UnexpectedResponse, "about a different patient"),
    ],
)
def test_bad_answers_are_reported_and_not_retried(
    sandbox: Sandbox, pds: PdsClient, gate: CountingGate, fault: str, error: type[Exception], words: str
) -> None:
    arm(sandbox, fault)  # armed once: a retry would have succeeded, so raising proves there was none
    with pytest.raises(error) as failed:
        pds.retrieve(NUMBER)
    assert words in str(failed.value)
    assert gate.asked == 1
    assert faults(sandbox) == []


@pytest.mark.hazard("HAZ-001")
def test_a_superseded_answer_needs_the_warning_and_the_old_number(sandbox: Sandbox, pds: PdsClient) -> None:
    """The 'other-patient' fault answers with someone else and no warning 24: never shown as the patient asked for."""
    arm(sandbox, "other-patient")
    with pytest.raises(UnexpectedResponse):
        pds.retrieve(NhsNumber(patients.SUPERSEDED_OLD))


@pytest.mark.hazard("HAZ-007")
def test_no_request_without_an_active_session(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    class Locked:
        def require_active(self) -> SpineIdentity:
            raise SessionNotActive()

    transport = RecordingTransport(sandbox_settings)
    client = PdsClient(transport, SpineEndpoint.for_pds(sandbox_settings.spine), Locked())
    before = requests_seen(sandbox)
    try:
        with pytest.raises(SessionNotActive):
            client.retrieve(NUMBER)
        with pytest.raises(SessionNotActive):
            client.trace(QUERY)
    finally:
        transport.close()
    assert transport.exchanges == []
    assert requests_seen(sandbox) == before


@pytest.mark.hazard("HAZ-009")
def test_connection_refused_is_retried_then_reported(sandbox_settings: Settings, gate: CountingGate) -> None:
    sleeps: list[float] = []
    transport = RecordingTransport(sandbox_settings)
    endpoint = SpineEndpoint("https://127.0.0.1:9/sync-service", "928942012545", "200000001162")  # nothing listens
    client = PdsClient(transport, endpoint, gate, backoff=0.01, sleep=sleeps.append)
    try:
        with pytest.raises(SpineUnavailable) as failed:
            client.retrieve(NUMBER)
    finally:
        transport.close()
    assert not failed.value.request_sent
    assert gate.asked == 3
    assert sleeps == [0.01, 0.02]

"""The sandbox answers as Spine does: its header, schema and business rules, with Spine's error shapes."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from lxml import etree

from consent_desktop.config import Settings
from consent_desktop.domain.consent import ConsentChoice, ConsentFunction, Permission
from consent_desktop.domain.errors import PatientNotFound, SpineRejected, SpineTimeout
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine import acs_messages
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine.acs_client import AcsClient
from consent_desktop.spine.envelope import OutgoingMessage, SoapFault, read_envelope
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.transport import SpineTransport, tls_context
from tests.conftest import TEST_IDENTITY

NHS = NhsNumber.parse("9434765919")
OPTED_OUT = {"Store": "No", "View": "No"}
Mutation = Callable[[etree._Element], None]


def send_set(
    settings: Settings,
    transport: SpineTransport,
    mutate: Mutation,
    choice: ConsentChoice = ConsentChoice.OPTED_OUT,
    nhs: NhsNumber = NHS,
) -> None:
    """Build a valid SET, let the test spoil it, send it and read Spine's answer (raising its error)."""
    spine = settings.spine
    message = acs_messages.build_set(
        nhs,
        choice,
        TEST_IDENTITY,
        to=spine.acs_endpoint,
        spine_asid=spine.acs_receiver_asid,
        local_asid=spine.local_asid,
        now=datetime.now(UTC),
    )
    root = etree.fromstring(message.body)
    mutate(root)
    body = etree.tostring(root)
    action = root.findtext(f"{{{ns.SOAP}}}Header/{{{ns.WSA}}}Action") or ""
    http = transport.post(spine.acs_endpoint, action, body)
    answer = read_envelope(
        http.status,
        http.content_type,
        http.body,
        expected=acs_messages.SET_ANSWERS,
        request=OutgoingMessage(message.interaction, message.message_id, message.hl7_id, body),
    )
    acs_messages.read_set_answer(answer.hl7)


def crs(root: etree._Element, path: str) -> list[etree._Element]:
    return root.xpath(path, namespaces={"crs": ns.CRS, "hl7": ns.HL7, "wsa": ns.WSA, "s": ns.SOAP})  # type: ignore[return-value]


def nothing(root: etree._Element) -> None:
    pass


def test_a_valid_change_is_accepted_and_recorded_with_who_made_it(
    sandbox: Sandbox, sandbox_settings: Settings, transport: SpineTransport
) -> None:
    send_set(sandbox_settings, transport, nothing)
    assert sandbox.store is not None
    assert sandbox.store.assertions(NHS.digits) == {"Store": "No", "View": "No"}
    changes = sandbox.store.changes(NHS.digits)
    assert [(c.function, c.old_permission, c.new_permission) for c in changes] == [
        ("View", None, "No"),
        ("Store", None, "No"),
    ]
    assert {(c.sds_user_id, c.role_profile_id, c.job_role_code) for c in changes} == {
        (TEST_IDENTITY.user_id, TEST_IDENTITY.role.role_profile_id, TEST_IDENTITY.role.job_role_code)
    }


def _set_text(path: str, text: str) -> Mutation:
    def mutate(root: etree._Element) -> None:
        for element in crs(root, path):
            element.text = text

    return mutate


def _remove(path: str) -> Mutation:
    def mutate(root: etree._Element) -> None:
        for element in crs(root, path):
            element.getparent().remove(element)  # type: ignore[union-attr]

    return mutate


def _first_assertion_permission(value: str) -> Mutation:
    def mutate(root: etree._Element) -> None:
        crs(root, "//crs:accessControlAssertion/crs:permission")[0].text = value

    return mutate


def _third_assertion(root: etree._Element) -> None:
    first = crs(root, "//crs:accessControlAssertion")[0]
    first.getparent().append(etree.fromstring(etree.tostring(first)))  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mutate", "fault_key"),
    [
        (_first_assertion_permission("Clear"), "Inconsistent Permission to View and Store"),
        (_third_assertion, "INVALID_ACA_CARDINALITY"),
        (_set_text("//crs:accessor/crs:type", "User Id"), "INVALID_ACCESSOR_TYPE"),
        (_set_text("//crs:resource/crs:Id", "9990000018"), "INVALID_COMBINATION_FC_RC_RI"),
        (_set_text("//crs:resource/crs:type", "PSIS"), "INVALID_COMBINATION_FC_RT"),
        (_set_text("//crs:function/crs:context", "Sealing"), "INVALID_FUNCTION_CONTEXT"),
        (_remove("//hl7:ControlActEvent/hl7:author"), "CONTROL_ACT_AUTHOR_INVALID"),
        (_set_text("//crs:function/crs:code", "VIEW"), "Schema validation"),  # the SCR-old draft's upper case
    ],
)
def test_business_and_schema_rules_answer_with_an_hl7_rejection(
    sandbox: Sandbox, sandbox_settings: Settings, transport: SpineTransport, mutate: Mutation, fault_key: str
) -> None:
    with pytest.raises(SpineRejected) as raised:
        send_set(sandbox_settings, transport, mutate)
    assert raised.value.code_values[0] == "400"
    assert any(fault_key in code.display for code in raised.value.codes)
    assert sandbox.store is not None and sandbox.store.assertions(NHS.digits) == {}


def _header(tag: str, text: str) -> Mutation:
    def mutate(root: etree._Element) -> None:
        crs(root, f"//wsa:{tag}")[0].text = text

    return mutate


def _header_asid(root: etree._Element) -> None:
    crs(root, "/s:Envelope/s:Header/hl7:communicationFunctionSnd/hl7:device/hl7:id")[0].set("extension", "999")


@pytest.mark.parametrize(
    ("mutate", "description"),
    [
        (_header("MessageID", "uuid:short"), "SOAP_MESSAGE_ID_ERROR"),
        (_header("To", ""), "SOAP_TO_ERROR"),
        (_header("Action", "urn:nhs:names:services:lrs/GET_RESOURCE_PERMISSIONS_INUK01"), "INCONSISTENT_HL7"),
        (_header_asid, "INCONSISTENT_COMM_FUNC_SND"),
    ],
)
def test_envelope_problems_answer_with_a_soap_fault(
    sandbox: Sandbox, sandbox_settings: Settings, transport: SpineTransport, mutate: Mutation, description: str
) -> None:
    with pytest.raises(SoapFault) as raised:
        send_set(sandbox_settings, transport, mutate)
    assert raised.value.codes[0].code == "300"
    assert description in raised.value.codes[0].display
    assert sandbox.store is not None and sandbox.store.changes() == []


def test_not_well_formed_xml_is_tms_fault_201(sandbox_settings: Settings, transport: SpineTransport) -> None:
    http = transport.post(sandbox_settings.spine.acs_endpoint, acs_messages.SET.action, b"<SOAP-ENV:Envelope")
    assert http.status == 500
    assert b"<nasp:errorCode>201</nasp:errorCode>" in http.body


def test_an_unknown_nhs_number_gets_400_35160(acs: AcsClient) -> None:
    with pytest.raises(PatientNotFound) as raised:
        acs.get_consent(NhsNumber.parse("9990000050"))
    assert raised.value.code_values == ("400", "35160")


def test_a_resent_message_id_is_refused_as_a_duplicate(sandbox_settings: Settings, transport: SpineTransport) -> None:
    spine = sandbox_settings.spine
    message = acs_messages.build_set(
        NHS,
        ConsentChoice.OPTED_OUT,
        TEST_IDENTITY,
        to=spine.acs_endpoint,
        spine_asid=spine.acs_receiver_asid,
        local_asid=spine.local_asid,
        now=datetime.now(UTC),
    )
    for attempt in (1, 2):
        http = transport.post(spine.acs_endpoint, message.interaction.action, message.body)
        answer = read_envelope(
            http.status, http.content_type, http.body, expected=acs_messages.SET_ANSWERS, request=message
        )
        if attempt == 1:
            acs_messages.read_set_answer(answer.hl7)
        else:
            with pytest.raises(SpineRejected) as raised:
                acs_messages.read_set_answer(answer.hl7)
            assert raised.value.code_values == ("401",)


def test_seeded_cases_read_back(acs: AcsClient) -> None:
    opted_out = acs.get_consent(NhsNumber.parse("9990000018"))
    assert opted_out.choice is ConsentChoice.OPTED_OUT
    legacy = acs.get_consent(NhsNumber.parse("9990000026"))
    assert legacy.permission_for(ConsentFunction.VIEW) is Permission.YES
    assert legacy.choice is ConsentChoice.ASK_PERMISSION


def test_changes_survive_a_restart(tmp_path: Path) -> None:
    from consent_desktop.config import TomlFileSource, load_settings
    from tests.conftest import ActiveGate

    def client(sandbox: Sandbox) -> tuple[AcsClient, SpineTransport]:
        settings = load_settings([TomlFileSource(sandbox.data.client_config, "client.toml")])
        transport = SpineTransport(settings.spine, settings.tls)
        endpoint = SpineEndpoint.for_acs(settings.spine)
        return AcsClient(transport, endpoint, ActiveGate()), transport

    with Sandbox(tmp_path / "data") as first:
        acs, transport = client(first)
        assert acs.set_consent(NHS, ConsentChoice.OPTED_OUT).record is not None
        transport.close()
    with Sandbox(tmp_path / "data") as second:
        acs, transport = client(second)
        assert acs.get_consent(NHS).choice is ConsentChoice.OPTED_OUT
        # the seeded opt-out that was never touched is still there, and was not re-seeded over a change
        assert acs.get_consent(NhsNumber.parse("9990000018")).choice is ConsentChoice.OPTED_OUT
        transport.close()


# --- Spine's own timing and answer shapes, as faults ------------------------------------------------------------


def built(settings: Settings, *, get: bool = False, nhs: NhsNumber = NHS) -> OutgoingMessage:
    spine = settings.spine
    addressing = {"to": spine.acs_endpoint, "spine_asid": spine.acs_receiver_asid, "local_asid": spine.local_asid}
    if get:
        return acs_messages.build_get(nhs, TEST_IDENTITY, now=datetime.now(UTC), **addressing)
    return acs_messages.build_set(nhs, ConsentChoice.OPTED_OUT, TEST_IDENTITY, now=datetime.now(UTC), **addressing)


def header_text(body: bytes, name: str) -> str | None:
    return etree.fromstring(body).findtext(f"{{{ns.SOAP}}}Header/{{{ns.WSA}}}{name}")


def until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_acs_error_answers_carry_spines_template_relates_to(
    sandbox_settings: Settings, transport: SpineTransport
) -> None:
    """As in the real error answer SCR's samples hold: RelatesTo is "uuid:example-request-GUID", and only the
    acknowledgement's messageRef names the request."""
    message = built(sandbox_settings, get=True, nhs=NhsNumber.parse("9990000050"))
    http = transport.post(sandbox_settings.spine.acs_endpoint, message.interaction.action, message.body)
    assert header_text(http.body, "RelatesTo") == "uuid:example-request-GUID"
    reference = etree.fromstring(http.body).find(f".//{{{ns.HL7}}}messageRef/{{{ns.HL7}}}id")
    assert reference is not None and reference.get("root") == message.hl7_id
    accepted = built(sandbox_settings, get=True)
    http = transport.post(sandbox_settings.spine.acs_endpoint, accepted.interaction.action, accepted.body)
    assert header_text(http.body, "RelatesTo") == f"uuid:{accepted.message_id}"  # success answers echo it


@pytest.mark.hazard("HAZ-016")
def test_late_commit_holds_the_change_until_after_the_next_read(
    sandbox: Sandbox, sandbox_settings: Settings, transport: SpineTransport, acs: AcsClient
) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault("late-commit", "0.3", scope="set", times=1)
    message = built(sandbox_settings)
    with pytest.raises(SpineTimeout):  # no answer: held until the client gives up
        transport.post(sandbox_settings.spine.acs_endpoint, message.interaction.action, message.body, deadline=0.5)
    time.sleep(0.5)
    assert sandbox.store.assertions(NHS.digits) == {}  # nobody has read the patient yet: still not stored
    assert acs.get_consent(NHS).choice is ConsentChoice.ASK_PERMISSION  # the read sees the old value...
    assert until(lambda: sandbox.store is not None and sandbox.store.assertions(NHS.digits) == OPTED_OUT)
    assert [c.message_id for c in sandbox.store.changes(NHS.digits)] == [message.message_id] * 2  # ...then stored


@pytest.mark.hazard("HAZ-016")
def test_a_held_write_is_stored_and_acknowledged_but_read_late(sandbox: Sandbox, acs: AcsClient) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault("hold-write", "2", scope="set", times=1)
    acs.set_consent(NHS, ConsentChoice.OPTED_OUT)  # AA, then the check read still shows the old value
    assert sandbox.store.assertions(NHS.digits) == OPTED_OUT
    assert acs.get_consent(NHS).choice is ConsentChoice.ASK_PERMISSION
    assert until(lambda: acs.get_consent(NHS).choice is ConsentChoice.OPTED_OUT)


def test_a_trickled_answer_arrives_one_byte_at_a_time(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault("trickle", "0.01", scope="get", times=1)
    message = built(sandbox_settings, get=True)
    url = httpx.URL(sandbox_settings.spine.acs_endpoint)
    context = tls_context(sandbox_settings.tls)
    with (
        socket.create_connection((url.host, url.port or 443), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=url.host) as tls,
    ):
        tls.sendall(
            f"POST {url.path} HTTP/1.1\r\nHost: {url.host}\r\nSOAPAction: {message.interaction.action}\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(message.body)}\r\n\r\n".encode()
            + message.body
        )
        pieces = [tls.recv(4096) for _ in range(12)]
    assert [len(piece) for piece in pieces] == [1] * 12
    assert b"".join(pieces) == b"HTTP/1.1 200"


def test_503_after_the_change_was_stored(
    sandbox: Sandbox, sandbox_settings: Settings, transport: SpineTransport
) -> None:
    assert sandbox.store is not None
    sandbox.store.set_fault("http-503-after-commit", scope="set", times=1)
    message = built(sandbox_settings)
    http = transport.post(sandbox_settings.spine.acs_endpoint, message.interaction.action, message.body)
    assert http.status == 503 and b"Service Temporarily Unavailable" in http.body
    assert sandbox.store.assertions(NHS.digits) == OPTED_OUT

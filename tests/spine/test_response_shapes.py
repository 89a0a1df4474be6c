"""Every answer shape in the ACS protocol notes becomes a typed result or a typed error carrying Spine's codes."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from consent_desktop.domain.consent import ConsentChoice, ConsentFunction, Permission
from consent_desktop.domain.errors import PatientNotFound, SpineRejected, SpineUnavailable, UnexpectedResponse
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.spine import acs_messages, schemas
from consent_desktop.spine.envelope import OutgoingMessage, SoapFault, read_envelope
from consent_desktop.spine.hl7 import Interaction
from tests.spine import wire

NHS = NhsNumber.parse("9434765919")
NOW = datetime(2026, 11, 25, 10, 42, tzinfo=UTC)
SAMPLES = Path(__file__).parents[1] / "fixtures" / "spine-samples"


def read_get(body: bytes, status: int = 200, content_type: str = "text/xml"):  # type: ignore[no-untyped-def]
    answer = read_envelope(status, content_type, body, expected=acs_messages.GET_ANSWERS, request=wire.REQUEST)
    return acs_messages.read_get_answer(answer.hl7, NHS, NOW)


def read_set(body: bytes, request: OutgoingMessage = wire.REQUEST, status: int = 200) -> None:
    answer = read_envelope(status, "text/xml", body, expected=acs_messages.SET_ANSWERS, request=request)
    acs_messages.read_set_answer(answer.hl7)


# --- GET ---------------------------------------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-002")
def test_get_with_no_assertion_is_the_default() -> None:
    record = read_get(wire.get_response())
    assert record.assertions == ()
    assert record.choice is ConsentChoice.ASK_PERMISSION


@pytest.mark.hazard("HAZ-002")
def test_get_with_one_assertion() -> None:
    record = read_get(wire.get_response(wire.assertion("No", "View")))
    assert record.permission_for(ConsentFunction.VIEW) is Permission.NO
    assert record.permission_for(ConsentFunction.STORE) is None
    assert record.choice is ConsentChoice.OPTED_OUT


@pytest.mark.hazard("HAZ-002")
def test_get_with_two_assertions() -> None:
    record = read_get(wire.get_response(wire.assertion("No", "Store") + wire.assertion("No", "View")))
    assert {a.function for a in record.assertions} == {ConsentFunction.VIEW, ConsentFunction.STORE}
    assert record.choice is ConsentChoice.OPTED_OUT


@pytest.mark.parametrize("prefix", ["crs:", "", "hl7:"])
def test_get_permissions_in_any_namespace_prefix(prefix: str) -> None:
    record = read_get(wire.get_response(wire.assertion("Yes", "View", prefix=prefix), prefix=prefix))
    assert record.permission_for(ConsentFunction.VIEW) is Permission.YES
    assert record.choice is ConsentChoice.ASK_PERMISSION  # legacy Yes means ask


def test_get_without_the_wrapper_element() -> None:
    assert read_get(wire.get_response(wire.assertion("No", "View"), wrapper=False)).choice is ConsentChoice.OPTED_OUT


@pytest.mark.hazard("HAZ-002")
def test_get_failure_as_mcci_with_reasons() -> None:
    body = wire.mcci(
        "AE",
        reasons=wire.reason("400", "Invalid Request") + wire.reason("35160", "[PSIS-35160] x"),
        wrapper="getResourcePermissionsResponse",
    )
    with pytest.raises(PatientNotFound) as raised:
        read_get(body)
    assert raised.value.code_values == ("400", "35160")
    assert "does not recognise this NHS number" in raised.value.user_message


@pytest.mark.hazard("HAZ-002")
def test_get_failure_as_query_response_with_query_code_id() -> None:
    body = wire.get_response(ack_type="AE", reasons=wire.reason("420", "Business condition"), query_code="ID")
    with pytest.raises(SpineRejected) as raised:
        read_get(body)
    assert raised.value.code_values == ("420",)


def test_get_with_only_a_warning_is_accepted() -> None:
    body = wire.get_response(wire.assertion("No", "View"), reasons=wire.reason("24", "superseded", "WG"))
    assert read_get(body).choice is ConsentChoice.OPTED_OUT


@pytest.mark.hazard("HAZ-001", "HAZ-002")
def test_get_about_another_patient_is_refused() -> None:
    with pytest.raises(UnexpectedResponse, match="different patient"):
        read_get(wire.get_response(nhs="9990000018"))


@pytest.mark.hazard("HAZ-002")
def test_get_with_a_value_we_do_not_understand_is_refused() -> None:
    with pytest.raises(UnexpectedResponse, match="does not understand"):
        read_get(wire.get_response(wire.assertion("Maybe", "View")))


@pytest.mark.hazard("HAZ-002")
def test_get_with_duplicate_functions_is_refused() -> None:
    with pytest.raises(UnexpectedResponse, match="conflicting"):
        read_get(wire.get_response(wire.assertion("No", "View") + wire.assertion("Yes", "View")))


# --- SET ----------------------------------------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-003")
def test_set_accepted() -> None:
    read_set(wire.mcci("AA"))


@pytest.mark.hazard("HAZ-003")
def test_set_rejected_with_reasons() -> None:
    body = wire.mcci("AE", reasons=wire.reason("400", "Invalid Request") + wire.reason("401", "duplicate"))
    with pytest.raises(SpineRejected) as raised:
        read_set(body)
    assert raised.value.code_values == ("400", "401")
    assert raised.value.user_message.startswith(
        "Spine refused it: the request was not valid (Spine code 400); it repeated an earlier request, so Spine "
        "did not act on it (Spine code 401)."
    )


@pytest.mark.hazard("HAZ-003")
def test_set_rejected_with_acknowledgement_detail_and_no_wrapper() -> None:
    detail = (
        '<acknowledgementDetail typeCode="ER"><code codeSystem="2.16.840.1.113883.2.1.3.2.4.17.33" '
        'code="400" displayName="Invalid Request"/></acknowledgementDetail>'
    )
    with pytest.raises(SpineRejected) as raised:
        read_set(wire.mcci("AR", details=detail, wrapper=None))
    assert raised.value.codes[0].display == "Invalid Request"


@pytest.mark.hazard("HAZ-003")
def test_real_spine_success_sample() -> None:
    body = (SAMPLES / "set-permissions-success.xml").read_bytes()
    request = OutgoingMessage(
        Interaction("urn:nhs:names:services:lrs", "SET_RESOURCE_PERMISSIONS_INUK01"),
        "15EF2422-B111-4F45-96FC-0EB65D0F59B8",
        "15EF2422-B111-4F45-96FC-0EB65D0F59B8",
        b"",
    )
    read_set(body, request)


SPINE_REFUSAL = OutgoingMessage(  # the request the real error sample answers: its RelatesTo names no request
    Interaction("urn:nhs:names:services:lrs", "SET_RESOURCE_PERMISSIONS_INUK01"),
    "6B29FC40-CA47-1067-B31D-00DD010662DA",
    "DC9F9456-F247-4D2C-A3C1-6F5BC5C79A72",
    b"",
)


@pytest.mark.hazard("HAZ-003")
def test_real_spine_invalid_nhs_number_sample() -> None:
    """Spine's real error answer carries wsa:RelatesTo "uuid:example-request-GUID": it is tied to the request by
    the acknowledgement's messageRef, and every reason is read and told with its code."""
    body = (SAMPLES / "set-permissions-invalid-nhs-number.xml").read_bytes()
    assert b"<wsa:RelatesTo>uuid:example-request-GUID</wsa:RelatesTo>" in body
    with pytest.raises(PatientNotFound) as raised:
        read_set(body, SPINE_REFUSAL)
    assert raised.value.code_values == ("400", "35160")
    assert "[PSIS-35160]" in raised.value.codes[1].display
    assert raised.value.user_message == (
        "Spine refused it: the request was not valid (Spine code 400); Spine does not recognise this NHS number "
        "(Spine code 35160). Check the number, or find the patient again."
    )


@pytest.mark.hazard("HAZ-003", "HAZ-013")
def test_spines_template_relates_to_never_ties_an_answer_to_another_request() -> None:
    """With the template RelatesTo only the messageRef can tie an answer to the request: another request's
    messageRef, or none at all, is refused."""
    body = (SAMPLES / "set-permissions-invalid-nhs-number.xml").read_bytes()
    other = dataclasses.replace(SPINE_REFUSAL, hl7_id="3F2504E0-0000-0000-0000-0000000000AA")
    with pytest.raises(UnexpectedResponse, match="different request"):
        read_set(body, other)
    unreferenced = re.sub(rb"<messageRef>.*?</messageRef>", b"", body, flags=re.S)
    with pytest.raises(UnexpectedResponse, match="could not be matched"):
        read_set(unreferenced, SPINE_REFUSAL)


@pytest.mark.hazard("HAZ-003")
def test_every_reason_is_told_once_with_its_code_even_one_this_app_does_not_know() -> None:
    body = wire.mcci(
        "AR",
        reasons=wire.reason("400", "Invalid Request")
        + wire.reason("99999", "[PSIS-99999] - Something Spine has never said before")
        + wire.reason("", ""),
    )
    with pytest.raises(SpineRejected) as raised:
        read_set(body)
    assert raised.value.user_message == (
        "Spine refused it: the request was not valid (Spine code 400); Something Spine has never said before "
        "(Spine code 99999); a reason Spine did not describe. If it keeps happening, tell your IT team."
    )


@pytest.mark.parametrize("name", ["set-permissions-success.xml", "set-permissions-invalid-nhs-number.xml"])
def test_samples_validate_against_spines_own_schema(name: str) -> None:
    root = etree.parse(str(SAMPLES / name)).getroot()
    inner = root.find(".//{urn:hl7-org:v3}MCCI_IN010000UK13")
    assert inner is not None
    assert schemas.validation_errors(inner) == []


# --- transport-level shapes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "retryable", "not_processed"),
    [("200", True, True), ("206", True, True), ("208", True, True), ("201", False, True), ("300", False, False)],
)
def test_soap_fault_with_error_list(code: str, retryable: bool, not_processed: bool) -> None:
    with pytest.raises(SoapFault) as raised:
        read_get(wire.soap_fault((code, "System failure")), status=500)
    assert raised.value.codes[0].code == code
    assert raised.value.codes[0].system == "urn:nhs:names:error:tms"
    assert raised.value.retryable is retryable
    assert raised.value.not_processed is not_processed  # a change it carried is "NOT saved" only when True
    assert f"(Spine code {code})" in raised.value.user_message


@pytest.mark.hazard("HAZ-003", "HAZ-013")
def test_html_page_from_a_proxy() -> None:
    page = b"<!DOCTYPE html><html><body>Service Temporarily Unavailable</body></html>"
    with pytest.raises(SpineUnavailable, match="web page"):
        read_get(page, status=503, content_type="text/html")
    with pytest.raises(UnexpectedResponse, match="web page"):
        read_get(page, status=200, content_type="text/html; charset=utf-8")


@pytest.mark.parametrize(("status", "error"), [(200, UnexpectedResponse), (502, SpineUnavailable)])
def test_empty_body(status: int, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"empty|not available"):
        read_get(b"  \n", status=status)


def test_plain_http_error_without_a_fault() -> None:
    with pytest.raises(SpineUnavailable):
        read_get(wire.get_response(), status=504)


@pytest.mark.hazard("HAZ-003", "HAZ-013")
def test_answer_to_another_request_is_refused() -> None:
    with pytest.raises(UnexpectedResponse, match="different request"):
        read_get(wire.get_response(ref="99999999-0000-0000-0000-000000000000"))
    with pytest.raises(UnexpectedResponse, match="different request"):
        read_set(wire.mcci("AA", relates="99999999-0000-0000-0000-000000000000"))


def test_not_a_soap_envelope() -> None:
    with pytest.raises(UnexpectedResponse, match="not a Spine message"):
        read_get(b"<hello/>")


def test_hl7_message_in_the_wrong_namespace() -> None:
    body = wire.get_response().replace(b' xmlns="urn:hl7-org:v3"', b' xmlns="urn:example:other"')
    with pytest.raises(UnexpectedResponse, match="not a Spine message"):
        read_get(body)


@pytest.mark.hazard("HAZ-003")
def test_unexpected_message_type() -> None:
    body = wire.envelope("<QUPA_IN000009UK03/>")
    with pytest.raises(UnexpectedResponse, match="not the one expected"):
        read_get(body)


@pytest.mark.hazard("HAZ-001", "HAZ-002")
def test_get_with_an_assertion_about_another_patient_is_refused() -> None:
    with pytest.raises(UnexpectedResponse, match="different patient"):
        read_get(wire.get_response(wire.assertion("No", "View", nhs="9990000018")))

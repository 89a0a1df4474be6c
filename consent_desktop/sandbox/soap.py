"""What every sandbox Spine service shares: reading a request envelope as Spine does (header checks, schema,
authors) and writing answers in Spine's own shapes (its response-framework XSLTs), including its errors.

Error codes: Spine's numeric codes for its internal fault keys are not public. The sandbox answers schema and
business-rule failures as an HL7 ``AR`` acknowledgement with the general code ``400 Invalid Request`` followed
by a reason naming the fault key, and envelope-level (TMS) failures as an HTTP 500 SOAP fault, as Spine's MHS
samples show; see ``docs/sandbox.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from consent_desktop.domain.errors import SpineCode, UnexpectedResponse
from consent_desktop.sandbox.http import Response
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine import schemas
from consent_desktop.spine.hl7 import el, hl7_timestamp, new_uuid
from consent_desktop.spine.safe_xml import child_named, local_name, parse_untrusted, path, text_at

RESPONSE_NSMAP = {"SOAP-ENV": ns.SOAP, "wsa": ns.WSA, None: ns.HL7, "hl7": ns.HL7, "crs": ns.CRS}
# ACS error answers do not echo the request's MessageID: the real one in the SCR API's samples
# (integration-test/resources/uat/responses/acs/invalidNhsNumber.xml) carries this template value in
# wsa:RelatesTo; only the acknowledgement's messageRef names the request.
ACS_SERVICES = frozenset({"urn:nhs:names:services:lrs", "urn:nhs:names:services:lrsquery"})
ACS_ERROR_RELATES_TO = "example-request-GUID"


class Refusal(Exception):
    """A request Spine would refuse; carries the answer to send."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass(frozen=True)
class Author:
    role_profile_id: str
    user_id: str
    job_role_code: str


@dataclass(frozen=True)
class Incoming:
    """A request that passed the envelope, schema and author checks."""

    message_id: str  # without "uuid:"
    action: str
    service: str
    interaction_id: str
    hl7_id: str
    sender_asid: str
    receiver_asid: str
    message: etree._Element
    author: Author | None


def soap_fault(code: str, description: str, *, status: int = 500) -> Response:
    root = etree.Element(ns.q(ns.SOAP, "Envelope"), nsmap={"SOAP": ns.SOAP, "nasp": ns.NASP})
    fault = el(el(root, "Body", ns.SOAP), "Fault", ns.SOAP)
    etree.SubElement(fault, "faultcode").text = "SOAP:Server"
    etree.SubElement(fault, "faultstring").text = "Application Exception"
    error_list = el(etree.SubElement(fault, "detail"), "errorList", ns.NASP)
    error = el(error_list, "error", ns.NASP)
    for name, value in (
        ("codeContext", ns.TMS_CONTEXT),
        ("errorCode", code),
        ("severity", "Error"),
        ("location", "Not Supported"),
        ("description", description),
    ):
        el(error, name, ns.NASP).text = value
    return Response(status, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def read_request(body: bytes, soap_action: str) -> Incoming:
    """Spine's TMS header checks and the body checks shared by every interaction."""
    try:
        root = parse_untrusted(body, what="request")
    except UnexpectedResponse:
        raise Refusal(soap_fault("201", "The message is not well formed")) from None
    header = child_named(root, "Header")
    soap_body = child_named(root, "Body")
    if root.tag != ns.q(ns.SOAP, "Envelope") or header is None or soap_body is None or not len(soap_body):
        raise Refusal(soap_fault("201", "The message is not well formed"))
    message_id = text_at(header, "MessageID") or ""
    if len(message_id) != 41 or not message_id.startswith("uuid:"):
        raise Refusal(soap_fault("300", "SOAP_MESSAGE_ID_ERROR: MessageID must be uuid: followed by 36 characters"))
    actions = [c for c in header if isinstance(c.tag, str) and c.tag == ns.q(ns.WSA, "Action")]
    action = (actions[0].text or "").strip() if len(actions) == 1 else ""
    if not action or "/" not in action:
        raise Refusal(soap_fault("300", "SOAP_ACTION_ERROR: exactly one wsa:Action is required"))
    if not (text_at(header, "To") or ""):
        raise Refusal(soap_fault("300", "SOAP_TO_ERROR: wsa:To must not be empty"))
    message = soap_body[0]
    service, interaction_id = action.rsplit("/", 1)
    body_interaction = path(message, "interactionId")
    if (
        soap_action.strip().strip('"') != action
        or local_name(message) != interaction_id
        or body_interaction is None
        or body_interaction.get("extension") != interaction_id
    ):
        raise Refusal(soap_fault("300", "ErrorBase1732.INCONSISTENT_HL7_INTERACTION_ID"))
    header_rcv = _asid(path(header, "communicationFunctionRcv", "device", "id"))
    header_snd = _asid(path(header, "communicationFunctionSnd", "device", "id"))
    body_rcv = _asid(path(message, "communicationFunctionRcv", "device", "id"))
    body_snd = _asid(path(message, "communicationFunctionSnd", "device", "id"))
    if not header_rcv or header_rcv != body_rcv:
        raise Refusal(soap_fault("300", "SOAP_COMM_FUNC_RCV_ERROR: INCONSISTENT_COMM_FUNC_RCV"))
    if not header_snd or header_snd != body_snd:
        raise Refusal(soap_fault("300", "SOAP_COMM_FUNC_SND_ERROR: INCONSISTENT_COMM_FUNC_SND"))
    id_element = path(message, "id")
    hl7_id = (id_element.get("root") if id_element is not None else None) or ""
    incoming = Incoming(
        message_id=message_id.removeprefix("uuid:"),
        action=action,
        service=service,
        interaction_id=interaction_id,
        hl7_id=hl7_id,
        sender_asid=header_snd,
        receiver_asid=header_rcv,
        message=message,
        author=None,
    )
    if not schemas.known(interaction_id):
        raise Refusal(soap_fault("300", f"unsupported interaction {interaction_id}"))
    problems = schemas.validation_errors(message)
    if problems:
        where = problems[0].split(":", 1)[0]  # where, not what: lxml's text can quote a name or a date of birth
        raise Refusal(
            error_answer(incoming, [("400", "Invalid Request"), ("400", f"Schema validation failed, {where}")])
        )
    return _with_author(incoming)


def _asid(element: etree._Element | None) -> str:
    if element is None or element.get("root") != ns.OID_ASID:
        return ""
    return element.get("extension") or ""


def _with_author(incoming: Incoming) -> Incoming:
    control_act = child_named(incoming.message, "ControlActEvent")
    assert control_act is not None  # the schema requires it
    author1 = path(control_act, "author1", "AgentSystemSDS", "agentSystemSDS", "id")
    if _asid(author1) != incoming.sender_asid:
        raise Refusal(error_answer(incoming, [("400", "Invalid Request"), ("400", "CONTROL_ACT_AUTHOR_AGENT_INVALID")]))
    person = path(control_act, "author", "AgentPersonSDS")
    if person is None:
        # The schema allows no author, but every request from a desktop app is made by a person (see docs).
        raise Refusal(error_answer(incoming, [("400", "Invalid Request"), ("400", "CONTROL_ACT_AUTHOR_INVALID")]))
    ids = {
        "role": path(person, "id"),
        "user": path(person, "agentPersonSDS", "id"),
        "job": path(person, "part", "partSDSRole", "id"),
    }
    roots = {"role": ns.OID_ROLE_PROFILE, "user": ns.OID_SDS_USER, "job": ns.OID_JOB_ROLE}
    values = {}
    for key, element in ids.items():
        value = element.get("extension") if element is not None and element.get("root") == roots[key] else None
        if not value:
            raise Refusal(error_answer(incoming, [("400", "Invalid Request"), ("400", "CONTROL_ACT_AUTHOR_INVALID")]))
        values[key] = value
    author = Author(role_profile_id=values["role"], user_id=values["user"], job_role_code=values["job"])
    return Incoming(**{**incoming.__dict__, "author": author})


# --- answers ----------------------------------------------------------------------------------------------------


def response_message(
    incoming: Incoming, interaction_id: str, ack: str, *, version: str = "V3NPfIT3.0"
) -> tuple[etree._Element, etree._Element]:
    """An HL7 answer's wrapper (``MCCI_MT020101UK12``) and its ``ControlActEvent`` with Spine as ``author1``."""
    message = etree.Element(ns.q(ns.HL7, interaction_id), nsmap={None: ns.HL7, "crs": ns.CRS})
    el(message, "id", root=new_uuid())
    el(message, "creationTime", value=hl7_timestamp(datetime.now(UTC)))
    el(message, "versionCode", code=version)
    el(message, "interactionId", root=ns.OID_INTERACTION, extension=interaction_id)
    el(message, "processingCode", code="P")
    el(message, "processingModeCode", code="T")
    el(message, "acceptAckCode", code="NE")
    acknowledgement = el(message, "acknowledgement", typeCode=ack)
    el(el(acknowledgement, "messageRef"), "id", root=incoming.hl7_id)
    for function, type_code, asid in (
        ("communicationFunctionRcv", "RCV", incoming.sender_asid),
        ("communicationFunctionSnd", "SND", incoming.receiver_asid),
    ):
        device = el(el(message, function, typeCode=type_code), "device", classCode="DEV", determinerCode="INSTANCE")
        el(device, "id", root=ns.OID_ASID, extension=asid)
    control_act = el(message, "ControlActEvent", classCode="CACT", moodCode="EVN")
    system = el(el(control_act, "author1", typeCode="AUT"), "AgentSystemSDS", classCode="AGNT")
    el(
        el(system, "agentSystemSDS", classCode="DEV", determinerCode="INSTANCE"),
        "id",
        root=ns.OID_ASID,
        extension=incoming.receiver_asid,
    )
    return message, control_act


def add_reasons(control_act: etree._Element, reasons: Sequence[SpineCode]) -> None:
    for reason in reasons:
        event = el(
            el(control_act, "reason", typeCode="RSON"), "justifyingDetectedIssueEvent", classCode="ALRT", moodCode="EVN"
        )
        code = el(
            event,
            "code",
            code=reason.code,
            codeSystem=reason.system or ns.OID_DETECTED_ISSUE,
            displayName=reason.display,
        )
        el(code, "qualifier", code=reason.qualifier)


def error_answer(incoming: Incoming, reasons: Sequence[tuple[str, str]], *, ack: str = "AR") -> Response:
    """An ``MCCI_IN010000UK13`` carrying Spine's reasons, general code first (``syncHL7ErrorDetail_acs.xsl``)."""
    message, control_act = response_message(incoming, "MCCI_IN010000UK13", ack, version="V3NPfIT4.2.00")
    add_reasons(control_act, [SpineCode(code, display) for code, display in reasons])
    relates_to = ACS_ERROR_RELATES_TO if incoming.service in ACS_SERVICES else None
    return answer(incoming, message, wrapper=_wrapper_for(incoming), relates_to=relates_to)


def _wrapper_for(incoming: Incoming) -> str | None:
    return {
        "SET_RESOURCE_PERMISSIONS_INUK01": "setResourcePermissionsResponse",
        "GET_RESOURCE_PERMISSIONS_INUK01": "getResourcePermissionsResponse",
        "QUPA_IN000008UK02": "retrievalQueryResponse",
        "QUPA_IN000005UK01": "traceQueryResponse",
    }.get(incoming.interaction_id)


def answer(
    incoming: Incoming, message: etree._Element, *, wrapper: str | None, relates_to: str | None = None
) -> Response:
    """Wrap an HL7 answer in Spine's response envelope. Every answer is checked against Spine's XSD first."""
    problems = schemas.validation_errors(message)
    if problems:  # a sandbox bug, never something to send
        raise AssertionError(f"sandbox built an invalid {local_name(message)}: {problems[:3]}")
    root = etree.Element(ns.q(ns.SOAP, "Envelope"), nsmap=RESPONSE_NSMAP)
    header = el(root, "Header", ns.SOAP)
    el(header, "MessageID", ns.WSA).text = f"uuid:{new_uuid()}"
    el(header, "Action", ns.WSA).text = f"{incoming.service}/{local_name(message)}"
    el(header, "To", ns.WSA)
    el(el(header, "From", ns.WSA), "Address", ns.WSA).text = f"https://sandbox.invalid/{incoming.service}"
    for function, type_code, asid in (
        ("communicationFunctionRcv", "RCV", incoming.sender_asid),
        ("communicationFunctionSnd", "SND", incoming.receiver_asid),
    ):
        device = el(el(header, function, typeCode=type_code), "device", classCode="DEV", determinerCode="INSTANCE")
        el(device, "id", root=ns.OID_ASID, extension=asid)
    el(header, "RelatesTo", ns.WSA).text = f"uuid:{relates_to or incoming.message_id}"
    body = el(root, "Body", ns.SOAP)
    (el(body, wrapper) if wrapper else body).append(message)
    return Response(200, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

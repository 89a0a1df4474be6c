"""SOAP 1.1 with WS-Addressing (2004/08), the way Spine's synchronous services want it; and reading answers."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from consent_desktop.domain.errors import SpineCode, SpineUnavailable, UnexpectedResponse
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine import reasons
from consent_desktop.spine.hl7 import Hl7Answer, Interaction, el, new_uuid, read_answer
from consent_desktop.spine.safe_xml import child_named, descendants_named, local_name, parse_untrusted, text_at

RETRIABLE_TMS_CODES = frozenset({"200", "206", "208"})  # as NHS's own MHS adaptor treats them
# Faults that say Spine did not process the message: it could not parse it (201), or failed before processing it
# (200 "System failure to process message", 206 routing/delivery failure, 208 "Failure storing variable in memo"
# — the three NHS's MHS adaptor re-sends, which is safe only for a message that was not processed).
NOT_PROCESSED_TMS_CODES = RETRIABLE_TMS_CODES | {"201"}
# What Spine's error answers carry in wsa:RelatesTo instead of the request's MessageID (a real ACS error answer
# in the SCR API's samples, ../shared/spine-samples/set-permissions-invalid-nhs-number.xml): it ties nothing.
TEMPLATE_RELATES_TO = "uuid:example-request-GUID"


@dataclass(frozen=True)
class OutgoingMessage:
    interaction: Interaction
    message_id: str  # the GUID in wsa:MessageID (without "uuid:")
    hl7_id: str  # the GUID in the HL7 id/@root; Spine echoes it in messageRef
    body: bytes


def envelope(
    interaction: Interaction,
    hl7_message: etree._Element,
    *,
    to: str,
    receiver_asid: str,
    sender_asid: str,
    hl7_id: str,
) -> OutgoingMessage:
    message_id = new_uuid()
    root = etree.Element(ns.q(ns.SOAP, "Envelope"), nsmap=ns.NSMAP_REQUEST)
    header = el(root, "Header", ns.SOAP)
    el(header, "MessageID", ns.WSA).text = f"uuid:{message_id}"
    el(header, "Action", ns.WSA).text = interaction.action
    el(header, "To", ns.WSA).text = to
    el(el(header, "From", ns.WSA), "Address", ns.WSA).text = "urn:nhs:names:services:consent-desktop"
    for function, asid in (("communicationFunctionRcv", receiver_asid), ("communicationFunctionSnd", sender_asid)):
        el(el(el(header, function), "device"), "id", root=ns.OID_ASID, extension=asid)
    el(el(header, "ReplyTo", ns.WSA), "Address", ns.WSA).text = "urn:nhs:names:services:consent-desktop"
    el(root, "Body", ns.SOAP).append(hl7_message)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return OutgoingMessage(interaction=interaction, message_id=message_id, hl7_id=hl7_id, body=body)


class SoapFault(SpineUnavailable):
    """Spine's messaging layer refused the message (HTTP 500 with a SOAP Fault and ``nasp:errorList``)."""

    def __init__(self, codes: tuple[SpineCode, ...]) -> None:
        retryable = bool(codes) and all(c.code in RETRIABLE_TMS_CODES for c in codes)
        message = (
            f"Spine could not process the request just now: {reasons.described(codes)}. Try again in a moment."
            if retryable
            else f"Spine refused the request at its messaging layer: {reasons.described(codes)}."
        )
        detail = "; ".join(f"{c.code} {c.display}".strip() for c in codes) or "no error list"
        super().__init__(message, f"SOAP fault: {detail}", retryable=retryable)
        self.codes = codes

    @property
    def not_processed(self) -> bool:
        """Spine says it did not process the message: a change it carried was not made."""
        return bool(self.codes) and all(c.code in NOT_PROCESSED_TMS_CODES for c in self.codes)


@dataclass(frozen=True)
class Answer:
    """An HL7 answer found in a SOAP envelope, with the addressing needed to check it is ours."""

    hl7: Hl7Answer
    relates_to: str | None
    action: str | None


def _looks_like_html(content_type: str, body: bytes) -> bool:
    head = body.lstrip()[:200].lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html"))


def read_envelope(
    status: int, content_type: str, body: bytes, *, expected: frozenset[str], request: OutgoingMessage
) -> Answer:
    """Turn an HTTP answer into an :class:`Answer` for ``request``, or raise a typed error.

    ``expected`` holds the local names of HL7 messages that may answer this request (for example
    ``GET_RESOURCE_PERMISSIONS_RESPONSE_INUK01`` or ``MCCI_IN010000UK13``).
    """
    if _looks_like_html(content_type, body):
        raise (SpineUnavailable if status >= 500 else UnexpectedResponse)(
            "Spine could not be reached properly: a network device answered with a web page instead.",
            f"HTTP {status} with an HTML body",
        )
    if not body.strip():
        if status >= 500:
            raise SpineUnavailable("Spine is not available at the moment.", f"HTTP {status} with an empty body")
        raise UnexpectedResponse("Spine's answer was empty.", f"HTTP {status} with an empty body")
    root = parse_untrusted(body)
    if root.tag != ns.q(ns.SOAP, "Envelope"):
        raise UnexpectedResponse("Spine's answer was not a Spine message.", f"root element {local_name(root)!r}")
    soap_body = child_named(root, "Body")
    if soap_body is None:
        raise UnexpectedResponse("Spine's answer was not a Spine message.", "SOAP envelope without a Body")
    fault = child_named(soap_body, "Fault")
    if fault is not None:
        raise SoapFault(_fault_codes(fault))
    if status != 200:
        raise SpineUnavailable("Spine is not available at the moment.", f"HTTP {status} without a SOAP fault")
    message = next((m for m in soap_body.iter() if isinstance(m.tag, str) and local_name(m) in expected), None)
    if message is None:
        found = ", ".join(local_name(c) for c in soap_body if isinstance(c.tag, str)) or "nothing"
        raise UnexpectedResponse("Spine's answer was not the one expected.", f"body held {found}")
    if message.tag != ns.q(ns.HL7, local_name(message)):
        raise UnexpectedResponse("Spine's answer was not a Spine message.", "HL7 message in the wrong namespace")
    header = child_named(root, "Header")
    relates_to = text_at(header, "RelatesTo") if header is not None else None
    action = text_at(header, "Action") if header is not None else None
    answer = Answer(hl7=read_answer(message), relates_to=relates_to, action=action)
    _check_is_ours(answer, request)
    return answer


def _check_is_ours(answer: Answer, request: OutgoingMessage) -> None:
    """An answer to another request must never be mistaken for this one's. The HL7 acknowledgement's messageRef
    ties an answer to the request's HL7 id; wsa:RelatesTo is checked too, unless it is Spine's template value."""
    relates_to = answer.relates_to
    if relates_to is not None and relates_to.lower() == TEMPLATE_RELATES_TO.lower():
        relates_to = None
    if answer.hl7.message_ref is not None and answer.hl7.message_ref.upper() != request.hl7_id.upper():
        raise UnexpectedResponse("Spine's answer was for a different request.", "acknowledgement messageRef mismatch")
    if relates_to is not None and relates_to.lower() != f"uuid:{request.message_id}".lower():
        raise UnexpectedResponse("Spine's answer was for a different request.", "wsa:RelatesTo mismatch")
    if relates_to is None and answer.hl7.message_ref is None:
        raise UnexpectedResponse("Spine's answer could not be matched to the request.", "no RelatesTo or messageRef")


def _fault_codes(fault: etree._Element) -> tuple[SpineCode, ...]:
    codes = []
    for error in descendants_named(fault, "error"):
        code = text_at(error, "errorCode") or ""
        codes.append(
            SpineCode(
                code=code,
                display=text_at(error, "description") or "",
                qualifier="WG" if (text_at(error, "severity") or "").lower() == "warning" else "ER",
                system=text_at(error, "codeContext") or "",
            )
        )
    if not codes:
        faultstring = child_named(fault, "faultstring")
        text = (faultstring.text or "").strip() if faultstring is not None else ""
        codes.append(SpineCode(code="", display=text))
    return tuple(codes)

"""Hand-written Spine answers in the shapes the protocol notes list, for parser tests.

Written as text on purpose: the parser must cope with what Spine sends, not with what our own builders make.
"""

from __future__ import annotations

from consent_desktop.spine.envelope import OutgoingMessage
from consent_desktop.spine.hl7 import Interaction

REQUEST = OutgoingMessage(
    interaction=Interaction("urn:nhs:names:services:lrsquery", "GET_RESOURCE_PERMISSIONS_INUK01"),
    message_id="6B29FC40-CA47-1067-B31D-00DD010662DA",
    hl7_id="3F2504E0-4F89-11D3-9A0C-0305E82C3301",
    body=b"",
)

HEADER = """<SOAP-ENV:Header>
  <wsa:MessageID>uuid:11111111-2222-3333-4444-555555555555</wsa:MessageID>
  <wsa:Action>urn:nhs:names:services:lrsquery/{action}</wsa:Action>
  <wsa:To/>
  <wsa:RelatesTo>uuid:{relates}</wsa:RelatesTo>
</SOAP-ENV:Header>"""


def envelope(
    body: str,
    *,
    action: str = "GET_RESOURCE_PERMISSIONS_RESPONSE_INUK01",
    relates: str = REQUEST.message_id,
    default_hl7: bool = True,
) -> bytes:
    default = ' xmlns="urn:hl7-org:v3"' if default_hl7 else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        f' xmlns:hl7="urn:hl7-org:v3" xmlns:crs="http://national.carerecords.nhs.uk/schema/crs/"{default}>'
        f"{HEADER.format(action=action, relates=relates)}<SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def ack(type_code: str, ref: str = REQUEST.hl7_id, details: str = "") -> str:
    return (
        f'<acknowledgement typeCode="{type_code}">{details}'
        f'<messageRef><id root="{ref}"/></messageRef></acknowledgement>'
    )


def reason(code: str, display: str, qualifier: str = "ER") -> str:
    return (
        '<reason typeCode="RSON"><justifyingDetectedIssueEvent classCode="ALRT" moodCode="EVN">'
        f'<code code="{code}" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.33" displayName="{display}">'
        f'<qualifier code="{qualifier}"/></code></justifyingDetectedIssueEvent></reason>'
    )


def assertion(permission: str, function: str, nhs: str = "9434765919", prefix: str = "crs:") -> str:
    p = prefix
    return (
        f"<{p}accessControlAssertion><{p}permission>{permission}</{p}permission>"
        f"<{p}resource><{p}type>SCR</{p}type><{p}Id>{nhs}</{p}Id></{p}resource>"
        f"<{p}function><{p}context>Consent</{p}context><{p}code>{function}</{p}code></{p}function>"
        f"<{p}accessor><{p}type>Everyone</{p}type><{p}accessorId><{p}name>Everyone</{p}name></{p}accessorId>"
        f"</{p}accessor></{p}accessControlAssertion>"
    )


def get_response(
    assertions: str = "",
    *,
    nhs: str = "9434765919",
    prefix: str = "crs:",
    ack_type: str = "AA",
    reasons: str = "",
    query_code: str = "OK",
    wrapper: bool = True,
    ref: str = REQUEST.hl7_id,
) -> bytes:
    p = prefix
    message = (
        "<GET_RESOURCE_PERMISSIONS_RESPONSE_INUK01>"
        '<id root="AAAAAAAA-0000-0000-0000-000000000001"/><creationTime value="20261125104200"/>'
        '<versionCode code="V3NPfIT4.2.00"/>'
        '<interactionId root="2.16.840.1.113883.2.1.3.2.4.12" extension="GET_RESOURCE_PERMISSIONS_RESPONSE_INUK01"/>'
        '<processingCode code="P"/><processingModeCode code="T"/><acceptAckCode code="NE"/>'
        f"{ack(ack_type, ref)}"
        '<ControlActEvent classCode="CACT" moodCode="EVN">'
        f"{reasons}"
        f'<subject typeCode="SUBJ"><{p}getResourcePermissionsResponse><{p}permissions>'
        f'<{p}resourceContext root="2.16.840.1.113883.2.1.4.1" extension="{nhs}"/>{assertions}'
        f"</{p}permissions></{p}getResourcePermissionsResponse></subject>"
        f'<queryAck type="QueryAck"><queryResponseCode code="{query_code}"/></queryAck>'
        "</ControlActEvent></GET_RESOURCE_PERMISSIONS_RESPONSE_INUK01>"
    )
    if wrapper:
        message = f"<getResourcePermissionsResponse>{message}</getResourcePermissionsResponse>"
    return envelope(message)


def mcci(
    ack_type: str,
    *,
    reasons: str = "",
    details: str = "",
    wrapper: str | None = "setResourcePermissionsResponse",
    ref: str = REQUEST.hl7_id,
    relates: str = REQUEST.message_id,
) -> bytes:
    message = (
        "<MCCI_IN010000UK13>"
        '<id root="AAAAAAAA-0000-0000-0000-000000000002"/><creationTime value="20261125104200"/>'
        '<versionCode code="V3NPfIT3.0"/>'
        '<interactionId root="2.16.840.1.113883.2.1.3.2.4.12" extension="MCCI_IN010000UK13"/>'
        '<processingCode code="P"/><processingModeCode code="T"/><acceptAckCode code="NE"/>'
        f"{ack(ack_type, ref, details)}"
        f'<ControlActEvent classCode="CACT" moodCode="EVN">{reasons}</ControlActEvent>'
        "</MCCI_IN010000UK13>"
    )
    if wrapper:
        message = f"<{wrapper}>{message}</{wrapper}>"
    return envelope(message, action="MCCI_IN010000UK13", relates=relates)


def soap_fault(*codes: tuple[str, str]) -> bytes:
    errors = "".join(
        "<nasp:error><nasp:codeContext>urn:nhs:names:error:tms</nasp:codeContext>"
        f"<nasp:errorCode>{code}</nasp:errorCode><nasp:severity>Error</nasp:severity>"
        f"<nasp:location>Not Supported</nasp:location><nasp:description>{text}</nasp:description></nasp:error>"
        for code, text in codes
    )
    return (
        '<SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/"><SOAP:Body><SOAP:Fault>'
        "<faultcode>SOAP:Server</faultcode><faultstring>Application Exception</faultstring>"
        f'<detail><nasp:errorList xmlns:nasp="http://national.carerecords.nhs.uk/schema/">{errors}</nasp:errorList>'
        "</detail></SOAP:Fault></SOAP:Body></SOAP:Envelope>"
    ).encode()

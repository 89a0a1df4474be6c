"""GET_RESOURCE_PERMISSIONS_INUK01 and SET_RESOURCE_PERMISSIONS_INUK01: building requests, reading answers.

Shapes follow Spine's own XSDs (``spine/schemas``) and the SCR API's production template; see
``docs/acs-protocol.md`` in the shared notes for every rule and its source.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from consent_desktop.domain.consent import (
    ConsentAssertion,
    ConsentChoice,
    ConsentFunction,
    ConsentRecord,
    Permission,
)
from consent_desktop.domain.errors import PatientNotFound, SpineRejected, UnexpectedResponse
from consent_desktop.domain.identity import SpineIdentity
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine import reasons
from consent_desktop.spine.envelope import OutgoingMessage, envelope
from consent_desktop.spine.hl7 import Hl7Answer, Interaction, add_authors, el, new_uuid, transmission_wrapper
from consent_desktop.spine.safe_xml import child_named, children_named, descendants_named, text_at

GET = Interaction("urn:nhs:names:services:lrsquery", "GET_RESOURCE_PERMISSIONS_INUK01")
SET = Interaction("urn:nhs:names:services:lrs", "SET_RESOURCE_PERMISSIONS_INUK01")
GET_ANSWERS = frozenset({"GET_RESOURCE_PERMISSIONS_RESPONSE_INUK01", "MCCI_IN010000UK13"})
SET_ANSWERS = frozenset({"MCCI_IN010000UK13"})

NSMAP = {None: ns.HL7, "crs": ns.CRS}

NOT_FOUND_CODES = frozenset({"35160"})


def _crs(parent: etree._Element, local: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = el(parent, local, ns.CRS, **attrs)
    if text is not None:
        element.text = text
    return element


def build_get(
    nhs_number: NhsNumber, identity: SpineIdentity, *, to: str, spine_asid: str, local_asid: str, now: datetime
) -> OutgoingMessage:
    hl7_id = new_uuid()
    message, control_act = transmission_wrapper(
        GET, hl7_id=hl7_id, created=now, receiver_asid=spine_asid, sender_asid=local_asid, nsmap=NSMAP
    )
    add_authors(control_act, identity, local_asid)
    query = _crs(_crs(control_act, "getResourcePermissionsRequest"), "accessControlQuery")
    _crs(query, "resourceContext", root=ns.OID_NHS_NUMBER, extension=nhs_number.digits)
    criteria = _crs(query, "queryCriteria")
    # No function code: Spine then answers with both the View and the Store assertion.
    _crs(_crs(criteria, "function"), "context", "Consent")
    resource = _crs(criteria, "resource")
    _crs(resource, "type", "SCR")
    _crs(resource, "Id", nhs_number.digits)
    return envelope(GET, message, to=to, receiver_asid=spine_asid, sender_asid=local_asid, hl7_id=hl7_id)


def build_set(
    nhs_number: NhsNumber,
    choice: ConsentChoice,
    identity: SpineIdentity,
    *,
    to: str,
    spine_asid: str,
    local_asid: str,
    now: datetime,
) -> OutgoingMessage:
    """Set View and Store together, to the same value, so the two can never disagree after our change."""
    hl7_id = new_uuid()
    message, control_act = transmission_wrapper(
        SET, hl7_id=hl7_id, created=now, receiver_asid=spine_asid, sender_asid=local_asid, nsmap=NSMAP
    )
    add_authors(control_act, identity, local_asid)
    permissions = _crs(_crs(control_act, "setResourcePermissionsRequest"), "permissions")
    _crs(permissions, "resourceContext", root=ns.OID_NHS_NUMBER, extension=nhs_number.digits)
    for function in (ConsentFunction.VIEW, ConsentFunction.STORE):
        assertion = _crs(permissions, "accessControlAssertion")
        _crs(assertion, "permission", choice.wire_value.value)
        resource = _crs(assertion, "resource")
        _crs(resource, "type", "SCR")
        _crs(resource, "Id", nhs_number.digits)
        function_el = _crs(assertion, "function")
        _crs(function_el, "context", "Consent")
        _crs(function_el, "code", function.value)
        accessor = _crs(assertion, "accessor")
        _crs(accessor, "type", "Everyone")
        _crs(_crs(accessor, "accessorId"), "name", "Everyone")
    return envelope(SET, message, to=to, receiver_asid=spine_asid, sender_asid=local_asid, hl7_id=hl7_id)


def rejection(answer: Hl7Answer) -> SpineRejected:
    """The typed error for an answer that is not a plain acceptance, saying every reason Spine gave."""
    codes = answer.errors or answer.reasons
    message = f"Spine refused it: {reasons.described(codes)}. {reasons.next_step(codes)}"
    values = {c.code for c in codes}
    if values & NOT_FOUND_CODES:
        return PatientNotFound(message, codes)
    return SpineRejected(message, codes, retryable="502" in values)


def read_get_answer(answer: Hl7Answer, nhs_number: NhsNumber, read_at: datetime) -> ConsentRecord:
    if not answer.accepted:
        raise rejection(answer)
    permissions = next(iter(descendants_named(answer.element, "permissions")), None)
    if permissions is None:
        raise UnexpectedResponse("Spine's answer did not include the consent record.", "no permissions element")
    context = child_named(permissions, "resourceContext")
    if context is None or context.get("extension") != nhs_number.digits:
        raise UnexpectedResponse("Spine's answer was about a different patient.", "resourceContext mismatch")
    assertions = []
    for item in children_named(permissions, "accessControlAssertion"):
        function_code = text_at(item, "function", "code")
        permission = text_at(item, "permission")
        if text_at(item, "function", "context") != "Consent":
            continue  # e.g. Sealing: not part of SCR consent
        if text_at(item, "resource", "Id") != nhs_number.digits:
            raise UnexpectedResponse("Spine's answer was about a different patient.", "assertion resource Id mismatch")
        try:
            assertions.append(ConsentAssertion(ConsentFunction(function_code or ""), Permission(permission or "")))
        except ValueError:
            raise UnexpectedResponse(
                "Spine's answer held a consent value this app does not understand.",
                f"assertion function={function_code!r} permission={permission!r}",
            ) from None
    functions = [a.function for a in assertions]
    if len(set(functions)) != len(functions):
        raise UnexpectedResponse("Spine's answer held conflicting consent values.", "duplicate assertion")
    return ConsentRecord(nhs_number=nhs_number, assertions=tuple(assertions), read_at=read_at)


def read_set_answer(answer: Hl7Answer) -> None:
    """Return quietly for an ``AA``; raise :class:`SpineRejected` (or a subclass) otherwise."""
    if answer.interaction_id != "MCCI_IN010000UK13":
        raise UnexpectedResponse("Spine's answer was not the one expected.", answer.interaction_id)
    if not answer.accepted:
        raise rejection(answer)

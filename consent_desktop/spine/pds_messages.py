"""PDS retrieval (``QUPA_IN000008UK02``) and simple trace (``QUPA_IN000005UK01``): building requests, reading answers.

Answers are ``QUPA_IN000009UK03`` (retrieval), ``QUPA_IN000007UK01`` (trace), ``QUQI_IN010000UK14`` (query failed)
or, for a request Spine's messaging layer refuses, ``MCCI_IN010000UK13``; all are found by local name. Shapes follow
Spine's XSDs (``spine/schemas``); ``docs/pds-sandbox-assumptions.md`` lists which codes are confirmed and which are
this project's assumption.

A restricted ("S-flag") record's address, telecom and GP practice are never read, even when an answer carries them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from lxml import etree

from consent_desktop.domain.errors import (
    InvalidNhsNumber,
    PatientNotFound,
    SpineCode,
    SpineRejected,
    UnexpectedResponse,
)
from consent_desktop.domain.identity import SpineIdentity
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Gender, Patient, TraceOutcome, TraceQuery
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine.envelope import OutgoingMessage, envelope
from consent_desktop.spine.hl7 import Hl7Answer, Interaction, add_authors, el, new_uuid, transmission_wrapper
from consent_desktop.spine.safe_xml import child_named, children_named, path

SERVICE = "urn:nhs:names:services:pdsquery"
RETRIEVE = Interaction(SERVICE, "QUPA_IN000008UK02")
TRACE = Interaction(SERVICE, "QUPA_IN000005UK01")
RETRIEVE_ANSWER = "QUPA_IN000009UK03"
TRACE_ANSWER = "QUPA_IN000007UK01"
QUERY_FAILED = "QUQI_IN010000UK14"
RETRIEVE_ANSWERS = frozenset({RETRIEVE_ANSWER, QUERY_FAILED, "MCCI_IN010000UK13"})
TRACE_ANSWERS = frozenset({TRACE_ANSWER, QUERY_FAILED, "MCCI_IN010000UK13"})

NSMAP: dict[str | None, str] = {None: ns.HL7}
OID_HISTORIC_DATA = "2.16.840.1.113883.2.1.3.2.4.17.36"
OID_SENSITIVITY = "2.16.840.1.113883.2.1.3.2.4.16.1"
OID_CARE_PROVISION = "2.16.840.1.113883.2.1.3.2.4.17.37"
GP_REGISTRATION = "1"  # PatientCareProvisionType: the registered GP (P1-P3 are pharmacies)

# PDSResponseCodes (2.16.840.1.113883.2.1.3.2.4.17.42) this app acts on.
NO_MATCH_CODES = frozenset({"1", "RT003"})
INVALIDATED_CODE = "22"  # the project's assumption: the code is not public (see docs/pds-sandbox-assumptions.md)
TOO_MANY_CODE = "7"
SUPERSEDED_CODE = "24"
LIMITED_DATA_CODES = frozenset({"5", "9"})  # sensitivity conditions: trace (5), retrieval (9)

REFUSED = "Spine refused the patient search. Try again; if it happens again, tell your IT team."


# --- requests ----------------------------------------------------------------------------------------------------


def _semantics(parent: etree._Element, element: str, text: str) -> etree._Element:
    item = el(parent, element)
    el(item, "semanticsText").text = text
    return item


def build_retrieval(
    nhs_number: NhsNumber, identity: SpineIdentity, *, to: str, spine_asid: str, local_asid: str, now: datetime
) -> OutgoingMessage:
    """All current data for one NHS number: without ``person.allData`` Spine returns only the serial change number."""
    hl7_id = new_uuid()
    message, control_act = transmission_wrapper(
        RETRIEVE, hl7_id=hl7_id, created=now, receiver_asid=spine_asid, sender_asid=local_asid, nsmap=NSMAP
    )
    add_authors(control_act, identity, local_asid)
    query = el(control_act, "query")
    historic = _semantics(query, "historicDataIndicator", "HistoricDataIndicator")
    el(historic, "value", code="0", codeSystem=OID_HISTORIC_DATA)
    person_id = _semantics(query, "person.id", "Person.id")
    el(person_id, "value", root=ns.OID_NHS_NUMBER, extension=nhs_number.digits)
    _semantics(query, "retrievalItem", "person.allData")
    return envelope(RETRIEVE, message, to=to, receiver_asid=spine_asid, sender_asid=local_asid, hl7_id=hl7_id)


def build_trace(
    trace: TraceQuery, identity: SpineIdentity, *, to: str, spine_asid: str, local_asid: str, now: datetime
) -> OutgoingMessage:
    """A simple trace, its query items in the XSD's order: address, gender, birth date, name."""
    hl7_id = new_uuid()
    message, control_act = transmission_wrapper(
        TRACE, hl7_id=hl7_id, created=now, receiver_asid=spine_asid, sender_asid=local_asid, nsmap=NSMAP
    )
    add_authors(control_act, identity, local_asid)
    query = el(control_act, "query")
    if trace.postcode:
        address = _semantics(query, "person.address", "Person.address")
        el(el(address, "value"), "postalCode").text = trace.postcode
    gender = _semantics(query, "person.administrativeGenderCode", "Person.administrativeGenderCode")
    el(gender, "value", code=trace.gender.value)
    birth = _semantics(query, "person.birthTime", "Person.birthTime")
    el(birth, "value", value=trace.birth_date.strftime("%Y%m%d"))
    name = el(_semantics(query, "person.name", "Person.name"), "value")
    if trace.given_name:
        el(name, "given").text = trace.given_name
    el(name, "family").text = trace.family_name
    return envelope(TRACE, message, to=to, receiver_asid=spine_asid, sender_asid=local_asid, hl7_id=hl7_id)


# --- answers -----------------------------------------------------------------------------------------------------


def _pds_codes(codes: tuple[SpineCode, ...]) -> set[str]:
    """Codes from PDSResponseCodes; a code with no system counts, one from another code system never does."""
    return {c.code for c in codes if c.system in ("", ns.OID_PDS_RESPONSE)}


def read_retrieval(answer: Hl7Answer, requested: NhsNumber) -> Patient:
    """The patient, or :class:`PatientNotFound` for an unknown or invalidated number; any other refusal raises."""
    if not answer.accepted:
        codes = answer.errors or answer.reasons
        if _pds_codes(codes) & (NO_MATCH_CODES | {INVALIDATED_CODE}):
            raise PatientNotFound(f"No patient found with NHS number {requested.formatted}.", codes)
        raise SpineRejected(REFUSED, codes)
    if answer.interaction_id != RETRIEVE_ANSWER:
        raise UnexpectedResponse("Spine's answer was not the one expected.", answer.interaction_id)
    role = path(answer.element, "ControlActEvent", "subject", "PDSResponse", "subject", "patientRole")
    if role is None:
        raise UnexpectedResponse("Spine's answer did not include the patient.", "no PDSResponse patientRole")
    patient = _patient(role, answer.warnings, retrieval=True)
    if patient.nhs_number == requested:
        return patient
    if SUPERSEDED_CODE in _pds_codes(answer.warnings) and requested.digits in _replaced_numbers(role):
        return replace(patient, superseded_from=requested)
    raise UnexpectedResponse(
        "Spine's answer was about a different patient.", "patient id differs from the number asked for"
    )


def read_trace(answer: Hl7Answer) -> TraceOutcome:
    """A unique match, no match (codes 1/RT003) or too many (code 7); any other refusal raises."""
    if not answer.accepted:
        codes = answer.errors or answer.reasons
        found = _pds_codes(codes)
        if TOO_MANY_CODE in found:
            return TraceOutcome.too_many()
        if found & NO_MATCH_CODES:
            return TraceOutcome.no_match()
        raise SpineRejected(REFUSED, codes)
    if answer.interaction_id != TRACE_ANSWER:
        raise UnexpectedResponse("Spine's answer was not the one expected.", answer.interaction_id)
    role = path(answer.element, "ControlActEvent", "subject", "PdsTraceMatch", "subject", "patientRole")
    if role is None:
        raise UnexpectedResponse("Spine's answer did not include the patient.", "no PdsTraceMatch patientRole")
    return TraceOutcome.match(_patient(role, answer.warnings, retrieval=False))


def _replaced_numbers(role: etree._Element) -> set[str]:
    numbers = set()
    for replacement in children_named(role, "replacementOf"):
        old = path(replacement, "oldVersion", "id")
        if old is not None and old.get("root") == ns.OID_NHS_NUMBER and old.get("extension"):
            numbers.add(old.get("extension") or "")
    return numbers


def _patient(role: etree._Element, warnings: tuple[SpineCode, ...], *, retrieval: bool) -> Patient:
    person = child_named(role, "patientPerson")
    sensitivity = child_named(role, "confidentialityCode")
    restricted = (sensitivity is not None and sensitivity.get("code") == "S") or bool(
        _pds_codes(warnings) & LIMITED_DATA_CODES
    )
    family, given, title = _name_parts(_preferred(_names(person, retrieval=retrieval), "L"))
    lines = postcode = gp = None
    if not restricted:  # an S-flagged record's location is never read, whatever the answer carries
        address = _preferred(_addresses(role, person, retrieval=retrieval), "H")
        if address is not None:
            lines = tuple(t for t in (_text(line) for line in children_named(address, "streetAddressLine")) if t)
            postcode = _text(child_named(address, "postalCode"))
        gp = _gp_practice(person, retrieval=retrieval)
    return Patient(
        nhs_number=_nhs_number(role),
        family_name=family,
        given_names=given,
        title=title,
        birth_date=_date(person, "birthTime"),
        gender=_gender(person),
        address_lines=lines,
        postcode=postcode,
        gp_practice=gp,
        date_of_death=_date(person, "deceasedTime"),
        restricted=restricted,
        warnings=warnings,
    )


def _name_parts(name: etree._Element | None) -> tuple[str | None, tuple[str, ...], str | None]:
    if name is None:
        return None, (), None
    given = tuple(t for t in (_text(g) for g in children_named(name, "given")) if t)
    return _text(child_named(name, "family")), given, _text(child_named(name, "prefix"))


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def _nhs_number(role: etree._Element) -> NhsNumber:
    ids = [i for i in children_named(role, "id") if i.get("root") == ns.OID_NHS_NUMBER]
    if len(ids) != 1:
        raise UnexpectedResponse("Spine's answer did not identify the patient.", "no single NHS number id")
    try:
        return NhsNumber(ids[0].get("extension") or "")
    except InvalidNhsNumber:
        raise UnexpectedResponse("Spine's answer held an NHS number that is not valid.", "bad NHS number") from None


def _date(person: etree._Element | None, what: str) -> date | None:
    element = child_named(person, what) if person is not None else None
    if element is None:
        return None
    value = element.get("value") or ""
    try:
        if len(value) < 8 or not value[:8].isdigit():
            raise ValueError(value)
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise UnexpectedResponse(
            "Spine's answer held a date this app cannot read.", f"{what} is not a full date"
        ) from None


def _gender(person: etree._Element | None) -> Gender | None:
    element = child_named(person, "administrativeGenderCode") if person is not None else None
    if element is None:
        return None
    try:
        return Gender(element.get("code"))
    except ValueError:
        raise UnexpectedResponse(
            "Spine's answer held a gender this app does not understand.", "administrativeGenderCode"
        ) from None


def _names(person: etree._Element | None, *, retrieval: bool) -> list[etree._Element]:
    if person is None:
        return []
    if not retrieval:
        return children_named(person, "name")
    wholes = children_named(person, "COCT_MT000203UK02.PartOfWhole")
    return [n for n in (path(w, "partPerson", "name") for w in wholes) if n is not None]


def _addresses(role: etree._Element, person: etree._Element | None, *, retrieval: bool) -> list[etree._Element]:
    if not retrieval:
        return children_named(role, "addr")
    wholes = children_named(person, "COCT_MT000201UK02.PartOfWhole") if person is not None else []
    return [a for a in (child_named(w, "addr") for w in wholes) if a is not None]


def _ended(element: etree._Element) -> bool:
    """A name or address whose validity period has a recorded end is history, not the current one."""
    for period in ("validTime", "useablePeriod"):
        high = path(element, period, "high")
        if high is not None and high.get("value"):
            return True
    return False


def _preferred(candidates: list[etree._Element], use: str) -> etree._Element | None:
    """The current one with ``use`` (usual name ``L``, home address ``H``), else the first current, else the first."""
    current = [c for c in candidates if not _ended(c)]
    for candidate in current:
        if use in (candidate.get("use") or "").split():
            return candidate
    remaining = current or candidates
    return remaining[0] if remaining else None


def _gp_practice(person: etree._Element | None, *, retrieval: bool) -> str | None:
    if person is None:
        return None
    event_name, performer_name = (
        ("patientCareProvisionEvent", "assignedEntity")
        if retrieval
        else ("patientCareProvision", "assignedOrganization")
    )
    for provider in children_named(person, "playedOtherProviderPatient"):
        event = path(provider, "subjectOf", event_name)
        if event is None or _ended_event(event):
            continue
        code = child_named(event, "code")
        if code is None or code.get("code") != GP_REGISTRATION or code.get("codeSystem") != OID_CARE_PROVISION:
            continue
        practice = path(event, "performer", performer_name, "id")
        if practice is not None and practice.get("root") == ns.OID_ODS and practice.get("extension"):
            return practice.get("extension")
    return None


def _ended_event(event: etree._Element) -> bool:
    high = path(event, "effectiveTime", "high")
    return high is not None and bool(high.get("value"))

"""The sandbox's Personal Demographics Service: Spine's retrieval and simple-trace checks (its ``p1r2_*Validation``
schematron) over the synthetic patients, answering in Spine's shapes.

Where public sources are silent (the code for an invalidated number, the trace wrapper, which warning goes with
which query, how a reduced-precision birth date is refused) the choices are listed in
``docs/pds-sandbox-assumptions.md``; ``spine/pds_messages.py`` reads exactly these.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from lxml import etree

from consent_desktop.domain.errors import SpineCode
from consent_desktop.sandbox import patients
from consent_desktop.sandbox.http import Response
from consent_desktop.sandbox.patients import SyntheticPatient
from consent_desktop.sandbox.soap import Incoming, Refusal, add_reasons, answer, response_message
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine import pds_messages as pds
from consent_desktop.spine.hl7 import el
from consent_desktop.spine.safe_xml import children_named, path, text_at

VERSION = "3NPfIT6.3.01"  # what Spine's PDS answers carry
RETRIEVAL_WRAPPER = "retrievalQueryResponse"
TRACE_WRAPPER = "traceQueryResponse"
OID_DEATH_STATUS = "2.16.840.1.113883.2.1.3.2.4.16.5"
OID_PDS_OBSERVATION = "2.16.840.1.113883.2.1.3.2.4.17.35"
OID_CARE_EVENT_ID = "2.16.840.1.113883.2.1.3.2.4.18.1"


def _pds(code: str, display: str, qualifier: str = "ER") -> SpineCode:
    return SpineCode(code, display, qualifier, ns.OID_PDS_RESPONSE)


NO_MATCH = (_pds("1", "No match to a Service User record"), _pds("RT003", "No match to a Service User record"))
INVALIDATED = (_pds(pds.INVALIDATED_CODE, "NHS Number of response record has been invalidated"),)
TOO_MANY = (_pds(pds.TOO_MANY_CODE, "More than one match to a Service User record"),)
SUPERSEDED = _pds(
    pds.SUPERSEDED_CODE,
    "NHS Number supplied as a parameter has been superseded and superseding NHS Number returned",
    "WG",
)
LIMITED_RETRIEVAL = _pds("9", "Successful retrieval - Information returned limited by sensitivity conditions", "WG")
LIMITED_TRACE = _pds("5", "Match - NHS Number and limited data only returned (sensitivity conditions apply)", "WG")


@dataclass(frozen=True)
class TraceCriteria:
    """What a simple trace asked for, as Spine's validator reports it."""

    family: str
    given: str | None
    gender: str
    born: date
    postcode: str | None


def _invalid(incoming: Incoming, key: str, text: str) -> Refusal:
    """A query Spine's PDS validator refuses, answered with its query-failure template (``QUQI_IN010000UK14``)."""
    return Refusal(
        _failed(
            incoming,
            [SpineCode("400", "Invalid Request"), SpineCode("400", f"ErrorBase1742.{key}: {text}")],
            ack="AR",
        )
    )


def _failed(incoming: Incoming, reasons: Sequence[SpineCode], *, ack: str = "AE") -> Response:
    message, control_act = response_message(incoming, pds.QUERY_FAILED, ack, version=VERSION)
    add_reasons(control_act, reasons)
    el(el(control_act, "queryAck", type="QueryAck"), "queryResponseCode", code="ID")
    wrapper = RETRIEVAL_WRAPPER if incoming.interaction_id == pds.RETRIEVE.interaction_id else TRACE_WRAPPER
    return answer(incoming, message, wrapper=wrapper)


def fold(text: str) -> str:
    """How the sandbox compares names and postcodes: case, accents' encoding, apostrophe style and spacing aside."""
    normal = unicodedata.normalize("NFC", text).translate({0x2019: "'", 0x2018: "'", 0x02BC: "'"})
    return " ".join(normal.split()).casefold()


def _compact_postcode(text: str | None) -> str:
    return "".join((text or "").split()).upper()


class PdsService:
    # --- retrieval ---------------------------------------------------------------------------------------------

    def retrieve(self, incoming: Incoming, *, other_patient: bool = False) -> Response:
        query = path(incoming.message, "ControlActEvent", "query")
        assert query is not None  # the schema requires it
        value = path(query, "person.id", "value")
        nhs_number = (value.get("extension") or "").strip() if value is not None else ""
        if not nhs_number:
            raise _invalid(incoming, "NHS_NUMBER_UNSPECIFIED", "person.id extension is missing")
        if len(nhs_number) != 10:
            raise _invalid(incoming, "INVALID_NHS_NUMBER", "the NHS number must be 10 characters")
        historic = path(query, "historicDataIndicator", "value")
        if historic is None or historic.get("code") not in ("0", "1"):
            raise _invalid(incoming, "INVALID_HISTORIC_DATA_INDICATOR", "historicDataIndicator must be 0 or 1")
        warnings: list[SpineCode] = []
        if value is not None and value.get("root") != ns.OID_NHS_NUMBER:
            warnings.append(SpineCode("400", "ErrorBase1742.NHS_NUMBER_UNSPECIFIED: not an NHS number root", "WG"))
        items = {text_at(item, "semanticsText") for item in children_named(query, "retrievalItem")}
        serial_only = not (items - {None, "person.scn"})  # no retrievalItem: Spine defaults to person.scn

        if nhs_number in patients.INVALIDATED:
            return _failed(incoming, INVALIDATED)
        superseded_from = nhs_number if nhs_number in patients.SUPERSEDED else None
        record = patients.current(patients.SUPERSEDED.get(nhs_number, nhs_number))
        if record is None:
            return _failed(incoming, NO_MATCH)
        if other_patient:  # a fault: answer about someone else, as a misrouted answer would
            record = next(p for p in patients.PATIENTS if p.nhs_number != record.nhs_number)
            superseded_from = None
        if superseded_from:
            warnings.append(SUPERSEDED)
        if record.restricted and not serial_only:
            warnings.append(LIMITED_RETRIEVAL)
        return retrieval_answer(incoming, record, warnings, superseded_from, serial_only=serial_only)

    # --- simple trace ------------------------------------------------------------------------------------------

    def trace(self, incoming: Incoming) -> Response:
        criteria = read_trace_query(incoming)
        matches = [p for p in patients.PATIENTS if _matches(p, criteria)]
        if not matches:
            return _failed(incoming, NO_MATCH)
        if len(matches) > 1:
            return _failed(incoming, TOO_MANY)
        return trace_answer(incoming, matches[0])


def retrieval_answer(
    incoming: Incoming,
    record: SyntheticPatient,
    warnings: Sequence[SpineCode],
    superseded_from: str | None,
    *,
    serial_only: bool,
) -> Response:
    """``QUPA_IN000009UK03`` for one record; a restricted record's location is never written."""
    message, control_act = response_message(incoming, pds.RETRIEVE_ANSWER, "AA", version=VERSION)
    add_reasons(control_act, warnings)
    response = el(el(control_act, "subject", typeCode="SUBJ"), "PDSResponse", classCode="OBS", moodCode="EVN")
    serial = el(
        el(response, "pertinentInformation", typeCode="PERT"),
        "pertinentSerialChangeNumber",
        classCode="OBS",
        moodCode="EVN",
    )
    el(serial, "code", code="2", codeSystem=OID_PDS_OBSERVATION)
    el(serial, "value", value="1")
    role = el(el(response, "subject", typeCode="SBJ"), "patientRole", classCode="PAT")
    if record.restricted:
        el(role, "confidentialityCode", code="S", codeSystem=pds.OID_SENSITIVITY)
    el(role, "id", root=ns.OID_NHS_NUMBER, extension=record.nhs_number)
    if not serial_only:
        person = el(role, "patientPerson", classCode="PSN", determinerCode="INSTANCE")
        _person_basics(person, record)
        if not record.restricted and record.gp:
            event = el(
                el(el(person, "playedOtherProviderPatient", classCode="PAT"), "subjectOf", typeCode="SBJ"),
                "patientCareProvisionEvent",
                classCode="PCPR",
                moodCode="EVN",
            )
            el(event, "code", code=pds.GP_REGISTRATION, codeSystem=pds.OID_CARE_PROVISION)
            el(el(event, "effectiveTime"), "low", value="20200101")
            el(event, "id", root=OID_CARE_EVENT_ID, extension="sbx1")
            performer = el(event, "performer", typeCode="PRF")
            el(el(performer, "assignedEntity", classCode="ASSIGNED"), "id", root=ns.OID_ODS, extension=record.gp)
        if not record.restricted and (record.address or record.postcode):
            _address(el(person, "COCT_MT000201UK02.PartOfWhole", classCode="PART"), record)
        whole = el(person, "COCT_MT000203UK02.PartOfWhole", classCode="PART")
        _name(el(whole, "partPerson", classCode="PSN", determinerCode="INSTANCE"), record)
        if superseded_from:
            replaced = el(el(role, "replacementOf", typeCode="REPL"), "oldVersion", classCode="PAT")
            el(replaced, "id", root=ns.OID_NHS_NUMBER, extension=superseded_from)
        if record.died:
            _death_notification(el(role, "subjectOf2", typeCode="SBJ"))
    el(el(control_act, "queryAck", type="QueryAck"), "queryResponseCode", code="OK")
    return answer(incoming, message, wrapper=RETRIEVAL_WRAPPER)


def trace_answer(incoming: Incoming, record: SyntheticPatient) -> Response:
    """``QUPA_IN000007UK01`` for a unique match; a restricted record's location is never written."""
    message, control_act = response_message(incoming, pds.TRACE_ANSWER, "AA", version=VERSION)
    add_reasons(control_act, [LIMITED_TRACE] if record.restricted else [])
    match = el(el(control_act, "subject", typeCode="SUBJ"), "PdsTraceMatch", classCode="OBS", moodCode="EVN")
    role = el(el(match, "subject", typeCode="SBJ"), "patientRole", classCode="PAT")
    if record.restricted:
        el(role, "confidentialityCode", code="S", codeSystem=pds.OID_SENSITIVITY)
    elif record.address or record.postcode:
        _address(role, record)
    el(role, "id", root=ns.OID_NHS_NUMBER, extension=record.nhs_number)
    person = el(role, "patientPerson", classCode="PSN", determinerCode="INSTANCE")
    _person_basics(person, record)
    _name(person, record)
    if not record.restricted and record.gp:
        provision = el(
            el(el(person, "playedOtherProviderPatient", classCode="PAT"), "subjectOf", typeCode="SBJ"),
            "patientCareProvision",
            classCode="PCPR",
            moodCode="EVN",
        )
        el(provision, "code", code=pds.GP_REGISTRATION, codeSystem=pds.OID_CARE_PROVISION)
        performer = el(provision, "performer", typeCode="PRF")
        el(el(performer, "assignedOrganization", classCode="ASSIGNED"), "id", root=ns.OID_ODS, extension=record.gp)
    if record.died:
        _death_notification(el(role, "subjectOf3", typeCode="SBJ"))
    el(el(control_act, "queryAck", type="QueryAck"), "queryResponseCode", code="OK")
    return answer(incoming, message, wrapper=TRACE_WRAPPER)


def read_trace_query(incoming: Incoming) -> TraceCriteria:
    """The search fields, after Spine's checks: exactly one family name and one full date of birth."""
    query = path(incoming.message, "ControlActEvent", "query")
    assert query is not None  # the schema requires it
    name = path(query, "person.name", "value")
    families = children_named(name, "family") if name is not None else []
    family = "".join(families[0].itertext()).strip() if len(families) == 1 else ""
    if not family:
        raise _invalid(incoming, "MISSING_MANDATORY_SEARCH_FIELD[name.family]", "exactly one family name is required")
    given = children_named(name, "given") if name is not None else []
    gender = path(query, "person.administrativeGenderCode", "value")
    gender_code = gender.get("code") if gender is not None else None
    if gender_code not in ("0", "1", "2", "9"):
        raise _invalid(incoming, "MISSING_MANDATORY_SEARCH_FIELD[administrativeGenderCode]", "0, 1, 2 or 9")
    birth = path(query, "person.birthTime", "value")
    born = _full_date((birth.get("value") if birth is not None else None) or "")
    if born is None:
        raise _invalid(
            incoming,
            "MISSING_MANDATORY_SEARCH_FIELD[birthTime]",
            "a simple trace takes one full date of birth (yyyyMMdd); a range needs the advanced trace",
        )
    postcode = path(query, "person.address", "value", "postalCode")
    return TraceCriteria(
        family=family,
        given=("".join(given[0].itertext()).strip() or None) if given else None,
        gender=gender_code,
        born=born,
        postcode=("".join(postcode.itertext()).strip() or None) if postcode is not None else None,
    )


def _full_date(value: str) -> date | None:
    if len(value) != 8 or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _matches(record: SyntheticPatient, criteria: TraceCriteria) -> bool:
    if fold(record.family) != fold(criteria.family) or record.gender != criteria.gender:
        return False
    if record.born != criteria.born:
        return False
    if criteria.given and (not record.given or fold(record.given[0]) != fold(criteria.given)):
        return False
    if criteria.postcode:
        # A search that includes the postcode never finds a restricted record (as PDS FHIR documents).
        return not record.restricted and _compact_postcode(record.postcode) == _compact_postcode(criteria.postcode)
    return True


# --- shared parts of both answers ------------------------------------------------------------------------------


def _person_basics(person: etree._Element, record: SyntheticPatient) -> None:
    el(person, "administrativeGenderCode", code=record.gender)
    el(person, "birthTime", value=record.born.strftime("%Y%m%d"))
    if record.died:
        el(person, "deceasedTime", value=record.died.strftime("%Y%m%d"))


def _name(parent: etree._Element, record: SyntheticPatient) -> None:
    name = el(parent, "name", use="L")
    if record.title:
        el(name, "prefix").text = record.title
    for given in record.given:
        el(name, "given").text = given
    el(name, "family").text = record.family


def _address(parent: etree._Element, record: SyntheticPatient) -> None:
    assert not record.restricted, "a restricted record's address is never written"
    address = el(parent, "addr", use="H")
    for line in record.address:
        el(address, "streetAddressLine").text = line
    if record.postcode:
        el(address, "postalCode").text = record.postcode


def _death_notification(subject: etree._Element) -> None:
    notification = el(subject, "deathNotification", classCode="OBS", moodCode="EVN")
    el(notification, "code", code="3", codeSystem=OID_PDS_OBSERVATION)
    el(notification, "value", code="2", codeSystem=OID_DEATH_STATUS)  # formal: registered death

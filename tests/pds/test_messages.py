"""PDS messages without the network: every message on either side is XSD-valid, builders and parsers agree, and the
parser defends itself against answers the sandbox would never send (restricted data carried anyway, wrong patient)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from consent_desktop.domain.errors import PatientNotFound, SpineRejected, UnexpectedResponse
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Gender, Patient, TraceOutcome, TraceQuery, TraceResult
from consent_desktop.sandbox import patients
from consent_desktop.sandbox.patients import SyntheticPatient
from consent_desktop.sandbox.pds_service import PdsService, read_trace_query, retrieval_answer, trace_answer
from consent_desktop.sandbox.soap import Incoming, read_request
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine import pds_messages, schemas
from consent_desktop.spine.envelope import OutgoingMessage, read_envelope
from tests.conftest import TEST_IDENTITY
from tests.pds.conftest import TODAY, hl7_of

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ADDRESSING = {"to": "https://spine.invalid/sync-service", "spine_asid": "928942012545", "local_asid": "200000001162"}
H = f"{{{ns.HL7}}}"


def retrieval_request(number: str) -> OutgoingMessage:
    return pds_messages.build_retrieval(NhsNumber(number), TEST_IDENTITY, now=NOW, **ADDRESSING)


def trace_request(query: TraceQuery) -> OutgoingMessage:
    return pds_messages.build_trace(query, TEST_IDENTITY, now=NOW, **ADDRESSING)


def incoming(message: OutgoingMessage) -> Incoming:
    return read_request(message.body, message.interaction.action)


def mutate(body: bytes, change: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(body)
    change(root)
    return etree.tostring(root)


def retrieve(request: OutgoingMessage, body: bytes, number: str | None = None) -> Patient:
    answer = read_envelope(200, "text/xml", body, expected=pds_messages.RETRIEVE_ANSWERS, request=request)
    return pds_messages.read_retrieval(answer.hl7, NhsNumber(number or _asked(request)))


def trace(request: OutgoingMessage, body: bytes) -> TraceOutcome:
    answer = read_envelope(200, "text/xml", body, expected=pds_messages.TRACE_ANSWERS, request=request)
    return pds_messages.read_trace(answer.hl7)


def _asked(request: OutgoingMessage) -> str:
    value = etree.fromstring(request.body).find(f".//{H}person.id/{H}value")
    assert value is not None
    return value.get("extension") or ""


def sandbox_retrieval(number: str) -> tuple[OutgoingMessage, bytes]:
    request = retrieval_request(number)
    return request, PdsService().retrieve(incoming(request)).body


def patient_role(root: etree._Element) -> etree._Element:
    role = root.find(f".//{H}patientRole")
    assert role is not None
    return role


# --- every message on the wire is valid --------------------------------------------------------------------------


def test_every_sandbox_retrieval_answer_is_xsd_valid() -> None:
    numbers = [p.nhs_number for p in patients.PATIENTS]
    numbers += [patients.SUPERSEDED_OLD, patients.INVALIDATED_EXAMPLE, patients.UNKNOWN_EXAMPLE]
    for number in numbers:
        request, body = sandbox_retrieval(number)
        assert schemas.validation_errors(hl7_of(request.body)) == []
        assert schemas.validation_errors(hl7_of(body)) == [], number


def test_every_sandbox_trace_answer_is_xsd_valid() -> None:
    outcomes = set()
    for record in patients.PATIENTS:
        query = TraceQuery(record.family, Gender(record.gender), record.born)
        request = trace_request(query)
        body = PdsService().trace(incoming(request)).body
        assert schemas.validation_errors(hl7_of(request.body)) == []
        assert schemas.validation_errors(hl7_of(body)) == [], record.nhs_number
        outcomes.add(trace(request, body).result)
    assert outcomes == {TraceResult.MATCH, TraceResult.TOO_MANY}


def test_a_serial_number_only_retrieval_carries_no_person() -> None:
    """Without ``retrievalItem`` Spine answers with the serial change number alone; the sandbox does too."""
    request = retrieval_request(patients.README_EXAMPLE)
    body = mutate(request.body, lambda root: _remove(root, f".//{H}retrievalItem"))
    request = OutgoingMessage(request.interaction, request.message_id, request.hl7_id, body)
    answer = hl7_of(PdsService().retrieve(incoming(request)).body)
    assert schemas.validation_errors(answer) == []
    assert answer.find(f".//{H}patientPerson") is None
    assert answer.find(f".//{H}pertinentSerialChangeNumber") is not None


def _remove(root: etree._Element, xpath: str) -> None:
    for element in root.findall(xpath):
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)


# --- property-based: the trace builder and Spine's reading of it agree ------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèëïöüøåæłńśżźçñßÉÖÅŁŚÆØ"
words = st.text(alphabet=LETTERS, min_size=1, max_size=9)
names = st.builds(
    lambda first, rest: first + "".join(sep + word for sep, word in rest),
    words,
    st.lists(st.tuples(st.sampled_from([" ", "-", "'"]), words), max_size=3),
).filter(lambda name: len(name) <= 35)
postcodes = st.from_regex(r"\A[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}\Z")
birth_dates = st.dates(min_value=date(1880, 1, 1), max_value=TODAY)
genders = st.sampled_from(list(Gender))


@settings(max_examples=60, deadline=None)
@given(names, st.none() | names, genders, birth_dates, st.none() | postcodes)
def test_trace_builder_and_spine_reading_round_trip(
    family: str, given_name: str | None, gender: Gender, born: date, postcode: str | None
) -> None:
    query = TraceQuery.parse(
        family_name=family, given_name=given_name or "", gender=gender, date_of_birth=born, postcode=postcode or ""
    )
    request = trace_request(query)
    assert schemas.validation_errors(hl7_of(request.body)) == []
    read = read_trace_query(incoming(request))
    assert (read.family, read.given, read.gender, read.born, read.postcode) == (
        family,
        given_name,
        gender.value,
        born,
        postcode,
    )


# --- property-based: whatever the sandbox answers, the client reads back exactly -----------------------------------

lines = st.lists(
    st.builds(lambda n, w: f"{n} {w}", st.integers(1, 999), names.filter(lambda w: "  " not in w)), max_size=3
)


@st.composite
def synthetic_patients(draw: st.DrawFn) -> SyntheticPatient:
    born = draw(birth_dates)
    restricted = draw(st.booleans())
    return SyntheticPatient(
        nhs_number=draw(st.sampled_from([p.nhs_number for p in patients.PATIENTS])),
        title=draw(st.none() | st.sampled_from(["Mr", "Mrs", "Ms", "Mx", "Dr", "Rev"])),
        given=tuple(draw(st.lists(names, max_size=3))),
        family=draw(names),
        gender=draw(genders).value,
        born=born,
        address=tuple(draw(lines)),
        postcode=draw(st.none() | postcodes),
        gp=draw(st.none() | st.from_regex(r"\A[A-Z][0-9]{5}\Z")),
        died=draw(st.none() | st.dates(min_value=born, max_value=TODAY)),
        restricted=restricted,
    )


def expected(record: SyntheticPatient) -> dict[str, object]:
    location = not record.restricted
    return {
        "nhs_number": NhsNumber(record.nhs_number),
        "family_name": record.family,
        "given_names": record.given,
        "title": record.title,
        "birth_date": record.born,
        "gender": Gender(record.gender),
        "address_lines": record.address if location and (record.address or record.postcode) else None,
        "postcode": record.postcode if location else None,
        "gp_practice": record.gp if location else None,
        "date_of_death": record.died,
        "restricted": record.restricted,
    }


def fields_of(found: Patient) -> dict[str, object]:
    return {key: getattr(found, key) for key in expected(patients.PATIENTS[0])}


@settings(max_examples=60, deadline=None)
@given(synthetic_patients())
def test_any_retrieval_answer_reads_back_exactly(record: SyntheticPatient) -> None:
    request = retrieval_request(record.nhs_number)
    body = retrieval_answer(incoming(request), record, [], None, serial_only=False).body
    assert schemas.validation_errors(hl7_of(body)) == []
    assert fields_of(retrieve(request, body)) == expected(record)


@settings(max_examples=60, deadline=None)
@given(synthetic_patients())
def test_any_trace_answer_reads_back_exactly(record: SyntheticPatient) -> None:
    request = trace_request(TraceQuery("Anyone", Gender.MALE, date(1990, 1, 1)))
    body = trace_answer(incoming(request), record).body
    assert schemas.validation_errors(hl7_of(body)) == []
    outcome = trace(request, body)
    assert outcome.patient is not None
    assert fields_of(outcome.patient) == expected(record)


# --- defence in depth: answers the sandbox never sends ------------------------------------------------------------


def _add_sensitivity(root: etree._Element) -> None:
    role = patient_role(root)
    role.insert(0, etree.Element(f"{H}confidentialityCode", code="S", codeSystem=pds_messages.OID_SENSITIVITY))


@pytest.mark.hazard("HAZ-008")
def test_an_s_flagged_answer_carrying_a_location_has_it_dropped() -> None:
    request, body = sandbox_retrieval(patients.README_EXAMPLE)
    body = mutate(body, _add_sensitivity)
    assert b"Tallowfield" in body and b"A81001" in body  # the answer does carry them
    found = retrieve(request, body)
    assert found.restricted
    assert (found.address_lines, found.postcode, found.gp_practice) == (None, None, None)


@pytest.mark.hazard("HAZ-008")
@pytest.mark.parametrize("code", ["5", "9"])
def test_a_limited_data_warning_alone_makes_the_record_restricted(code: str) -> None:
    request, body = sandbox_retrieval(patients.README_EXAMPLE)

    def warn(root: etree._Element) -> None:
        control_act = root.find(f".//{H}ControlActEvent")
        assert control_act is not None
        reason = etree.fromstring(
            f'<reason xmlns="{ns.HL7}" typeCode="RSON"><justifyingDetectedIssueEvent classCode="ALRT" moodCode="EVN">'
            f'<code code="{code}" codeSystem="{ns.OID_PDS_RESPONSE}" displayName="limited"><qualifier code="WG"/>'
            "</code></justifyingDetectedIssueEvent></reason>"
        )
        control_act.insert(1, reason)

    found = retrieve(request, mutate(body, warn))
    assert found.restricted and found.address_lines is None and found.gp_practice is None


@pytest.mark.hazard("HAZ-001")
def test_an_answer_about_someone_else_is_refused() -> None:
    request = retrieval_request(patients.README_EXAMPLE)
    _, other = sandbox_retrieval("9990000018")  # a valid answer, but to a different request and patient
    with pytest.raises(UnexpectedResponse, match="different request"):
        retrieve(request, other)
    own_body = PdsService().retrieve(incoming(request), other_patient=True).body
    with pytest.raises(UnexpectedResponse, match="about a different patient"):
        retrieve(request, own_body)


@pytest.mark.hazard("HAZ-001")
def test_a_successor_needs_the_old_number_in_replacement_of() -> None:
    request, body = sandbox_retrieval(patients.SUPERSEDED_OLD)
    assert retrieve(request, body).superseded_from == NhsNumber(patients.SUPERSEDED_OLD)
    without = mutate(body, lambda root: _remove(root, f".//{H}replacementOf"))
    with pytest.raises(UnexpectedResponse, match="different patient"):
        retrieve(request, without)


def _with_reasons(request: OutgoingMessage, *codes: tuple[str, str]) -> bytes:
    reasons = "".join(
        f'<reason typeCode="RSON"><justifyingDetectedIssueEvent classCode="ALRT" moodCode="EVN">'
        f'<code code="{code}" codeSystem="{system}" displayName="x"><qualifier code="ER"/></code>'
        "</justifyingDetectedIssueEvent></reason>"
        for code, system in codes
    )
    return (
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns="urn:hl7-org:v3">'
        f"<SOAP-ENV:Header><wsa:RelatesTo>uuid:{request.message_id}</wsa:RelatesTo></SOAP-ENV:Header>"
        "<SOAP-ENV:Body><traceQueryResponse><QUQI_IN010000UK14>"
        f'<acknowledgement typeCode="AE"><messageRef><id root="{request.hl7_id}"/></messageRef></acknowledgement>'
        f'<ControlActEvent classCode="CACT" moodCode="EVN">{reasons}'
        '<queryAck type="QueryAck"><queryResponseCode code="ID"/></queryAck></ControlActEvent>'
        "</QUQI_IN010000UK14></traceQueryResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


PDS, OTHER = ns.OID_PDS_RESPONSE, ns.OID_DETECTED_ISSUE


@pytest.mark.parametrize(
    ("codes", "result"),
    [
        ((("1", PDS), ("RT003", PDS)), TraceResult.NO_MATCH),
        ((("RT003", PDS),), TraceResult.NO_MATCH),
        ((("7", PDS),), TraceResult.TOO_MANY),
        ((("7", ""),), TraceResult.TOO_MANY),  # no code system: still read as PDS's
    ],
)
def test_trace_failures_by_code(codes: tuple[tuple[str, str], ...], result: TraceResult) -> None:
    request = trace_request(TraceQuery("Anyone", Gender.MALE, date(1990, 1, 1)))
    assert trace(request, _with_reasons(request, *codes)).result is result


@pytest.mark.hazard("HAZ-001")
def test_a_code_from_another_system_is_never_read_as_a_pds_code() -> None:
    request = trace_request(TraceQuery("Anyone", Gender.MALE, date(1990, 1, 1)))
    with pytest.raises(SpineRejected) as refused:
        trace(request, _with_reasons(request, ("7", OTHER)))
    assert refused.value.user_message == pds_messages.REFUSED


def test_retrieval_not_found_by_code_1_alone() -> None:
    request = retrieval_request(patients.UNKNOWN_EXAMPLE)
    body = _with_reasons(request, ("1", PDS)).replace(b"traceQueryResponse", b"retrievalQueryResponse")
    with pytest.raises(PatientNotFound, match="No patient found with NHS number 999 000 0050"):
        retrieve(request, body)


def test_an_accepted_query_failure_is_not_a_patient() -> None:
    request = retrieval_request(patients.README_EXAMPLE)
    body = _with_reasons(request).replace(b'typeCode="AE"', b'typeCode="AA"').replace(b'code="ID"', b'code="OK"')
    with pytest.raises(UnexpectedResponse, match="not the one expected"):
        retrieve(request, body)


@pytest.mark.hazard("HAZ-001")
@pytest.mark.parametrize(
    ("xpath", "attribute", "value", "words"),
    [
        (f".//{H}birthTime", "value", "1945", "date this app cannot read"),
        (f".//{H}birthTime", "value", "19450231", "date this app cannot read"),
        (f".//{H}administrativeGenderCode", "code", "X", "gender this app does not understand"),
        (f".//{H}patientRole/{H}id", "extension", "9434765918", "NHS number that is not valid"),
    ],
)
def test_unreadable_values_are_reported(xpath: str, attribute: str, value: str, words: str) -> None:
    request, body = sandbox_retrieval(patients.README_EXAMPLE)

    def spoil(root: etree._Element) -> None:
        element = root.find(xpath)
        assert element is not None
        element.set(attribute, value)

    with pytest.raises(UnexpectedResponse, match=words):
        retrieve(request, mutate(body, spoil), patients.README_EXAMPLE)


def test_history_is_skipped_for_the_current_name_address_and_gp() -> None:
    request, body = sandbox_retrieval(patients.README_EXAMPLE)

    def add_history(root: etree._Element) -> None:
        person = root.find(f".//{H}patientPerson")
        assert person is not None
        old = (
            f'<x xmlns="{ns.HL7}"><playedOtherProviderPatient classCode="PAT"><subjectOf typeCode="SBJ">'
            '<patientCareProvisionEvent classCode="PCPR" moodCode="EVN">'
            f'<code code="1" codeSystem="{pds_messages.OID_CARE_PROVISION}"/>'
            '<effectiveTime><low value="19900101"/><high value="20191231"/></effectiveTime>'
            '<id root="2.16.840.1.113883.2.1.3.2.4.18.1" extension="old"/><performer typeCode="PRF">'
            f'<assignedEntity classCode="ASSIGNED"><id root="{ns.OID_ODS}" extension="Z99999"/></assignedEntity>'
            "</performer></patientCareProvisionEvent></subjectOf></playedOtherProviderPatient>"
            '<COCT_MT000201UK02.PartOfWhole classCode="PART">'
            '<addr use="H"><streetAddressLine>Old House</streetAddressLine>'
            '<postalCode>QQ9 9ZZ</postalCode><useablePeriod><high value="20191231"/></useablePeriod></addr>'
            "</COCT_MT000201UK02.PartOfWhole>"
            '<COCT_MT000203UK02.PartOfWhole classCode="PART"><partPerson classCode="PSN" determinerCode="INSTANCE">'
            '<name use="L"><given>Winnie</given><family>Oldname</family><validTime><high value="19700101"/></validTime>'
            "</name></partPerson></COCT_MT000203UK02.PartOfWhole></x>"
        )
        first_of = {etree.QName(child).localname: child for child in reversed(list(person))}
        for item in etree.fromstring(old):
            first_of[etree.QName(item).localname].addprevious(item)  # history first, to be skipped

    found = retrieve(request, mutate(body, add_history))
    assert (found.family_name, found.given_names) == ("Amberlock", ("Winifred",))
    assert (found.address_lines, found.postcode) == (("3 Tallowfield Rise", "Fernhallow"), "QQ1 1AA")
    assert found.gp_practice == "A81001"

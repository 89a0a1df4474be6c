"""Simple trace over mutual TLS against the sandbox: one match, none, too many; refusals before anything is sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from consent_desktop.config import Settings
from consent_desktop.domain.errors import InvalidInput, SpineRejected
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import TraceOutcome, TraceQuery, TraceResult
from consent_desktop.sandbox import patients
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine import pds_messages, schemas
from consent_desktop.spine.envelope import OutgoingMessage, read_envelope
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.pds_client import PdsClient
from consent_desktop.spine.transport import SpineTransport
from tests.conftest import TEST_IDENTITY
from tests.pds.conftest import TODAY, RecordingTransport, hl7_of, requests_seen

SENT_AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def search(pds: PdsClient, **fields: str) -> TraceOutcome:
    return pds.trace(TraceQuery.parse(**fields, today=TODAY))  # type: ignore[arg-type]


@pytest.mark.hazard("HAZ-001")
def test_one_match_shows_the_patient(pds: PdsClient) -> None:
    outcome = search(pds, family_name="amberlock", gender="Female", date_of_birth="14-Jul-1945")
    assert outcome.result is TraceResult.MATCH
    assert outcome.patient is not None
    assert outcome.patient.banner(TODAY) == (
        ("Name", "AMBERLOCK, Winifred (Mrs)"),
        ("Born", "14-Jul-1945 (81y)"),
        ("Gender", "Female"),
        ("NHS No.", "943 476 5919"),
        ("Address", "3 Tallowfield Rise, Fernhallow, QQ1 1AA"),
        ("GP practice", "A81001"),
    )


@pytest.mark.hazard("HAZ-001")
def test_no_match_is_not_an_error(pds: PdsClient) -> None:
    outcome = search(pds, family_name="Amberlock", gender="Female", date_of_birth="15-Jul-1945")
    assert outcome.result is TraceResult.NO_MATCH
    assert outcome.patient is None
    assert outcome.message == "No patient matches these details. Check them, or search by NHS number."


@pytest.mark.hazard("HAZ-001")
def test_two_people_with_the_same_name_and_birth_date_are_too_many(pds: PdsClient) -> None:
    outcome = search(pds, family_name="Varnhollow", given_name="Ellis", gender="Male", date_of_birth="21/05/1988")
    assert outcome.result is TraceResult.TOO_MANY
    assert outcome.patient is None
    assert "Add more detail" in outcome.message


@pytest.mark.hazard("HAZ-001")
def test_more_detail_narrows_too_many_to_one(pds: PdsClient) -> None:
    by_postcode = search(pds, family_name="Varnhollow", gender="Male", date_of_birth="21/05/1988", postcode="QQ5 2AB")
    assert by_postcode.patient is not None and by_postcode.patient.nhs_number == NhsNumber("9990000158")
    twins = {"family_name": "Hollowquay", "gender": "Female", "date_of_birth": "30-Sep-2019"}
    assert search(pds, **twins).result is TraceResult.TOO_MANY
    marnie = search(pds, **twins, given_name="marnie").patient
    assert marnie is not None and marnie.display_name == "HOLLOWQUAY, Marnie (Miss)"
    assert marnie.born(TODAY) == "30-Sep-2019 (7y 1m)"


@pytest.mark.parametrize(
    ("family", "given", "born", "number"),
    [
        ("O'Trevanny", "Niamh", "17-Jun-1993", "9990000042"),
        ("o\u2019shevlin-bracke", "Mary-Kate", "08-Apr-1997", "9990000328"),
        ("FÉVRELLE", "jean-baptiste", "17-Feb-1983", "9990000301"),
        ("Brzęczkowiańska", "Łucja", "28-Oct-1975", "9990000298"),
        ("Haldvikstro\u0308m", "Søren", "02-Apr-1968", "9990000085"),  # decomposed ö, as some keyboards send it
        ("ap Gwyddelan", "Siân", "19-Sep-1950", "9990000093"),
    ],
)
def test_names_with_apostrophes_hyphens_and_accents_round_trip(
    pds: PdsClient, family: str, given: str, born: str, number: str
) -> None:
    record = patients.BY_NUMBER[number]
    outcome = search(pds, family_name=family, given_name=given, gender=record.gender, date_of_birth=born)
    assert outcome.patient is not None
    assert outcome.patient.nhs_number == NhsNumber(number)
    assert (outcome.patient.family_name, outcome.patient.given_names) == (record.family, record.given)


@pytest.mark.hazard("HAZ-008")
def test_restricted_match_without_location_and_with_a_warning(pds: PdsClient, wire: RecordingTransport) -> None:
    outcome = search(pds, family_name="Thistlequine", gender="Female", date_of_birth="01-Dec-1990")
    assert outcome.patient is not None and outcome.patient.restricted
    assert (outcome.patient.address_lines, outcome.patient.postcode, outcome.patient.gp_practice) == (None, None, None)
    assert [(w.code, w.qualifier) for w in outcome.patient.warnings] == [("5", "WG")]
    assert b"Nettlequarry" not in wire.exchanges[-1][1].body and b"B82002" not in wire.exchanges[-1][1].body


@pytest.mark.hazard("HAZ-008")
def test_a_search_with_the_postcode_never_finds_a_restricted_record(pds: PdsClient) -> None:
    outcome = search(pds, family_name="Thistlequine", gender="Female", date_of_birth="01-Dec-1990", postcode="QQ2 5HJ")
    assert outcome.result is TraceResult.NO_MATCH


@pytest.mark.hazard("HAZ-006")
def test_deceased_patient_found_and_blocked(pds: PdsClient) -> None:
    outcome = search(pds, family_name="Quenningvale", gender="Male", date_of_birth="02-Nov-1931")
    assert outcome.patient is not None
    assert outcome.patient.consent_change_blocked_reason == (
        "This patient has died (03-Mar-2024). Consent changes are blocked."
    )


@pytest.mark.hazard("HAZ-001")
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"family_name": "", "gender": "Male", "date_of_birth": "21-May-1988"}, "family_name"),
        ({"family_name": "Varnhollow", "gender": "Male", "date_of_birth": ""}, "date_of_birth"),
        ({"family_name": "Varnhollow", "gender": "Male", "date_of_birth": "26-Nov-2026"}, "date_of_birth"),
        ({"family_name": "Varnhollow", "gender": "Male", "date_of_birth": "1987-1989"}, "date_of_birth"),
        ({"family_name": "Varnhollow", "gender": "Male", "date_of_birth": "21-May-1988", "postcode": "QQ"}, "postcode"),
        ({"family_name": "Varnhollow", "gender": "Man", "date_of_birth": "21-May-1988"}, "gender"),
    ],
)
def test_invalid_searches_are_refused_before_any_request(
    sandbox: Sandbox, pds: PdsClient, wire: RecordingTransport, fields: dict[str, str], field: str
) -> None:
    before = requests_seen(sandbox)
    with pytest.raises(InvalidInput) as refused:
        pds.trace(TraceQuery.parse(**fields, today=TODAY))  # type: ignore[arg-type]
    assert refused.value.field == field
    assert wire.exchanges == []
    assert requests_seen(sandbox) == before


def test_trace_request_and_answer_on_the_wire(pds: PdsClient, wire: RecordingTransport) -> None:
    search(
        pds,
        family_name="Varnhollow",
        given_name="Ellis",
        gender="Male",
        date_of_birth="21-May-1988",
        postcode="QQ3 1XY",
    )
    request_body, answer = wire.exchanges[-1]
    request, response = hl7_of(request_body), hl7_of(answer.body)
    assert etree.QName(request).localname == "QUPA_IN000005UK01"
    assert schemas.validation_errors(request) == []
    assert schemas.validation_errors(response) == []
    query = request.find(f"{{{ns.HL7}}}ControlActEvent/{{{ns.HL7}}}query")
    assert query is not None
    assert [etree.QName(child).localname for child in query] == [
        "person.address",
        "person.administrativeGenderCode",
        "person.birthTime",
        "person.name",
    ]
    assert query.find(f".//{{{ns.HL7}}}birthTime/{{{ns.HL7}}}value") is None  # one TS, nothing nested
    birth = query.find(f"{{{ns.HL7}}}person.birthTime/{{{ns.HL7}}}value")
    assert birth is not None and birth.get("value") == "19880521" and len(birth) == 0
    assert b"<traceQueryResponse>" in answer.body


# --- a date-of-birth range, sent anyway, is refused by the sandbox as Spine would ------------------------------------


def _send_with_birth_time(
    transport: SpineTransport, endpoint: SpineEndpoint, change: str
) -> tuple[TraceOutcome | None, SpineRejected | None]:
    query = TraceQuery.parse(family_name="Varnhollow", gender="Male", date_of_birth="21-May-1988", today=TODAY)
    message = pds_messages.build_trace(
        query,
        TEST_IDENTITY,
        to=endpoint.url,
        spine_asid=endpoint.spine_asid,
        local_asid=endpoint.local_asid,
        now=SENT_AT,
    )
    root = etree.fromstring(message.body)
    value = root.find(f".//{{{ns.HL7}}}person.birthTime/{{{ns.HL7}}}value")
    assert value is not None
    if change == "interval":  # an HL7 IVL_TS in place of the single TS
        del value.attrib["value"]
        etree.SubElement(value, f"{{{ns.HL7}}}low", value="19880101")
        etree.SubElement(value, f"{{{ns.HL7}}}high", value="19881231")
    else:
        value.set("value", change)
    sent = OutgoingMessage(message.interaction, message.message_id, message.hl7_id, etree.tostring(root))
    http = transport.post(endpoint.url, sent.interaction.action, sent.body)
    answer = read_envelope(http.status, http.content_type, http.body, expected=pds_messages.TRACE_ANSWERS, request=sent)
    try:
        return pds_messages.read_trace(answer.hl7), None
    except SpineRejected as rejected:
        return None, rejected


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("interval", "Schema validation"),  # low/high: the simple trace's XSD allows one TS only
        ("19880101-19881231", "Schema validation"),
        ("1988", "MISSING_MANDATORY_SEARCH_FIELD[birthTime]"),  # a year is a range of dates too
        ("198805", "MISSING_MANDATORY_SEARCH_FIELD[birthTime]"),
    ],
)
def test_sandbox_refuses_a_birth_date_range(
    sandbox_settings: Settings, wire: RecordingTransport, change: str, words: str
) -> None:
    endpoint = SpineEndpoint.for_pds(sandbox_settings.spine)
    outcome, rejected = _send_with_birth_time(wire, endpoint, change)
    assert outcome is None
    assert rejected is not None
    assert rejected.user_message == pds_messages.REFUSED
    assert rejected.code_values[0] == "400"
    assert any(words in code.display for code in rejected.codes)

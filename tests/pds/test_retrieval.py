"""Retrieval by NHS number over mutual TLS against the sandbox: what a user would see, and what the wire carried."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from consent_desktop.domain.errors import PatientNotFound
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Gender
from consent_desktop.sandbox import patients
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine import schemas
from consent_desktop.spine.pds_client import PdsClient
from tests.pds.conftest import TODAY, RecordingTransport, hl7_of


@pytest.mark.hazard("HAZ-001")
def test_normal_patient_every_displayed_field(pds: PdsClient) -> None:
    found = pds.retrieve(NhsNumber.parse(patients.README_EXAMPLE))
    assert found.banner(TODAY) == (
        ("Name", "AMBERLOCK, Winifred (Mrs)"),
        ("Born", "14-Jul-1945 (81y)"),
        ("Gender", "Female"),
        ("NHS No.", "943 476 5919"),
        ("Address", "3 Tallowfield Rise, Fernhallow, QQ1 1AA"),
        ("GP practice", "A81001"),
    )
    assert (found.restricted, found.is_deceased, found.superseded_from, found.warnings) == (False, False, None, ())
    assert found.notices == ()


@pytest.mark.hazard("HAZ-001")
def test_every_synthetic_patient_round_trips(pds: PdsClient) -> None:
    for record in patients.PATIENTS:
        found = pds.retrieve(NhsNumber(record.nhs_number))
        assert found.nhs_number.digits == record.nhs_number
        assert (found.family_name, found.given_names, found.title) == (record.family, record.given, record.title)
        assert (found.birth_date, found.gender, found.date_of_death) == (
            record.born,
            Gender(record.gender),
            record.died,
        )
        if record.restricted:
            assert (found.address_lines, found.postcode, found.gp_practice) == (None, None, None)
        else:
            assert found.address_lines == (record.address if record.address else None)
            assert (found.postcode, found.gp_practice) == (record.postcode, record.gp)


@pytest.mark.parametrize(
    ("number", "name"),
    [
        ("9990000042", "O'TREVANNY, Niamh (Miss)"),
        ("9990000328", "O'SHEVLIN-BRACKE, Mary-Kate (Ms)"),
        ("9990000301", "FÉVRELLE, Jean-Baptiste (Mr)"),
        ("9990000298", "BRZĘCZKOWIAŃSKA, Łucja (Mrs)"),
        ("9990000085", "HALDVIKSTRÖM, Søren (Mr)"),
        ("9990000093", "AP GWYDDELAN, Siân (Mrs)"),
        ("9990000352", "BLAKEMIRE, Thaddeus Oswin (Mr)"),
        ("9990000239", "LINDQVARN, Sam"),
    ],
)
def test_names_with_apostrophes_hyphens_and_accents(pds: PdsClient, number: str, name: str) -> None:
    assert pds.retrieve(NhsNumber(number)).display_name == name


@pytest.mark.hazard("HAZ-008")
def test_restricted_record_holds_no_location_anywhere(pds: PdsClient, wire: RecordingTransport) -> None:
    record = patients.BY_NUMBER[patients.RESTRICTED_EXAMPLE]
    found = pds.retrieve(NhsNumber(record.nhs_number))
    assert found.restricted
    assert (found.address_lines, found.postcode, found.gp_practice) == (None, None, None)
    secrets = [*record.address, str(record.postcode), str(record.gp), "Nettlequarry", "QQ2"]
    shown = [
        repr(found),
        str(found),
        *(repr(v) for v in dataclasses.astuple(found)),
        *(v for _, v in found.banner(TODAY)),
    ]
    for secret in secrets:
        assert not any(secret in text for text in shown), secret
        assert secret.encode() not in wire.exchanges[-1][1].body  # the sandbox never sent it either
    assert [(w.code, w.qualifier) for w in found.warnings] == [("9", "WG")]
    assert dict(found.banner(TODAY))["Address"].startswith("Restricted record")
    assert found.display_name == "THISTLEQUINE, Imogen (Ms)"  # identity is still shown


@pytest.mark.hazard("HAZ-006")
def test_deceased_patient_blocks_consent_changes(pds: PdsClient) -> None:
    found = pds.retrieve(NhsNumber(patients.DECEASED_EXAMPLE))
    assert found.date_of_death == date(2024, 3, 3)
    assert found.deceased_line == "Died 03-Mar-2024"
    assert found.consent_change_blocked_reason == "This patient has died (03-Mar-2024). Consent changes are blocked."


@pytest.mark.hazard("HAZ-001", "HAZ-006")
def test_superseded_number_switches_to_the_current_record_and_says_so(pds: PdsClient) -> None:
    found = pds.retrieve(NhsNumber(patients.SUPERSEDED_OLD))
    assert found.nhs_number == NhsNumber(patients.SUPERSEDED_NEW)
    assert found.superseded_from == NhsNumber(patients.SUPERSEDED_OLD)
    assert found.superseded_notice == (
        "NHS number 999 000 0107 has been replaced by 999 000 0115. This is the patient's current record."
    )
    assert [(w.code, w.qualifier) for w in found.warnings] == [("24", "WG")]
    assert found == dataclasses.replace(
        pds.retrieve(NhsNumber(patients.SUPERSEDED_NEW)), superseded_from=found.superseded_from, warnings=found.warnings
    )


@pytest.mark.hazard("HAZ-001", "HAZ-006")
@pytest.mark.parametrize(
    ("number", "codes"),
    [(patients.UNKNOWN_EXAMPLE, ("1", "RT003")), (patients.INVALIDATED_EXAMPLE, ("22",))],
)
def test_unknown_and_invalidated_numbers_find_no_patient(pds: PdsClient, number: str, codes: tuple[str, ...]) -> None:
    with pytest.raises(PatientNotFound) as missing:
        pds.retrieve(NhsNumber(number))
    formatted = NhsNumber(number).formatted
    assert missing.value.user_message == f"No patient found with NHS number {formatted}."
    assert missing.value.code_values == codes
    assert number not in missing.value.details and formatted not in missing.value.details  # details go to logs


def test_retrieval_request_and_answer_on_the_wire(pds: PdsClient, wire: RecordingTransport) -> None:
    pds.retrieve(NhsNumber(patients.README_EXAMPLE))
    request_body, answer = wire.exchanges[-1]
    request, response = hl7_of(request_body), hl7_of(answer.body)
    assert schemas.validation_errors(request) == []
    assert schemas.validation_errors(response) == []
    query = request.find(f"{{{ns.HL7}}}ControlActEvent/{{{ns.HL7}}}query")
    assert query is not None
    assert query.findtext(f"{{{ns.HL7}}}retrievalItem/{{{ns.HL7}}}semanticsText") == "person.allData"
    assert query.find(f"{{{ns.HL7}}}person.id/{{{ns.HL7}}}value").get("extension") == patients.README_EXAMPLE  # type: ignore[union-attr]
    author = request.find(f".//{{{ns.HL7}}}AgentPersonSDS/{{{ns.HL7}}}id")
    assert author is not None and author.get("extension") == "555254240100"  # the signed-in role, every time
    assert b"<retrievalQueryResponse>" in answer.body
    assert b"urn:nhs:names:services:pdsquery/QUPA_IN000009UK03" in answer.body

"""What the client puts on the wire: Spine-valid messages, authors from the signed-in identity, fresh ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from consent_desktop.domain.consent import ConsentChoice
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.spine import acs_messages, schemas
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine.envelope import OutgoingMessage
from tests.conftest import TEST_IDENTITY

NHS = NhsNumber.parse("9434765919")
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)  # 10:30 in London (BST)


def build(kind: str, choice: ConsentChoice = ConsentChoice.OPTED_OUT) -> OutgoingMessage:
    common = {
        "to": "https://spine.example/sync-service",
        "spine_asid": "928942012545",
        "local_asid": "200000001162",
        "now": NOW,
    }
    if kind == "get":
        return acs_messages.build_get(NHS, TEST_IDENTITY, **common)  # type: ignore[arg-type]
    return acs_messages.build_set(NHS, choice, TEST_IDENTITY, **common)  # type: ignore[arg-type]


def inner(message: OutgoingMessage) -> etree._Element:
    body = etree.fromstring(message.body).find(ns.q(ns.SOAP, "Body"))
    assert body is not None
    return body[0]


@pytest.mark.hazard("HAZ-003")
@pytest.mark.parametrize(
    ("kind", "choice"),
    [("get", ConsentChoice.OPTED_OUT), ("set", ConsentChoice.OPTED_OUT), ("set", ConsentChoice.ASK_PERMISSION)],
)
def test_every_outgoing_message_validates_against_spines_xsd(kind: str, choice: ConsentChoice) -> None:
    assert schemas.validation_errors(inner(build(kind, choice))) == []


@pytest.mark.hazard("HAZ-011", "HAZ-012")
def test_envelope_header_follows_spine_rules() -> None:
    message = build("set")
    root = etree.fromstring(message.body)
    header = root.find(ns.q(ns.SOAP, "Header"))
    assert header is not None
    message_id = header.findtext(ns.q(ns.WSA, "MessageID"))
    assert message_id == f"uuid:{message.message_id}" and len(message_id) == 41
    assert header.findtext(ns.q(ns.WSA, "Action")) == "urn:nhs:names:services:lrs/SET_RESOURCE_PERMISSIONS_INUK01"
    assert header.findtext(ns.q(ns.WSA, "To")) == "https://spine.example/sync-service"
    hl7 = inner(message)
    assert etree.QName(hl7).localname == "SET_RESOURCE_PERMISSIONS_INUK01"
    assert hl7.find(ns.q(ns.HL7, "interactionId")).get("extension") == "SET_RESOURCE_PERMISSIONS_INUK01"  # type: ignore[union-attr]
    asids = [e.get("extension") for e in root.iter(ns.q(ns.HL7, "id")) if e.get("root") == ns.OID_ASID]
    # header Rcv, header Snd, body Rcv, body Snd, author1
    assert asids == ["928942012545", "200000001162", "928942012545", "200000001162", "200000001162"]
    assert hl7.find(ns.q(ns.HL7, "creationTime")).get("value") == "20260601103000"  # type: ignore[union-attr]


def test_get_action_is_the_lrsquery_service() -> None:
    header = etree.fromstring(build("get").body).find(ns.q(ns.SOAP, "Header"))
    assert header is not None
    assert header.findtext(ns.q(ns.WSA, "Action")) == "urn:nhs:names:services:lrsquery/GET_RESOURCE_PERMISSIONS_INUK01"


@pytest.mark.hazard("HAZ-005")
def test_author_comes_from_the_signed_in_identity() -> None:
    hl7 = inner(build("get"))
    ids = {e.get("root"): e.get("extension") for e in hl7.iter(ns.q(ns.HL7, "id"))}
    assert ids[ns.OID_ROLE_PROFILE] == TEST_IDENTITY.role.role_profile_id
    assert ids[ns.OID_SDS_USER] == TEST_IDENTITY.user_id
    assert ids[ns.OID_JOB_ROLE] == TEST_IDENTITY.role.job_role_code


@pytest.mark.hazard("HAZ-001", "HAZ-015")
@pytest.mark.parametrize(("choice", "wire"), [(ConsentChoice.OPTED_OUT, "No"), (ConsentChoice.ASK_PERMISSION, "Clear")])
def test_set_changes_view_and_store_together(choice: ConsentChoice, wire: str) -> None:
    hl7 = inner(build("set", choice))
    assertions = list(hl7.iter(ns.q(ns.CRS, "accessControlAssertion")))
    assert [a.findtext(f"{{{ns.CRS}}}function/{{{ns.CRS}}}code") for a in assertions] == ["View", "Store"]
    assert {a.findtext(ns.q(ns.CRS, "permission")) for a in assertions} == {wire}
    assert {a.findtext(f"{{{ns.CRS}}}resource/{{{ns.CRS}}}Id") for a in assertions} == {NHS.digits}


def test_every_attempt_gets_fresh_ids() -> None:
    first, second = build("set"), build("set")
    assert first.message_id != second.message_id
    assert first.hl7_id != second.hl7_id
    assert first.message_id != first.hl7_id

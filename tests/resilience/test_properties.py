"""Property-based tests of the ACS message builders and of every answer parser (ACS and PDS).

- Any NHS number, choice, signed-in identity, ASID and moment builds a message Spine accepts: its envelope
  checks, its XSD and its author rules (the sandbox's own request checks, ``sandbox/soap.py``).
- Any well-formed answer, however it differs from what Spine sends, is either read or refused with a typed
  :class:`ConsentDesktopError`; never another exception, and never a record of a different patient.
- Random bytes, and byte-level damage to real answers, are refused the same way.

The real answers mutated here are the sandbox's own (Spine's shapes, XSD-valid), made in process.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from consent_desktop.domain.consent import ConsentChoice, ConsentRecord
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.domain.identity import RoleProfile, SpineIdentity
from consent_desktop.domain.nhs_number import NhsNumber, check_digit
from consent_desktop.domain.patient import Gender, Patient, TraceOutcome, TraceQuery
from consent_desktop.sandbox import patients
from consent_desktop.sandbox.acs_service import AcsService
from consent_desktop.sandbox.pds_service import PdsService
from consent_desktop.sandbox.soap import read_request, soap_fault
from consent_desktop.sandbox.store import Store
from consent_desktop.spine import acs_messages, pds_messages
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine.envelope import OutgoingMessage, read_envelope
from consent_desktop.spine.safe_xml import descendants_named, local_name, path
from tests.conftest import TEST_IDENTITY

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ADDRESSING = {"to": "https://spine.invalid/sync-service", "spine_asid": "928942012545", "local_asid": "200000001162"}

# --- strategies for what a client builds from -----------------------------------------------------------------------

twelve_digits = st.from_regex(r"\A[0-9]{12}\Z")


@st.composite
def nhs_numbers(draw: st.DrawFn) -> NhsNumber:
    first_nine = draw(st.from_regex(r"\A[0-9]{9}\Z"))
    check = check_digit(first_nine)
    if check is None:
        first_nine = first_nine[:8] + ("1" if first_nine[8] != "1" else "2")
        check = check_digit(first_nine)
    assert check is not None  # of two adjacent ninth digits at most one gives the impossible check value 10
    return NhsNumber(first_nine + str(check))


identities = st.builds(
    lambda user, profile, job, org: SpineIdentity(
        user, "Any User", RoleProfile(profile, org, "Any Practice", job, "Any Role", frozenset({"B0020"}))
    ),
    twelve_digits,
    twelve_digits,
    st.from_regex(r"\A(S[0-9]{4}:G[0-9]{4}:)?R[0-9]{4}\Z"),
    st.from_regex(r"\A[A-Z][0-9]{5}\Z"),
)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC))


@pytest.mark.hazard("HAZ-001", "HAZ-015")  # the patient asked about, and the choice made, are what is sent
@settings(max_examples=150, deadline=None)
@given(nhs_numbers(), st.sampled_from(ConsentChoice), identities, twelve_digits, twelve_digits, moments)
def test_any_change_builds_a_message_spine_accepts(
    nhs: NhsNumber, choice: ConsentChoice, identity: SpineIdentity, spine_asid: str, local_asid: str, now: datetime
) -> None:
    message = acs_messages.build_set(
        nhs, choice, identity, to=ADDRESSING["to"], spine_asid=spine_asid, local_asid=local_asid, now=now
    )
    incoming = read_request(message.body, message.interaction.action)  # raises Refusal for anything Spine refuses
    assert incoming.author is not None and incoming.author.user_id == identity.user_id
    contexts = descendants_named(incoming.message, "resourceContext")
    assert [c.get("extension") for c in contexts] == [nhs.digits]
    assert {p.text for p in descendants_named(incoming.message, "permission")} == {choice.wire_value.value}


@pytest.mark.hazard("HAZ-001")
@settings(max_examples=150, deadline=None)
@given(nhs_numbers(), identities, twelve_digits, twelve_digits, moments)
def test_any_read_builds_a_message_spine_accepts(
    nhs: NhsNumber, identity: SpineIdentity, spine_asid: str, local_asid: str, now: datetime
) -> None:
    message = acs_messages.build_get(
        nhs, identity, to=ADDRESSING["to"], spine_asid=spine_asid, local_asid=local_asid, now=now
    )
    incoming = read_request(message.body, message.interaction.action)
    assert incoming.sender_asid == local_asid and incoming.receiver_asid == spine_asid
    assert [c.get("extension") for c in descendants_named(incoming.message, "resourceContext")] == [nhs.digits]


# --- real answers, and how to read each -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    kind: str  # get, set, retrieve, trace
    request: OutgoingMessage
    asked: NhsNumber | None
    status: int
    body: bytes


EXPECTED = {
    "get": acs_messages.GET_ANSWERS,
    "set": acs_messages.SET_ANSWERS,
    "retrieve": pds_messages.RETRIEVE_ANSWERS,
    "trace": pds_messages.TRACE_ANSWERS,
}


@cache
def real_answers() -> tuple[Answer, ...]:
    """The sandbox's answers to reads and changes for patients with every kind of record, its refusals, and a
    SOAP fault for each kind of request."""
    answers: list[Answer] = []
    with TemporaryDirectory() as folder:
        store = Store(Path(folder) / "acs.db")
        store.seed_once([(n, f, p) for n, items in patients.INITIAL_CONSENT.items() for f, p in items])
        acs, pds = AcsService(store), PdsService()
        try:
            for number in (*patients.INITIAL_CONSENT, patients.README_EXAMPLE, patients.UNKNOWN_EXAMPLE):
                nhs = NhsNumber(number)
                get = acs_messages.build_get(nhs, TEST_IDENTITY, now=NOW, **ADDRESSING)
                answers.append(Answer("get", get, nhs, 200, acs.get(_incoming(get)).body))
                change = acs_messages.build_set(nhs, ConsentChoice.OPTED_OUT, TEST_IDENTITY, now=NOW, **ADDRESSING)
                answers.append(Answer("set", change, nhs, 200, acs.set(_incoming(change)).body))
        finally:
            store.close()
    for number in (
        patients.README_EXAMPLE,
        patients.RESTRICTED_EXAMPLE,
        patients.DECEASED_EXAMPLE,
        patients.SUPERSEDED_OLD,
        patients.INVALIDATED_EXAMPLE,
        patients.UNKNOWN_EXAMPLE,
        "9990000212",  # no fixed abode
    ):
        retrieval = pds_messages.build_retrieval(NhsNumber(number), TEST_IDENTITY, now=NOW, **ADDRESSING)
        answers.append(Answer("retrieve", retrieval, NhsNumber(number), 200, pds.retrieve(_incoming(retrieval)).body))
    winifred = patients.BY_NUMBER[patients.README_EXAMPLE]
    for query in (
        TraceQuery(winifred.family, Gender(winifred.gender), winifred.born),
        TraceQuery("Hollowquay", Gender.FEMALE, datetime(2019, 9, 30).date()),  # twins: too many
        TraceQuery("Nobody", Gender.MALE, datetime(1950, 1, 1).date()),
    ):
        trace = pds_messages.build_trace(query, TEST_IDENTITY, now=NOW, **ADDRESSING)
        answers.append(Answer("trace", trace, None, 200, pds.trace(_incoming(trace)).body))
    fault = soap_fault("206", "Routing/delivery failure")
    kinds = {a.kind: a for a in answers}
    answers += [Answer(k, a.request, a.asked, fault.status, fault.body) for k, a in kinds.items()]
    return tuple(answers)


def _incoming(message: OutgoingMessage):  # type: ignore[no-untyped-def]
    return read_request(message.body, message.interaction.action)


def read(answer: Answer, status: int, content_type: str, body: bytes) -> object:
    """Everything the client does with an answer, from HTTP to the domain object."""
    envelope = read_envelope(status, content_type, body, expected=EXPECTED[answer.kind], request=answer.request)
    if answer.kind == "get":
        assert answer.asked is not None
        return acs_messages.read_get_answer(envelope.hl7, answer.asked, NOW)
    if answer.kind == "set":
        acs_messages.read_set_answer(envelope.hl7)
        return "accepted"
    if answer.kind == "retrieve":
        assert answer.asked is not None
        return pds_messages.read_retrieval(envelope.hl7, answer.asked)
    return pds_messages.read_trace(envelope.hl7)


def read_or_refuse(answer: Answer, status: int, content_type: str, body: bytes) -> None:
    """Read, or refuse with a typed error that has a message for the user; never a wrong patient's record."""
    try:
        result = read(answer, status, content_type, body)
    except ConsentDesktopError as error:
        assert error.user_message
        return
    if isinstance(result, ConsentRecord):
        context = path(_parse(body), "Body")
        asked = (
            [c.get("extension") for c in descendants_named(context, "resourceContext")] if context is not None else []
        )
        assert result.nhs_number == answer.asked and answer.asked is not None and answer.asked.digits in asked
    elif isinstance(result, Patient):
        assert result.nhs_number == answer.asked or result.superseded_from == answer.asked
    else:
        assert result == "accepted" or isinstance(result, TraceOutcome)


def _parse(body: bytes) -> etree._Element:
    return etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))


# --- well-formed answers that Spine would never send ----------------------------------------------------------------


def _vocabulary() -> tuple[list[str], list[str]]:
    names: set[str] = set()
    values: set[str] = set()
    for answer in real_answers():
        for element in _parse(answer.body).iter():
            if isinstance(element.tag, str):
                names.add(local_name(element))
                values.update(v for v in element.attrib.values() if len(v) < 80)
                if element.text and element.text.strip():
                    values.add(element.text.strip())
    return sorted(names), sorted(values)


NAMES, SEEN_VALUES = _vocabulary()
VALUES = st.one_of(
    st.sampled_from(SEEN_VALUES),
    st.sampled_from(["", " ", "No", "Yes", "Clear", "Ask", "Sealing", "AA", "AE", "AR", "NF", "S", "R", "24", "9"]),
    st.sampled_from([patients.PATIENTS[5].nhs_number, "0000000000", "123", "99999999999", "19450230", "00000000"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)
ATTRIBUTES = st.sampled_from(
    ["typeCode", "root", "extension", "code", "codeSystem", "value", "displayName", "use", "classCode", "nullFlavor"]
)
NAMESPACES = st.sampled_from([ns.HL7, ns.CRS, ns.SOAP, ns.WSA, ns.NASP, None, "urn:example:other"])
OPERATIONS = ("delete", "duplicate", "move", "rename", "renamespace", "set", "unset", "text", "wrap", "empty")


def _qname(namespace: str | None, name: str) -> str:
    return etree.QName(namespace, name).text


@st.composite
def mutated_answers(draw: st.DrawFn) -> tuple[Answer, bytes]:
    """A real answer with up to six structural changes; always well-formed XML."""
    answer = draw(st.sampled_from(real_answers()))
    root = _parse(answer.body)
    for _ in range(draw(st.integers(1, 6))):
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        target = elements[draw(st.integers(0, len(elements) - 1))]
        parent = target.getparent()
        operation = draw(st.sampled_from(OPERATIONS))
        if operation == "delete" and parent is not None:
            parent.remove(target)
        elif operation == "duplicate" and parent is not None:
            parent.insert(parent.index(target), copy.deepcopy(target))
        elif operation == "move" and parent is not None:
            inside = set(target.iter())
            destinations = [e for e in elements if e not in inside]
            destinations[draw(st.integers(0, len(destinations) - 1))].append(target)
        elif operation == "rename":
            target.tag = _qname(etree.QName(target).namespace, draw(st.sampled_from(NAMES)))
        elif operation == "renamespace":
            target.tag = _qname(draw(NAMESPACES), local_name(target))
        elif operation == "set":
            target.set(draw(ATTRIBUTES), draw(VALUES))
        elif operation == "unset" and target.attrib:
            del target.attrib[draw(st.sampled_from(sorted(target.attrib)))]
        elif operation == "text":
            target.text = draw(VALUES)
        elif operation == "wrap" and parent is not None:
            wrapper = etree.Element(_qname(draw(NAMESPACES), draw(st.sampled_from(NAMES))))
            parent.replace(target, wrapper)
            wrapper.append(target)
        elif operation == "empty":
            target[:] = []
    return answer, etree.tostring(root, xml_declaration=True, encoding="UTF-8")


statuses = st.sampled_from([200, 200, 200, 500, 503, 404])
content_types = st.sampled_from(["text/xml; charset=UTF-8", "text/xml", "application/soap+xml", "text/html", ""])
SLOW_OK = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.hazard("HAZ-001", "HAZ-002", "HAZ-013")
@SLOW_OK
@given(mutated_answers(), statuses, content_types)
def test_any_well_formed_answer_is_read_or_refused_with_a_typed_error(
    mutated: tuple[Answer, bytes], status: int, content_type: str
) -> None:
    answer, body = mutated
    read_or_refuse(answer, status, content_type, body)


@st.composite
def invented_answers(draw: st.DrawFn) -> bytes:
    """A SOAP envelope around a tree made up from the names Spine's answers use."""

    def build(spec: object, parent: etree._Element) -> None:
        namespace, name, attributes, text, children = spec  # type: ignore[misc]
        element = etree.SubElement(parent, _qname(namespace, name), attributes)
        element.text = text
        for child in children:
            build(child, element)

    leaf = st.tuples(
        NAMESPACES, st.sampled_from(NAMES), st.dictionaries(ATTRIBUTES, VALUES, max_size=3), VALUES, st.just(())
    )
    tree = st.recursive(
        leaf,
        lambda inner: st.tuples(
            NAMESPACES,
            st.sampled_from(NAMES),
            st.dictionaries(ATTRIBUTES, VALUES, max_size=3),
            st.none(),
            st.lists(inner, max_size=4),
        ),
        max_leaves=30,
    )
    envelope = etree.Element(_qname(ns.SOAP, "Envelope"), nsmap={"SOAP-ENV": ns.SOAP, "wsa": ns.WSA, None: ns.HL7})
    header = etree.SubElement(envelope, _qname(ns.SOAP, "Header"))
    if draw(st.booleans()):
        etree.SubElement(header, _qname(ns.WSA, "RelatesTo")).text = draw(st.sampled_from(["uuid:" + "0" * 36, ""]))
    build(draw(tree), etree.SubElement(envelope, _qname(ns.SOAP, "Body")))
    return etree.tostring(envelope)


@pytest.mark.hazard("HAZ-013")
@SLOW_OK
@given(st.sampled_from(real_answers()), invented_answers(), statuses)
def test_any_invented_answer_is_read_or_refused_with_a_typed_error(answer: Answer, body: bytes, status: int) -> None:
    read_or_refuse(answer, status, "text/xml", body)


# --- bytes ----------------------------------------------------------------------------------------------------------


@pytest.mark.hazard("HAZ-013")
@settings(max_examples=200, deadline=None)
@given(st.sampled_from(real_answers()), st.binary(max_size=4096), statuses)
def test_random_bytes_are_refused_with_a_typed_error(answer: Answer, body: bytes, status: int) -> None:
    read_or_refuse(answer, status, "text/xml", body)


@st.composite
def damaged(draw: st.DrawFn) -> tuple[Answer, bytes]:
    """A real answer with bytes flipped, dropped, inserted, or cut off."""
    answer = draw(st.sampled_from(real_answers()))
    data = bytearray(answer.body)
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        where = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["flip", "drop", "insert", "cut"]))
        if how == "flip":
            data[where] = draw(st.integers(0, 255))
        elif how == "drop":
            del data[where : where + draw(st.integers(1, 40))]
        elif how == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=12))
        else:
            del data[where:]
    return answer, bytes(data)


@pytest.mark.hazard("HAZ-002", "HAZ-013")
@SLOW_OK
@given(damaged(), statuses)
def test_damaged_answers_are_read_or_refused_with_a_typed_error(
    damaged_answer: tuple[Answer, bytes], status: int
) -> None:
    answer, body = damaged_answer
    read_or_refuse(answer, status, "text/xml; charset=UTF-8", body)


def test_every_real_answer_reads_as_the_sandbox_meant() -> None:
    """The starting points are sound: undamaged, each is read (or, for a refusal or fault, refused) as it should."""
    for answer in real_answers():
        read_or_refuse(answer, answer.status, "text/xml; charset=UTF-8", answer.body)
    readable = [
        a for a in real_answers() if a.status == 200 and a.asked is not None and a.asked.digits in patients.KNOWN
    ]
    assert all(not isinstance(_try(a), ConsentDesktopError) for a in readable if a.kind in ("get", "retrieve"))


def _try(answer: Answer) -> object:
    try:
        return read(answer, answer.status, "text/xml", answer.body)
    except ConsentDesktopError as error:
        return error

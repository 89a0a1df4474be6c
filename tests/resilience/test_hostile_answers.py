"""Hostile answers arriving over the real mutual-TLS transport, for the ACS and PDS clients.

A hostile Spine (``hostile_server.py``: the sandbox's own certificates, so the TLS handshake succeeds) answers with
external entities, entity expansion, deep nesting, a 50 MB body, the wrong namespaces, or an answer to another
message or about another patient. Each must end, within a second and in bounded memory, as a plain error (or,
for a change, "could not confirm"), having read no file and contacted no other host. The parser-level versions of
these attacks are in ``tests/spine/test_hostile_xml.py``.
"""

from __future__ import annotations

import dataclasses
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from consent_desktop.config import Settings
from consent_desktop.domain.consent import ConsentChoice, SaveOutcome
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.sandbox import patients
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine.acs_client import AcsClient
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.hl7 import new_uuid
from consent_desktop.spine.pds_client import PdsClient
from consent_desktop.spine.safe_xml import MAX_BYTES, child_named, parse_untrusted, path, text_at
from consent_desktop.spine.transport import SpineTransport
from tests.conftest import ActiveGate
from tests.resilience.desk import plain
from tests.resilience.hostile_server import FileCanary, HostileSpine, Reply, forwarder, web_canary

pytestmark = pytest.mark.hazard("HAZ-013", "HAZ-008")  # a hostile answer believed; a file read, a call elsewhere
NUMBER = NhsNumber(patients.README_EXAMPLE)
SOMEONE_ELSE = patients.PATIENTS[1].nhs_number
MEMORY_BOUND = 8 * MAX_BYTES  # whatever the body's size: 50 MB must never be held, let alone expanded
FIFTY_MB = 50 * 1024 * 1024
SOAP_12 = "http://www.w3.org/2003/05/soap-envelope"


@dataclass(frozen=True)
class Scene:
    """What a hostile answer may point at."""

    secret: Path  # a file it must never read
    elsewhere: str  # a URL on another server it must never fetch
    forward: Callable[[bytes, str], bytes]  # the real sandbox, for answers that are right but for one detail


def soap(body: str, doctype: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{ns.SOAP}" xmlns:wsa="{ns.WSA}"><SOAP-ENV:Header/>'
        f"<SOAP-ENV:Body>{body}</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def streamed(size: int) -> Callable[[], Iterator[bytes]]:
    chunk = b"<a>" + b"x" * 65_533

    def body() -> Iterator[bytes]:
        for _ in range(size // len(chunk)):
            yield chunk

    return body


def ids_of(request: bytes) -> tuple[str, str]:
    """The request's wsa:MessageID (without "uuid:") and its HL7 id, which Spine echoes back."""
    root = parse_untrusted(request, what="request")
    header, body = child_named(root, "Header"), child_named(root, "Body")
    assert header is not None and body is not None
    hl7_id = path(body[0], "id")
    assert hl7_id is not None
    return (text_at(header, "MessageID") or "").removeprefix("uuid:"), hl7_id.get("root") or ""


def another_message(scene: Scene, request: bytes, action: str) -> Reply:
    message_id, hl7_id = ids_of(request)
    answer = scene.forward(request, action)
    return Reply(answer.replace(message_id.encode(), new_uuid().encode()).replace(hl7_id.encode(), new_uuid().encode()))


def another_patient(scene: Scene, request: bytes, action: str) -> Reply:
    return Reply(scene.forward(request.replace(NUMBER.digits.encode(), SOMEONE_ELSE.encode()), action))


def renamespaced(old: str, new: str) -> Callable[[Scene, bytes, str], Reply]:
    def answer(scene: Scene, request: bytes, action: str) -> Reply:
        return Reply(scene.forward(request, action).replace(old.encode(), new.encode()))

    return answer


def fixed(build: Callable[[Scene], Reply]) -> Callable[[Scene, bytes, str], Reply]:
    return lambda scene, _request, _action: build(scene)


LAUGHS = '<!ENTITY l0 "ha">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
HOSTILE: dict[str, Callable[[Scene, bytes, str], Reply]] = {
    "external file entity": fixed(
        lambda s: Reply(soap("&x;", f'<!DOCTYPE e [<!ENTITY x SYSTEM "file://{s.secret}">]>'))
    ),
    "external network DTD": fixed(lambda s: Reply(soap("", f'<!DOCTYPE e SYSTEM "{s.elsewhere}">'))),
    "external parameter entity": fixed(
        lambda s: Reply(soap("&leaked;", f'<!DOCTYPE e [<!ENTITY % p SYSTEM "{s.elsewhere}"> %p;]>'))
    ),
    "XInclude of a file": fixed(
        lambda s: Reply(
            soap(f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{s.secret}" parse="text"/>')
        )
    ),
    "billion laughs": fixed(lambda s: Reply(soap("&l9;", f"<!DOCTYPE e [{LAUGHS}]>"))),
    "quadratic blow-up": fixed(lambda s: Reply(soap("&a;" * 10_000, f'<!DOCTYPE e [<!ENTITY a "{"A" * 100_000}">]>'))),
    "entities declared in UTF-16": fixed(
        lambda s: Reply(
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE e [<!ENTITY a "b">]><e>&a;</e>'.encode("utf-16")
        )
    ),
    "10,000-deep nesting": fixed(lambda s: Reply(soap("<a>" * 10_000 + "</a>" * 10_000))),
    "50 MB body, chunked": fixed(lambda s: Reply(streamed(FIFTY_MB))),
    "50 MB body, declared": fixed(lambda s: Reply(streamed(FIFTY_MB), declared_length=FIFTY_MB)),
    "SOAP 1.2 namespace": renamespaced(ns.SOAP, SOAP_12),
    "HL7 in another namespace": renamespaced(ns.HL7, "urn:hl7-org:v2"),
    "answer to another message": another_message,
    "answer about another patient": another_patient,
}
UNREADABLE, TOO_BIG, NOT_SPINE = "could not be read", "far larger than expected", "not a Spine message"
TOLD = {  # what the user is told, in their words
    "external file entity": UNREADABLE,
    "external network DTD": UNREADABLE,
    "external parameter entity": UNREADABLE,
    "XInclude of a file": "not the one expected",
    "billion laughs": UNREADABLE,
    "quadratic blow-up": UNREADABLE,
    "entities declared in UTF-16": UNREADABLE,
    "10,000-deep nesting": UNREADABLE,
    "50 MB body, chunked": TOO_BIG,
    "50 MB body, declared": TOO_BIG,
    "SOAP 1.2 namespace": NOT_SPINE,
    "HL7 in another namespace": NOT_SPINE,
    "answer to another message": "for a different request",
    "answer about another patient": "about a different patient",
}
CHANGE_CASES = [name for name in HOSTILE if name != "answer about another patient"]  # a change names no patient


@pytest.fixture
def scene(sandbox_settings: Settings, tmp_path: Path) -> Iterator[tuple[Scene, FileCanary, list[str]]]:
    with FileCanary(tmp_path) as secret, web_canary() as (elsewhere, hits), forwarder(sandbox_settings) as forward:
        yield Scene(secret.path, elsewhere, forward), secret, hits


def clients_against(settings: Settings, url: str) -> tuple[SpineTransport, AcsClient, PdsClient]:
    spine = dataclasses.replace(settings.spine, endpoint=url)
    transport = SpineTransport(spine, settings.tls)
    acs = AcsClient(transport, SpineEndpoint.for_acs(spine), ActiveGate(), backoff=0)
    pds = PdsClient(transport, SpineEndpoint.for_pds(spine), ActiveGate(), backoff=0)
    return transport, acs, pds


def measured(action: Callable[[], object]) -> tuple[object, float, int]:
    """The outcome (a result or the error raised), seconds taken, and peak traced memory in bytes."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        outcome: object = action()
    except ConsentDesktopError as error:
        outcome = error
    finally:
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return outcome, elapsed, peak


@pytest.mark.parametrize(
    ("client", "case"),
    [
        pytest.param(
            client,
            case,
            marks=[pytest.mark.hazard("HAZ-001", "HAZ-002")] if case == "answer about another patient" else [],
        )
        for client in ("ACS read", "PDS retrieval")
        for case in HOSTILE
    ]
    + [pytest.param("ACS change", case, marks=pytest.mark.hazard("HAZ-003")) for case in CHANGE_CASES],
)
def test_hostile_answer_is_refused_quickly_and_safely(
    client: str,
    case: str,
    sandbox: Sandbox,
    sandbox_settings: Settings,
    scene: tuple[Scene, FileCanary, list[str]],
) -> None:
    world, secret, hits = scene
    with HostileSpine(sandbox.data, lambda body, action: HOSTILE[case](world, body, action)) as spine:
        transport, acs, pds = clients_against(sandbox_settings, spine.url)
        try:
            action: Callable[[], object] = {
                "ACS read": lambda: acs.get_consent(NUMBER),
                "PDS retrieval": lambda: pds.retrieve(NUMBER),
                "ACS change": lambda: acs.set_consent(NUMBER, ConsentChoice.OPTED_OUT),
            }[client]
            outcome, elapsed, peak = measured(action)
        finally:
            transport.close()
        asked = len(spine.requests)
    time.sleep(0.05)  # a stray fetch, had one been started, would have arrived by now
    if client == "ACS change":
        # The change was sent and its answer cannot be believed; the check read is refused too.
        assert getattr(outcome, "outcome", None) is SaveOutcome.UNCONFIRMED, outcome
        assert "check again" in outcome.headline  # type: ignore[attr-defined]
    else:
        assert isinstance(outcome, ConsentDesktopError), f"{case} gave {outcome!r}"
        assert plain(outcome), outcome.user_message
        assert TOLD[case] in outcome.user_message, outcome.user_message
        assert "TOP SECRET" not in outcome.user_message + outcome.details
    assert elapsed < 1.0, f"{case}: {elapsed:.2f} s"
    assert peak < MEMORY_BOUND, f"{case}: {peak / 1e6:.1f} MB at peak"
    assert secret.opened == 0, "the client tried to read a local file"
    assert hits == [], "the client fetched something from another server"
    assert 1 <= asked <= 2  # nothing retried that should not be: one request, and a change's one check read

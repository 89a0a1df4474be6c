"""Hostile or broken answers become clear errors: no entity expansion, no file read, no request elsewhere."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from consent_desktop.config import Settings
from consent_desktop.domain.errors import UnexpectedResponse
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.spine.acs_client import AcsClient
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.safe_xml import MAX_BYTES, MAX_DEPTH, PARSER_OPTIONS, parse_untrusted, untrusted_parser
from consent_desktop.spine.transport import SpineTransport
from tests.conftest import ActiveGate
from tests.resilience.hostile_server import web_canary
from tests.spine import wire

NHS = NhsNumber.parse("9434765919")


def refused(data: bytes) -> UnexpectedResponse:
    started = time.monotonic()
    with pytest.raises(UnexpectedResponse) as raised:
        parse_untrusted(data)
    assert time.monotonic() - started < 1.0
    return raised.value


@pytest.mark.hazard("HAZ-008", "HAZ-013")
def test_external_file_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    error = refused(f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>'.encode())
    assert "TOP SECRET" not in error.user_message + error.details


@pytest.mark.hazard("HAZ-008", "HAZ-013")
def test_external_network_entity_makes_no_request() -> None:
    with web_canary() as (url, hits):
        refused(f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{url}"><r/>'.encode())
        refused(f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "{url}"> %p;]><r/>'.encode())
        time.sleep(0.1)
    assert hits == []


@pytest.mark.hazard("HAZ-013")
def test_billion_laughs() -> None:
    entities = '<!ENTITY l0 "ha">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    refused(f'<?xml version="1.0"?><!DOCTYPE r [{entities}]><r>&l9;</r>'.encode())


@pytest.mark.hazard("HAZ-013")
def test_quadratic_blowup() -> None:
    big = "A" * 100_000
    refused(f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "{big}">]><r>{"&a;" * 10_000}</r>'.encode())


@pytest.mark.hazard("HAZ-013")
def test_entity_declarations_hidden_in_utf16() -> None:
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'
    refused(text.encode("utf-16"))


@pytest.mark.hazard("HAZ-013")
def test_deep_nesting() -> None:
    refused(b"<a>" * 10_000 + b"</a>" * 10_000)


@pytest.mark.hazard("HAZ-013")
def test_nesting_just_past_the_cap_is_refused_by_the_app_itself() -> None:
    error = refused(b"<a>" * (MAX_DEPTH + 1) + b"</a>" * (MAX_DEPTH + 1))  # libxml2 alone would allow 256
    assert error.details == f"nesting deeper than {MAX_DEPTH} levels"


@pytest.mark.hazard("HAZ-013")
def test_a_declaration_is_refused_before_the_parser_reads_anything() -> None:
    error = refused(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;')  # and not well-formed after it
    assert error.details == "document type declarations are refused"


# --- the parser's own flags, each on its own ------------------------------------------------------------------
# parse_untrusted refuses any declaration before parsing, so these give documents with declarations straight to
# the parser it uses: each flag must hold even if everything in front of it failed. A test that needs another flag
# relaxed to reach the one it checks says so.


def parse_with(data: bytes, **relaxed: bool) -> etree._Element:
    parser = untrusted_parser() if not relaxed else etree.XMLParser(**{**PARSER_OPTIONS, **relaxed})
    return etree.fromstring(data, parser)


@pytest.mark.hazard("HAZ-008", "HAZ-013")
def test_the_parser_never_replaces_an_entity_reference(tmp_path: Path) -> None:  # resolve_entities=False
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    root = parse_with(
        f'<!DOCTYPE r [<!ENTITY file SYSTEM "file://{secret}"><!ENTITY word "expanded">]><r>&file;&word;</r>'.encode()
    )
    assert root.text is None and [child.text for child in root] == ["&file;", "&word;"]


@pytest.mark.hazard("HAZ-013")
def test_the_parser_loads_no_external_dtd(tmp_path: Path) -> None:  # load_dtd=False, dtd_validation=False
    dtd = tmp_path / "outside.dtd"
    dtd.write_text('<!ENTITY e "from outside">')
    root = parse_with(f'<!DOCTYPE r SYSTEM "file://{dtd}"><r>&e;</r>'.encode())
    assert root.getroottree().docinfo.externalDTD is None


@pytest.mark.hazard("HAZ-008", "HAZ-013")
def test_the_parser_itself_refuses_the_network() -> None:  # no_network=True; load_dtd relaxed to reach it
    with web_canary() as (url, hits), pytest.raises(etree.XMLSyntaxError, match="network"):
        parse_with(f'<!DOCTYPE r SYSTEM "{url}"><r/>'.encode(), load_dtd=True)
    assert hits == []


@pytest.mark.hazard("HAZ-013")
def test_the_parser_keeps_libxml2s_own_depth_limit() -> None:  # huge_tree=False
    with pytest.raises(etree.XMLSyntaxError):
        parse_with(b"<a>" * 300 + b"</a>" * 300)


@pytest.mark.hazard("HAZ-013")
def test_oversized_document() -> None:
    error = refused(b"<r>" + b"x" * (MAX_BYTES + 1) + b"</r>")
    assert "larger than expected" in error.user_message


@pytest.mark.hazard("HAZ-013")
def test_fifty_megabyte_answer_is_cut_off_quickly_and_in_bounded_memory(sandbox_settings: Settings) -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        chunk = b"<a>" + b"x" * 65_536

        def body() -> Iterator[bytes]:
            for _ in range(50 * 1024 * 1024 // len(chunk)):
                yield chunk

        return httpx.Response(200, content=body(), headers={"Content-Type": "text/xml"})

    spine = sandbox_settings.spine
    transport = SpineTransport(spine, sandbox_settings.tls, transport=httpx.MockTransport(endless))
    client = AcsClient(transport, SpineEndpoint(spine.acs_endpoint, "1", "2"), ActiveGate())
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(UnexpectedResponse, match="larger than expected"):
        client.get_consent(NHS)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 8 * MAX_BYTES


@pytest.mark.hazard("HAZ-013")
def test_declared_huge_length_is_refused_before_reading(sandbox_settings: Settings) -> None:
    def huge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=wire.get_response(), headers={"Content-Length": str(50 * 1024 * 1024)})

    spine = sandbox_settings.spine
    transport = SpineTransport(spine, sandbox_settings.tls, transport=httpx.MockTransport(huge))
    client = AcsClient(transport, SpineEndpoint(spine.acs_endpoint, "1", "2"), ActiveGate())
    with pytest.raises(UnexpectedResponse, match="larger than expected"):
        client.get_consent(NHS)

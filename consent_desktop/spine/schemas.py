"""Spine's own XSDs, shipped in the package: the sandbox validates every request and answer against them."""

from __future__ import annotations

import threading
from functools import cache
from importlib.resources import as_file, files

from lxml import etree

_ROOTS = {
    # ACS, from TightenedSchemas/
    "GET_RESOURCE_PERMISSIONS_INUK01": "TightenedSchemas",
    "GET_RESOURCE_PERMISSIONS_RESPONSE_INUK01": "TightenedSchemas",
    "SET_RESOURCE_PERMISSIONS_INUK01": "TightenedSchemas",
    "MCCI_IN010000UK13": "TightenedSchemas",
    # PDS, from Schemas/
    "QUPA_IN000008UK02": "Schemas",
    "QUPA_IN000009UK03": "Schemas",
    "QUPA_IN000005UK01": "Schemas",
    "QUPA_IN000007UK01": "Schemas",
    "QUQI_IN010000UK14": "Schemas",
}
_lock = threading.Lock()  # libxml2 schema objects may be shared for validation, not built concurrently


def known(message_name: str) -> bool:
    return message_name in _ROOTS


def message_names() -> tuple[str, ...]:
    """Every HL7 message this app sends or the sandbox answers with, each with its Spine XSD."""
    return tuple(_ROOTS)


@cache
def schema(message_name: str) -> etree.XMLSchema:
    """The compiled XSD for one message (compiled once, then shared)."""
    folder = _ROOTS[message_name]
    resource = files("consent_desktop.spine") / "schemas" / "omvt" / folder / f"{message_name}.xsd"
    with as_file(resource) as xsd_path:
        # Our own packaged files: includes are resolved from disk, never the network.
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        return etree.XMLSchema(etree.parse(str(xsd_path), parser))


def validation_errors(message: etree._Element) -> list[str]:
    """Schema errors for an HL7 message element (empty when valid). The element's local name picks the XSD."""
    name = etree.QName(message).localname
    with _lock:
        compiled = schema(name)
        if compiled.validate(etree.ElementTree(message)):
            return []
        return [f"line {e.line}: {e.message}" for e in compiled.error_log]

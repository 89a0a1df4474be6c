"""gpOBJECT: the XML form the legacy Identity Agent and the CIS authentication service (GAS) exchange.

A ``<gpOBJECT>`` holds ``<gpPARAM name="…">value</gpPARAM>`` items, some with attributes (a role's ``id`` and
``orgcode``; ``encoding="base64"``). Every public sample starts with ``<!DOCTYPE USER SYSTEM "…">`` naming an
external DTD that nothing needs, and the GAS's answers carry role names such as ``"Admin & Clerical"`` with a bare
``&`` (``../shared/docs/identity-protocols.md`` §1.3 to 1.5). Reading them therefore takes two deliberate steps
before the app's one XML parser (:func:`consent_desktop.spine.safe_xml.parse_untrusted`, which refuses any DTD):
that one external-identifier DOCTYPE line is removed (an internal subset or an entity declaration is still
refused), and a bare ``&`` that starts no character or entity reference is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lxml import etree

from consent_desktop.domain.errors import UnexpectedResponse
from consent_desktop.spine.safe_xml import local_name, parse_untrusted

DOCTYPE = '<!DOCTYPE USER SYSTEM "gpOBJECT.DTD">'  # what the Identity Agent sends (NHSbuntu-identity-agent)
_EXTERNAL_DOCTYPE = re.compile(rb'\A(\s*<\?xml[^>]*\?>)?(\s*)<!DOCTYPE USER SYSTEM "[^"<>\[\]]*">')
_BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z_][A-Za-z0-9._-]*|#[0-9]+|#x[0-9A-Fa-f]+);)")


@dataclass(frozen=True)
class GpParam:
    name: str
    value: str
    attributes: Mapping[str, str]


@dataclass(frozen=True)
class GpObject:
    params: tuple[GpParam, ...]

    def value(self, name: str) -> str | None:
        """The first parameter of that name, stripped; None when there is none."""
        found = next((param for param in self.params if param.name == name), None)
        return found.value if found is not None else None

    def starting(self, prefix: str) -> list[GpParam]:
        """Every parameter whose name starts with ``prefix`` (``nhsjobrole0``, ``nhsjobrole1``, …), in order."""
        return [param for param in self.params if param.name.startswith(prefix)]


Param = tuple[str, str] | tuple[str, str, Mapping[str, str]]  # name, value and any further attributes


def build(params: Iterable[Param]) -> bytes:
    """A gpOBJECT request, as the Identity Agent writes one: XML declaration, its DOCTYPE line, one gpPARAM each."""
    root = etree.Element("gpOBJECT")
    for item in params:
        attributes = {"name": item[0], **(item[2] if len(item) == 3 else {})}
        element = etree.SubElement(root, "gpPARAM", attributes)
        element.text = item[1]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", doctype=DOCTYPE)


def parse(body: bytes, *, what: str) -> GpObject:
    """Read a gpOBJECT; :class:`UnexpectedResponse` for anything else."""
    body = _EXTERNAL_DOCTYPE.sub(lambda match: (match.group(1) or b"") + match.group(2), body, count=1)
    root = parse_untrusted(_BARE_AMPERSAND.sub(b"&amp;", body), what=what)
    if local_name(root) != "gpOBJECT":
        raise UnexpectedResponse(f"{what} could not be read.", f"root element is {local_name(root)!r}, not gpOBJECT")
    params = []
    for element in root:
        if not isinstance(element.tag, str) or local_name(element) != "gpPARAM":
            continue
        name = element.get("name", "")
        attributes = {key: value for key, value in element.attrib.items() if key != "name"}
        params.append(GpParam(name, "".join(element.itertext()).strip(), attributes))
    return GpObject(tuple(params))

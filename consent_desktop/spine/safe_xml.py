"""The one way this app parses XML it did not write itself.

External entities, DTD loading and network access are off; entity declarations are refused outright, so entity
expansion attacks (billion laughs, quadratic blow-up) fail before any expansion; depth and size are capped.
"""

from __future__ import annotations

from typing import Final, TypedDict

from lxml import etree

from consent_desktop.domain.errors import UnexpectedResponse

MAX_BYTES = 2 * 1024 * 1024  # Spine's ACS and PDS answers are a few KB; anything near this is not one of them
MAX_DEPTH = 200


class ParserOptions(TypedDict):
    resolve_entities: bool
    no_network: bool
    load_dtd: bool
    dtd_validation: bool
    huge_tree: bool
    remove_comments: bool
    remove_pis: bool


# Each flag is a defence of its own, tested on its own (tests/spine/test_hostile_xml.py): the declaration check
# below refuses the documents they guard against before the parser sees them, and these hold if it ever did not.
PARSER_OPTIONS: Final = ParserOptions(
    resolve_entities=False,  # an entity reference stays a reference: no file read, no expansion
    no_network=True,  # libxml2 opens no connection, whatever it was told to load
    load_dtd=False,  # no external DTD is fetched
    dtd_validation=False,  # (validating would fetch one)
    huge_tree=False,  # libxml2's own limits on depth and text size stay on
    remove_comments=True,
    remove_pis=True,
)


def untrusted_parser() -> etree.XMLParser:
    """The parser :func:`parse_untrusted` uses (a new one each time: lxml parsers are not thread-safe)."""
    return etree.XMLParser(**PARSER_OPTIONS)


def parse_untrusted(data: bytes, *, what: str = "Spine's answer") -> etree._Element:
    """Parse bytes from the network into an element, or raise :class:`UnexpectedResponse`."""
    if len(data) > MAX_BYTES:
        raise UnexpectedResponse(
            f"{what} was far larger than expected and was not read.", f"body of {len(data)} bytes refused"
        )
    if not data.strip():
        raise UnexpectedResponse(f"{what} was empty.", "empty body")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnexpectedResponse(f"{what} could not be read.", "document type declarations are refused")
    try:
        root = etree.fromstring(data, untrusted_parser())
    except etree.XMLSyntaxError as exc:
        raise UnexpectedResponse(f"{what} could not be read.", f"not well-formed XML: {exc.msg}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # e.g. a UTF-16 body the byte check cannot see
        raise UnexpectedResponse(f"{what} could not be read.", "document type declarations are refused")
    _check_depth(root, what)
    return root


def _check_depth(root: etree._Element, what: str) -> None:
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise UnexpectedResponse(f"{what} could not be read.", f"nesting deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in element)


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def children_named(element: etree._Element, name: str) -> list[etree._Element]:
    """Child elements by local name, whatever namespace (Spine is inconsistent about ``crs:`` prefixes)."""
    return [child for child in element if isinstance(child.tag, str) and local_name(child) == name]


def child_named(element: etree._Element, name: str) -> etree._Element | None:
    found = children_named(element, name)
    return found[0] if found else None


def descendants_named(element: etree._Element, name: str) -> list[etree._Element]:
    return [el for el in element.iter() if isinstance(el.tag, str) and local_name(el) == name]


def path(element: etree._Element, *names: str) -> etree._Element | None:
    """Follow child local names; None when any step is missing."""
    current: etree._Element | None = element
    for name in names:
        if current is None:
            return None
        current = child_named(current, name)
    return current


def text_at(element: etree._Element, *names: str) -> str | None:
    found = path(element, *names)
    if found is None or found.text is None:
        return None
    return found.text.strip()

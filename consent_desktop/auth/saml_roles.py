"""The SSB's SAML 1.1 RoleAssertion: who the legacy CIS ticket belongs to, the role selected for it, and each role
profile's job-role and RBAC activity codes.

Read as NHS Digital's Spine Core guidance describes it (``../shared/docs/identity-protocols.md`` §1.7): the
``samlp:StatusCode`` must be ``samlp:Success``; the attributes (namespace ``http://www.syntegra.com``) are a flat
list: one person block (``cn``, ``uid``, ``ssbSessionRoleUid``, ``ssbMode``, …), then one block per role profile,
each starting at its ``nhsIdCode`` and holding ``o``, ``nhsJobRole``, ``nhsJobRoleCode``, ``uniqueIdentifier`` and
``nhsBusinessFunctionsCodes`` (0..*) in any order. The assertion is not signed: it is believed because it comes
straight from the SSB over verified TLS, for the ticket this app holds (the subject confirmation must carry it).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from consent_desktop.auth.national_role import job_role_name
from consent_desktop.domain.errors import UnexpectedResponse
from consent_desktop.domain.identity import RoleProfile
from consent_desktop.spine.safe_xml import descendants_named, local_name, parse_untrusted

ATTRIBUTE_NAMESPACE = "http://www.syntegra.com"
SUCCESS = "samlp:Success"
_WHAT = "The sign-in service's description of your roles"


class AssertionRefused(UnexpectedResponse):
    """The SSB answered, but not with a successful assertion (for example, it no longer knows the ticket)."""


@dataclass(frozen=True)
class RoleAssertion:
    user_id: str  # uid
    user_name: str  # cn
    session_role_id: str  # ssbSessionRoleUid: the role selected for this ticket
    roles: dict[str, RoleProfile]  # by role profile id (uniqueIdentifier)
    confirms_ticket: bool  # the subject confirmation carries the ticket asked about


def parse(body: bytes, ticket: str) -> RoleAssertion:
    """Raise :class:`UnexpectedResponse` for anything but a successful assertion with a complete person block."""
    root = parse_untrusted(body, what=_WHAT)
    codes = [element.get("Value", "") for element in descendants_named(root, "StatusCode")]
    if local_name(root) != "Response" or not codes:
        raise UnexpectedResponse(f"{_WHAT} could not be read.", "not a SAML samlp:Response")
    if codes[0] != SUCCESS:
        raise AssertionRefused(f"{_WHAT} was refused.", f"SAML status {codes[0][:60]!r}")
    person: dict[str, list[str]] = {}
    blocks: list[dict[str, list[str]]] = []
    for attribute in descendants_named(root, "Attribute"):
        if attribute.get("AttributeNamespace") != ATTRIBUTE_NAMESPACE:
            continue
        name = attribute.get("AttributeName", "")
        values = [_text(value) for value in descendants_named(attribute, "AttributeValue")]
        if name == "nhsIdCode":
            blocks.append({})
        (blocks[-1] if blocks else person).setdefault(name, []).extend(values)
    confirmations = {_text(element) for element in descendants_named(root, "SubjectConfirmationData")}
    roles = [_role(block) for block in blocks]
    return RoleAssertion(
        user_id=_one(person, "uid"),
        user_name=_one(person, "cn"),
        session_role_id=_one(person, "ssbSessionRoleUid"),
        roles={role.role_profile_id: role for role in roles},
        confirms_ticket=ticket in confirmations,
    )


def _role(block: dict[str, list[str]]) -> RoleProfile:
    name = _one(block, "nhsJobRole")
    return RoleProfile(
        role_profile_id=_one(block, "uniqueIdentifier"),
        org_code=_one(block, "nhsIdCode"),
        org_name=_one(block, "o"),
        job_role_code=_one(block, "nhsJobRoleCode"),
        job_role_name=job_role_name(name),
        activities=frozenset(code for code in block.get("nhsBusinessFunctionsCodes", []) if code),
    )


def _one(block: dict[str, list[str]], name: str) -> str:
    values = [value for value in block.get(name, []) if value]
    if len(values) != 1:
        raise UnexpectedResponse(f"{_WHAT} could not be read.", f"SAML attribute {name} present {len(values)} times")
    return values[0]


def _text(element: etree._Element) -> str:
    return "".join(element.itertext()).strip()

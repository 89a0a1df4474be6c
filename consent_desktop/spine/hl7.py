"""The HL7 V3 transmission wrapper and control act that every Spine request shares, and their answers.

Requests carry ``MCCI_MT010101UK12`` (no acknowledgement) and a ``QUQI_MT050000UK01``-shaped control act: the
person (``author``: role profile, SDS user id, job role) and the system (``author1``: our ASID). Both come only
from a :class:`SpineIdentity` produced by sign-in and from configuration, never from text a user typed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree

from consent_desktop.domain.errors import SpineCode
from consent_desktop.domain.identity import SpineIdentity
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine.safe_xml import child_named, children_named, local_name, path

LONDON = ZoneInfo("Europe/London")  # Spine timestamps are UK local time without an offset


def new_uuid() -> str:
    """Upper-case UUID, the form every Spine sample uses."""
    return str(uuid.uuid4()).upper()


def hl7_timestamp(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%Y%m%d%H%M%S")


def el(parent: etree._Element, local: str, namespace: str = ns.HL7, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, ns.q(namespace, local), attrs)


def _device(parent: etree._Element, function: str, type_code: str, asid: str) -> None:
    comm = el(parent, function, typeCode=type_code)
    device = el(comm, "device", classCode="DEV", determinerCode="INSTANCE")
    el(device, "id", root=ns.OID_ASID, extension=asid)


@dataclass(frozen=True)
class Interaction:
    service: str
    interaction_id: str

    @property
    def action(self) -> str:
        return f"{self.service}/{self.interaction_id}"


def transmission_wrapper(
    interaction: Interaction,
    *,
    hl7_id: str,
    created: datetime,
    receiver_asid: str,
    sender_asid: str,
    nsmap: dict[str | None, str],
) -> tuple[etree._Element, etree._Element]:
    """The message element and its (empty but for nothing) ``ControlActEvent``, ready for authors and payload."""
    root = etree.Element(ns.q(ns.HL7, interaction.interaction_id), nsmap=nsmap)
    el(root, "id", root=hl7_id)
    el(root, "creationTime", value=hl7_timestamp(created))
    el(root, "versionCode", code="V3NPfIT3.0")
    el(root, "interactionId", root=ns.OID_INTERACTION, extension=interaction.interaction_id)
    el(root, "processingCode", code="P")
    el(root, "processingModeCode", code="T")
    el(root, "acceptAckCode", code="NE")
    _device(root, "communicationFunctionRcv", "RCV", receiver_asid)
    _device(root, "communicationFunctionSnd", "SND", sender_asid)
    control_act = el(root, "ControlActEvent", classCode="CACT", moodCode="EVN")
    return root, control_act


def add_authors(control_act: etree._Element, identity: SpineIdentity, sender_asid: str) -> None:
    author = el(control_act, "author", typeCode="AUT")
    person = el(author, "AgentPersonSDS", classCode="AGNT")
    el(person, "id", root=ns.OID_ROLE_PROFILE, extension=identity.role.role_profile_id)
    agent = el(person, "agentPersonSDS", classCode="PSN", determinerCode="INSTANCE")
    el(agent, "id", root=ns.OID_SDS_USER, extension=identity.user_id)
    part = el(person, "part", typeCode="PART")
    role = el(part, "partSDSRole", classCode="ROL")
    el(role, "id", root=ns.OID_JOB_ROLE, extension=identity.role.job_role_code)
    author1 = el(control_act, "author1", typeCode="AUT")
    system = el(author1, "AgentSystemSDS", classCode="AGNT")
    device = el(system, "agentSystemSDS", classCode="DEV", determinerCode="INSTANCE")
    el(device, "id", root=ns.OID_ASID, extension=sender_asid)


# --- answers ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hl7Answer:
    """The parts of any HL7 answer the client decides on."""

    element: etree._Element
    interaction_id: str
    ack_type: str | None  # AA, AE, AR; None when the message carries no acknowledgement
    message_ref: str | None
    reasons: tuple[SpineCode, ...]
    query_response_code: str | None

    @property
    def errors(self) -> tuple[SpineCode, ...]:
        return tuple(r for r in self.reasons if r.qualifier != "WG")

    @property
    def warnings(self) -> tuple[SpineCode, ...]:
        return tuple(r for r in self.reasons if r.qualifier == "WG")

    @property
    def accepted(self) -> bool:
        return self.ack_type == "AA" and not self.errors and self.query_response_code in (None, "OK")


def _code(code_el: etree._Element, qualifier_default: str) -> SpineCode:
    qualifier = child_named(code_el, "qualifier")
    return SpineCode(
        code=(code_el.get("code") or "").strip(),
        display=(code_el.get("displayName") or "").strip(),
        qualifier=(qualifier.get("code") if qualifier is not None else None) or qualifier_default,
        system=code_el.get("codeSystem") or "",
    )


def read_answer(message: etree._Element) -> Hl7Answer:
    """Acknowledgement, reasons (``reason/justifyingDetectedIssueEvent`` and ``acknowledgementDetail``)."""
    ack = child_named(message, "acknowledgement")
    reasons: list[SpineCode] = []
    message_ref = None
    ack_type = None
    if ack is not None:
        ack_type = ack.get("typeCode")
        ref = path(ack, "messageRef", "id")
        message_ref = ref.get("root") if ref is not None else None
        for detail in children_named(ack, "acknowledgementDetail"):
            code = child_named(detail, "code")
            if code is not None:
                reasons.append(_code(code, detail.get("typeCode") or "ER"))
    control_act = child_named(message, "ControlActEvent")
    query_code = None
    if control_act is not None:
        for reason in children_named(control_act, "reason"):
            code = path(reason, "justifyingDetectedIssueEvent", "code")
            if code is not None:
                reasons.append(_code(code, "ER"))
        response_code = path(control_act, "queryAck", "queryResponseCode")
        if response_code is not None:
            query_code = response_code.get("code")
    return Hl7Answer(
        element=message,
        interaction_id=local_name(message),
        ack_type=ack_type,
        message_ref=message_ref,
        reasons=tuple(reasons),
        query_response_code=query_code,
    )

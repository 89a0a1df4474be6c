"""The sandbox's Access Control Service: Spine's GET/SET business rules (its ``spine2_xslt`` schematron) over the
SQLite store, answering in Spine's shapes.

Two faults reproduce Spine's own timing rather than the network's (``docs/sandbox.md``): ``late-commit`` holds a
change unanswered and stores it a while after the client has read the record again, and ``hold-write`` stores a
change but lets reads see the old value for a while.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from lxml import etree

from consent_desktop.sandbox import patients
from consent_desktop.sandbox.http import Response
from consent_desktop.sandbox.soap import Incoming, Refusal, answer, error_answer, response_message
from consent_desktop.sandbox.store import Store
from consent_desktop.spine import namespaces as ns
from consent_desktop.spine.hl7 import el
from consent_desktop.spine.safe_xml import child_named, children_named, descendants_named, text_at

NO_FAULTS: Mapping[str, str] = MappingProxyType({})
NOT_FOUND = [
    ("400", "Invalid Request"),
    ("35160", "[PSIS-35160] - Invalid input message. Mandatory field NHS Number is missing or incorrect"),
]


def _invalid(incoming: Incoming, key: str, text: str) -> Refusal:
    return Refusal(error_answer(incoming, [("400", "Invalid Request"), ("400", f"ErrorBase1712.{key}: {text}")]))


def _resource_context(incoming: Incoming, parent: etree._Element | None) -> str:
    contexts = children_named(parent, "resourceContext") if parent is not None else []
    if len(contexts) != 1:
        raise _invalid(incoming, "MANDATORY_DATA_MISSING", "Resource Context not found")
    context = contexts[0]
    if context.get("root") != ns.OID_NHS_NUMBER:
        raise _invalid(incoming, "MANDATORY_DATA_MISSING", f"resourceContext root={ns.OID_NHS_NUMBER} not found")
    extension = context.get("extension")
    if not extension:
        raise _invalid(incoming, "MANDATORY_DATA_MISSING", "resourceContext extension not found")
    return extension


@dataclass(frozen=True)
class _Held:
    """A change Spine has received but not stored yet: stored ``delay`` seconds after the next read of its patient."""

    changes: dict[str, str]
    who: dict[str, str]
    delay: float


class AcsService:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._held: dict[str, list[_Held]] = {}  # NHS number -> changes waiting for a late commit
        self._stale: dict[str, tuple[dict[str, str], float]] = {}  # NHS number -> what reads show, until when
        self._timers: list[threading.Timer] = []

    def close(self) -> None:
        """Forget held changes (as a restarted Spine would) and stop their timers."""
        with self._lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
            self._held.clear()

    def get(self, incoming: Incoming, *, other_patient: bool = False) -> Response:
        query = next(iter(descendants_named(incoming.message, "accessControlQuery")), None)
        nhs_number = _resource_context(incoming, query)
        if len(nhs_number) != 10:
            key = "RESOURCE_CONTEXT_TOO_LONG" if len(nhs_number) > 10 else "RESOURCE_CONTEXT_TOO_SHORT"
            raise _invalid(incoming, key, "resourceContext extension must be 10 characters")
        assert query is not None
        criteria = children_named(query, "queryCriteria")
        if len(criteria) > 1:
            raise _invalid(incoming, "INVALID_ACA_CARDINALITY", "at most one queryCriteria")
        wanted_codes: set[str] = {"View", "Store"}
        if criteria:
            if not text_at(criteria[0], "function", "context"):
                raise _invalid(incoming, "FUNCTION_CONTEXT_EMPTY", "function context must be present")
            code = text_at(criteria[0], "function", "code")
            if code:
                wanted_codes = {code}
            for resource in children_named(criteria[0], "resource"):
                if not text_at(resource, "type"):
                    raise _invalid(incoming, "RESOURCE_TYPE_EMPTY", "resource type must be present")
                if not text_at(resource, "Id"):
                    raise _invalid(incoming, "RESOURCE_ID_EMPTY", "resource Id must be present")
                if text_at(criteria[0], "function", "context") != "Sealing" and text_at(resource, "Id") != nhs_number:
                    raise _invalid(incoming, "INVALID_COMBINATION_FC_RC_RI", "resource Id must equal the NHS number")
        if not patients.acs_knows(nhs_number):
            return error_answer(incoming, NOT_FOUND, ack="AE")
        shown = patients.UNKNOWN_EXAMPLE if other_patient else nhs_number
        assertions = self._visible(nhs_number)
        self._commit_later(nhs_number)
        message, control_act = response_message(
            incoming, "GET_RESOURCE_PERMISSIONS_RESPONSE_INUK01", "AA", version="V3NPfIT4.2.00"
        )
        response = el(el(control_act, "subject", typeCode="SUBJ"), "getResourcePermissionsResponse", ns.CRS)
        permissions = el(response, "permissions", ns.CRS)
        el(permissions, "resourceContext", ns.CRS, root=ns.OID_NHS_NUMBER, extension=shown)
        for function in ("Store", "View"):
            if function in assertions and function in wanted_codes:
                assertion = el(permissions, "accessControlAssertion", ns.CRS)
                el(assertion, "permission", ns.CRS).text = assertions[function]
                resource = el(assertion, "resource", ns.CRS)
                el(resource, "type", ns.CRS).text = "SCR"
                el(resource, "Id", ns.CRS).text = shown
                function_el = el(assertion, "function", ns.CRS)
                el(function_el, "context", ns.CRS).text = "Consent"
                el(function_el, "code", ns.CRS).text = function
                accessor = el(assertion, "accessor", ns.CRS)
                el(accessor, "type", ns.CRS).text = "Everyone"
                el(el(accessor, "accessorId", ns.CRS), "name", ns.CRS).text = "Everyone"
        el(el(control_act, "queryAck", type="QueryAck"), "queryResponseCode", code="OK")
        return answer(incoming, message, wrapper="getResourcePermissionsResponse")

    def set(self, incoming: Incoming, faults: Mapping[str, str] = NO_FAULTS) -> Response:
        """Validate, then commit atomically; the caller decides whether the answer ever reaches the client."""
        nhs_number, changes = self._validated_set(incoming)
        if not patients.acs_knows(nhs_number):
            return error_answer(incoming, NOT_FOUND, ack="AE")
        author = incoming.author
        assert author is not None
        who = {
            "user": author.user_id,
            "role_profile": author.role_profile_id,
            "job_role": author.job_role_code,
            "asid": incoming.sender_asid,
            "message_id": incoming.message_id,
        }
        if "late-commit" in faults:
            with self._lock:
                self._held.setdefault(nhs_number, []).append(_Held(changes, who, float(faults["late-commit"] or 0)))
            return Response(hold=True)
        before = self._store.assertions(nhs_number)
        self._store.apply(nhs_number, changes, who)
        if "hold-write" in faults:
            with self._lock:
                self._stale[nhs_number] = (before, time.monotonic() + float(faults["hold-write"] or 0))
        message, _ = response_message(incoming, "MCCI_IN010000UK13", "AA")
        return answer(incoming, message, wrapper="setResourcePermissionsResponse")

    def _visible(self, nhs_number: str) -> dict[str, str]:
        """What a read sees: the stored assertions, unless a write is still being held from reads."""
        with self._lock:
            stale = self._stale.get(nhs_number)
            if stale is not None and time.monotonic() < stale[1]:
                return dict(stale[0])
            self._stale.pop(nhs_number, None)
        return self._store.assertions(nhs_number)

    def _commit_later(self, nhs_number: str) -> None:
        """A read of a patient with held changes: each is stored its delay after this read."""
        with self._lock:
            for held in self._held.pop(nhs_number, []):
                timer = threading.Timer(held.delay, self._store.apply, (nhs_number, held.changes, held.who))
                timer.daemon = True
                self._timers.append(timer)
                timer.start()

    def _validated_set(self, incoming: Incoming) -> tuple[str, dict[str, str]]:
        permissions = next(iter(descendants_named(incoming.message, "permissions")), None)
        nhs_number = _resource_context(incoming, permissions)
        assert permissions is not None
        assertions = children_named(permissions, "accessControlAssertion")
        if not 1 <= len(assertions) <= 2:
            raise _invalid(
                incoming,
                "INVALID_ACA_CARDINALITY",
                "At least one and no more than two accessControlAssertion must be provided",
            )
        changes: dict[str, str] = {}
        for assertion in assertions:
            permission = text_at(assertion, "permission") or ""
            if not permission:
                raise _invalid(incoming, "MISSING_PERMISSIONS_IN_SET", "permission must not be empty")
            if text_at(assertion, "resource", "type") != "SCR":
                raise _invalid(incoming, "INVALID_COMBINATION_FC_RT", "resource type must be SCR")
            context = text_at(assertion, "function", "context")
            if context != "Consent":
                raise _invalid(incoming, "INVALID_FUNCTION_CONTEXT", "function context must be Consent")
            code = text_at(assertion, "function", "code") or ""
            if code not in ("View", "Store"):
                raise _invalid(incoming, "INVALID_FUNCTION_CODE", "function code must be View or Store")
            accessor = child_named(assertion, "accessor")
            accessor_ok = (
                accessor is not None
                and text_at(accessor, "type") == "Everyone"
                and (text_at(accessor, "accessorId", "name") == "Everyone")
            )
            if permission != "Clear" and not accessor_ok:
                raise _invalid(incoming, "INVALID_ACCESSOR_TYPE", "accessor must be Everyone")
            if text_at(assertion, "resource", "Id") != nhs_number:
                raise _invalid(incoming, "INVALID_COMBINATION_FC_RC_RI", "resource Id must equal the NHS number")
            if code in changes:
                raise _invalid(incoming, "INVALID_ACA_CARDINALITY", "Only 1 Store/View permission can be provided")
            changes[code] = permission
        if len(set(changes.values())) > 1:
            raise _invalid(incoming, "MANDATORY_DATA_MISSING", "Inconsistent Permission to View and Store")
        return nhs_number, changes

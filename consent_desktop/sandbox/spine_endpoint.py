"""The Spine synchronous endpoint (``POST /sync-service``): routes each SOAP request by its action to a service,
with any faults a tester has switched on applied around it."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from consent_desktop.sandbox.http import Request, Response
from consent_desktop.sandbox.soap import Incoming, Refusal, error_answer, read_request, soap_fault
from consent_desktop.sandbox.store import Fault, Store
from consent_desktop.spine.hl7 import new_uuid

log = logging.getLogger(__name__)
PATH = "/sync-service"

DUPLICATE = [("401", "Duplicate message id: this message has already been received")]
HTML_503 = (
    b"<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><h1>Service Temporarily Unavailable</h1></body></html>"
)
HTML_PROXY = b"<html><body><h1>Web filter</h1><p>Please sign in to continue.</p></body></html>"
NOT_FOUND = [
    ("400", "Invalid Request"),
    ("35160", "[PSIS-35160] - Invalid input message. Mandatory field NHS Number is missing or incorrect"),
]
TMS_TEXT = {
    "200": "System failure to process message - default",
    "206": "Routing/delivery failure",
    "208": "Failure storing variable in memo",
}


@dataclass(frozen=True)
class Operation:
    """One interaction a service answers. ``handler(incoming, faults)`` builds the answer and commits any change;
    ``faults`` maps each fault switched on for this request to its value."""

    scope: str  # the fault scope: get, set, pds
    handler: Callable[[Incoming, Mapping[str, str]], Response]


class SpineEndpoint:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._operations: dict[str, Operation] = {}

    def register(self, interaction_id: str, operation: Operation) -> None:
        self._operations[interaction_id] = operation

    def __call__(self, request: Request) -> Response:
        action = request.header("SOAPAction").strip().strip('"')
        interaction_id = action.rsplit("/", 1)[-1]
        operation = self._operations.get(interaction_id)
        faults = self._store.take_faults(operation.scope) if operation else []
        names = {f.name: f.value for f in faults}
        delay = _latency(faults)
        response = self._before(names) or self._process(request, action, operation, names)
        response.delay += delay
        return response

    def _before(self, names: Mapping[str, str]) -> Response | None:
        """Faults that stop a request before Spine processes it."""
        if "drop-before-commit" in names:
            return Response(drop_connection=True)
        if "http-503" in names:
            return Response(503, HTML_503, "text/html")
        if "html" in names:
            return Response(200, HTML_PROXY, "text/html")
        for code in ("200", "206", "208"):
            if f"soap-fault-{code}" in names:
                return soap_fault(code, TMS_TEXT[code])
        return None

    def _process(
        self, request: Request, action: str, operation: Operation | None, names: Mapping[str, str]
    ) -> Response:
        try:
            incoming = read_request(request.body, action)
            if operation is None:
                return soap_fault("300", f"unsupported interaction {incoming.interaction_id}")
            if not self._store.first_use_of(incoming.message_id) or not self._store.first_use_of(incoming.hl7_id):
                return error_answer(incoming, DUPLICATE, ack="AE")
            if "reject-35160" in names:
                return error_answer(incoming, NOT_FOUND, ack="AE")
            if "other-message" in names:
                incoming = dataclasses.replace(incoming, message_id=new_uuid(), hl7_id=new_uuid())
            response = operation.handler(incoming, names)
        except Refusal as refusal:
            return refusal.response
        # Faults after Spine has processed (and, for a change, committed) the request.
        if response.hold:
            return response  # a change held for a late commit: no answer to spoil
        if "drop-after-commit" in names:
            return Response(drop_connection=True)
        if "http-503-after-commit" in names:
            return Response(503, HTML_503, "text/html")
        if "malformed" in names:
            return Response(200, response.body[: len(response.body) // 2])
        if "empty" in names:
            return Response(200, b"")
        if "trickle" in names:
            response.trickle = float(names["trickle"] or 0)
        return response


def _latency(faults: list[Fault]) -> float:
    return sum(float(f.value or 0) for f in faults if f.name == "latency")

"""Faults a tester or trainer can switch on in a running sandbox.

Each fault applies to requests of one scope (``get``, ``set``, ``pds``, ``cis`` or ``all``), until cleared or for a
number of requests. They reproduce what a client meets on the real network: slowness, a proxy's error page,
Spine's SOAP faults, a business rejection, an unreadable body, a connection lost before or after Spine
committed a change, an answer trickled a byte at a time, and Spine's own timing: a change applied after its
answer timed out (and after the client read the record again), or stored but not yet seen by reads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaultKind:
    name: str
    help: str
    takes_value: bool = False


KINDS = {
    kind.name: kind
    for kind in (
        FaultKind("latency", "wait VALUE seconds before answering", takes_value=True),
        FaultKind("http-503", "answer HTTP 503 with a load balancer's HTML page"),
        FaultKind("html", "answer HTTP 200 with an HTML page (a captive proxy)"),
        FaultKind("soap-fault-200", "HTTP 500 SOAP Fault, TMS 200 (system failure; retriable)"),
        FaultKind("soap-fault-206", "HTTP 500 SOAP Fault, TMS 206 (routing failure; retriable)"),
        FaultKind("soap-fault-208", "HTTP 500 SOAP Fault, TMS 208 (memo failure; retriable)"),
        FaultKind("reject-35160", "answer AE 400/35160 whatever the NHS number"),
        FaultKind("malformed", "answer HTTP 200 with a truncated XML body"),
        FaultKind("empty", "answer HTTP 200 with an empty body"),
        FaultKind("drop-before-commit", "close the connection without answering; change nothing"),
        FaultKind("drop-after-commit", "store the change, then close the connection without answering"),
        FaultKind("tls-refuse", "abort the TLS handshake of new connections"),
        FaultKind("other-message", "answer as if to a different request (wrong RelatesTo and messageRef)"),
        FaultKind("other-patient", "answer a consent read or a PDS retrieval with a different patient's record"),
        FaultKind("http-503-after-commit", "store the change, then answer HTTP 503 with a load balancer's HTML page"),
        FaultKind("trickle", "answer one byte every VALUE seconds, headers included", takes_value=True),
        FaultKind(
            "late-commit",
            "hold a change unanswered until the client gives up, then store it VALUE seconds after the client "
            "next reads that patient",
            takes_value=True,
        ),
        FaultKind("hold-write", "store a change and answer it, but show reads the old value for VALUE seconds", True),
    )
}
SCOPES = ("all", "get", "set", "pds", "cis")


def check(name: str, scope: str, value: str) -> str | None:
    """A problem with a fault request, or None."""
    if name not in KINDS:
        return f"unknown fault {name!r}; known: {', '.join(KINDS)}"
    if scope not in SCOPES:
        return f"unknown scope {scope!r}; use one of {', '.join(SCOPES)}"
    if KINDS[name].takes_value:
        try:
            float(value)
        except ValueError:
            return f"fault {name!r} needs a number of seconds"
    return None

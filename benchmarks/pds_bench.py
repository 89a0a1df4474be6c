"""The PDS client against the local sandbox over real mutual TLS: its retrieval round trip vs a bare httpx POST of
equivalent, pre-built bytes (target: client <= 1.5x bare, medians), and building one retrieval and reading one
answer (target: under 1 ms)."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.report import Report
from benchmarks.round_trip import IDENTITY, Gate, Interaction, run_against_sandbox
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.spine import pds_messages
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.pds_client import PdsClient
from consent_desktop.spine.transport import SpineTransport

NHS = NhsNumber.parse("9434765919")

RETRIEVAL = Interaction(
    "PDS retrieval",
    lambda endpoint, now: pds_messages.build_retrieval(NHS, IDENTITY, now=now, **endpoint.addressing()),
    pds_messages.RETRIEVE_ANSWERS,
    lambda answer: pds_messages.read_retrieval(answer.hl7, NHS),
)


def run(report: Report) -> None:
    def client(transport: SpineTransport, endpoint: SpineEndpoint) -> Callable[[], object]:
        pds = PdsClient(transport, endpoint, Gate())
        return lambda: pds.retrieve(NHS)

    run_against_sandbox(report, RETRIEVAL, lambda settings: SpineEndpoint.for_pds(settings.spine), client)

"""The ACS client against the local sandbox over real mutual TLS: its GET round trip vs a bare httpx POST of
equivalent, pre-built bytes (target: client <= 1.5x bare, medians), and building one GET and reading one answer
(target: under 1 ms)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from benchmarks.report import Report
from benchmarks.round_trip import IDENTITY, Gate, Interaction, run_against_sandbox
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.spine import acs_messages
from consent_desktop.spine.acs_client import AcsClient
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.transport import SpineTransport

NHS = NhsNumber.parse("9434765919")

GET = Interaction(
    "ACS GET",
    lambda endpoint, now: acs_messages.build_get(NHS, IDENTITY, now=now, **endpoint.addressing()),
    acs_messages.GET_ANSWERS,
    lambda answer: acs_messages.read_get_answer(answer.hl7, NHS, datetime.now(UTC)),
)


def run(report: Report) -> None:
    def client(transport: SpineTransport, endpoint: SpineEndpoint) -> Callable[[], object]:
        acs = AcsClient(transport, endpoint, Gate())
        return lambda: acs.get_consent(NHS)

    run_against_sandbox(report, GET, lambda settings: SpineEndpoint.for_acs(settings.spine), client)

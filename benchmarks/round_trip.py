"""What the Spine client benchmarks share: a client's round trip against the sandbox beside a bare httpx POST of
the same kind of bytes to the same server, and the client-side cost of building one request and reading one
answer. Every figure is measured beside its baseline in the same run."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.report import Figure, Report
from consent_desktop.config import Settings, TomlFileSource, load_settings
from consent_desktop.domain.identity import RoleProfile, SpineIdentity
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine.envelope import Answer, OutgoingMessage, read_envelope
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.transport import SpineTransport, tls_context

ROUNDS = 300
WARM_UP = 20
IDENTITY = SpineIdentity(
    "555000000001",
    "Benchmark User",
    RoleProfile("555254240101", "A81001", "Riverside Surgery", "R8001", "Receptionist", frozenset({"B0020"})),
)


class Gate:
    """A session that is always active: the figures are of the Spine layer alone."""

    def require_active(self) -> SpineIdentity:
        return IDENTITY


@dataclass(frozen=True)
class Interaction:
    """One kind of read, as each benchmark describes it."""

    name: str  # "ACS GET", "PDS retrieval"
    build: Callable[[SpineEndpoint, datetime], OutgoingMessage]
    expected: frozenset[str]  # the answers that may come back
    read: Callable[[Answer], object]  # the client's own reading of one answer


def timed(action: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run_against_sandbox(
    report: Report,
    interaction: Interaction,
    endpoint_of: Callable[[Settings], SpineEndpoint],
    client_of: Callable[[SpineTransport, SpineEndpoint], Callable[[], object]],
) -> None:
    with tempfile.TemporaryDirectory() as folder, Sandbox(Path(folder)) as sandbox:
        settings = load_settings([TomlFileSource(sandbox.data.client_config, "client.toml")])
        endpoint = endpoint_of(settings)
        transport = SpineTransport(settings.spine, settings.tls)
        try:
            _round_trip(report, interaction, settings, endpoint, client_of(transport, endpoint))
            _build_and_read(report, interaction, transport, endpoint)
        finally:
            transport.close()


def _round_trip(
    report: Report, interaction: Interaction, settings: Settings, endpoint: SpineEndpoint, call: Callable[[], object]
) -> None:
    # Spine refuses a repeated message id, so the bare side posts messages built in advance: its time is the
    # network and the server alone.
    first = interaction.build(endpoint, datetime.now(UTC))
    bodies = iter([interaction.build(endpoint, datetime.now(UTC)).body for _ in range(ROUNDS + WARM_UP)])
    headers = {"SOAPAction": first.interaction.action, "Content-Type": "text/xml; charset=UTF-8"}
    with httpx.Client(verify=tls_context(settings.tls), trust_env=False) as bare:

        def bare_post() -> None:
            bare.post(endpoint.url, content=next(bodies), headers=headers).raise_for_status()

        for _ in range(WARM_UP):  # warm both connections and caches
            call()
            bare_post()
        client_ms: list[float] = []
        bare_ms: list[float] = []
        for _ in range(ROUNDS):  # interleaved, so drift on a busy machine hits both sides alike
            client_ms += timed(call, 1)
            bare_ms += timed(bare_post, 1)
    client_median, bare_median = statistics.median(client_ms), statistics.median(bare_ms)
    report.samples[f"{interaction.name} round trip, client (ms)"] = client_ms
    report.samples[f"{interaction.name} round trip, bare httpx (ms)"] = bare_ms
    report.add(
        Figure(
            f"{interaction.name} round trip (median)",
            client_median,
            bare_median,
            "ms",
            "<= 1.5x bare",
            client_median <= 1.5 * bare_median,
            f"{ROUNDS} interleaved rounds over mTLS",
        )
    )


def _build_and_read(
    report: Report, interaction: Interaction, transport: SpineTransport, endpoint: SpineEndpoint
) -> None:
    message = interaction.build(endpoint, datetime.now(UTC))
    sample = transport.post(endpoint.url, message.interaction.action, message.body)

    def build_and_read() -> None:
        interaction.build(endpoint, datetime.now(UTC))
        answer = read_envelope(
            sample.status, sample.content_type, sample.body, expected=interaction.expected, request=message
        )
        interaction.read(answer)

    median = statistics.median(timed(build_and_read, 2000))
    report.add(
        Figure(f"Build one {interaction.name} and read one answer (median)", median, None, "ms", "< 1 ms", median < 1)
    )

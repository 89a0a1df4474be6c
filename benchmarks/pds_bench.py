"""PDS client figures against the local sandbox over real mutual TLS.

- Retrieval round trip: the PDS client (build, send, parse, check the patient) vs a bare httpx POST of pre-built
  retrieval bytes to the same server with the same TLS setup (target: client <= 1.5x bare, medians).
- Building one retrieval and reading one answer into a :class:`Patient`, client side only (target: under 1 ms, as
  for ACS, though a PDS answer is several times the size of an ACS one).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks.report import Figure, Report
from consent_desktop.config import TomlFileSource, load_settings
from consent_desktop.domain.identity import RoleProfile, SpineIdentity
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine import pds_messages
from consent_desktop.spine.envelope import OutgoingMessage, read_envelope
from consent_desktop.spine.exchange import SpineEndpoint
from consent_desktop.spine.pds_client import PdsClient
from consent_desktop.spine.transport import SpineTransport, tls_context

ROUNDS = 300
NHS = NhsNumber.parse("9434765919")
IDENTITY = SpineIdentity(
    "555000000001",
    "Benchmark User",
    RoleProfile("555254240101", "A81001", "Riverside Surgery", "R8001", "Receptionist", frozenset({"B0020"})),
)


class _Gate:
    def require_active(self) -> SpineIdentity:
        return IDENTITY


def _timed(action: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory() as folder, Sandbox(Path(folder)) as sandbox:
        settings = load_settings([TomlFileSource(sandbox.data.client_config, "client.toml")])
        endpoint = SpineEndpoint.for_pds(settings.spine)
        transport = SpineTransport(settings.spine, settings.tls)
        client = PdsClient(transport, endpoint, _Gate())

        def build() -> OutgoingMessage:
            return pds_messages.build_retrieval(
                NHS,
                IDENTITY,
                to=endpoint.url,
                spine_asid=endpoint.spine_asid,
                local_asid=endpoint.local_asid,
                now=datetime.now(UTC),
            )

        # Spine refuses a repeated message id, so the bare side posts messages built in advance: its time is the
        # network and the server alone.
        bodies = iter([build().body for _ in range(ROUNDS + 20)])
        bare = httpx.Client(verify=tls_context(settings.tls), trust_env=False)
        headers = {"SOAPAction": pds_messages.RETRIEVE.action, "Content-Type": "text/xml; charset=UTF-8"}

        def bare_post() -> None:
            bare.post(endpoint.url, content=next(bodies), headers=headers).raise_for_status()

        for _ in range(20):  # warm both connections and caches
            client.retrieve(NHS)
            bare_post()
        client_ms, bare_ms = [], []
        for _ in range(ROUNDS):  # interleaved, so drift on a busy machine hits both sides alike
            client_ms += _timed(lambda: client.retrieve(NHS), 1)
            bare_ms += _timed(bare_post, 1)
        bare.close()
        client_median, bare_median = statistics.median(client_ms), statistics.median(bare_ms)
        report.samples["PDS retrieval round trip, client (ms)"] = client_ms
        report.samples["PDS retrieval round trip, bare httpx (ms)"] = bare_ms
        report.add(
            Figure(
                "PDS retrieval round trip (median)",
                client_median,
                bare_median,
                "ms",
                "<= 1.5x bare",
                client_median <= 1.5 * bare_median,
                f"{ROUNDS} interleaved rounds over mTLS",
            )
        )

        message = build()
        sample = transport.post(endpoint.url, pds_messages.RETRIEVE.action, message.body)

        def build_and_read() -> None:
            built = build()
            answer = read_envelope(
                sample.status,
                sample.content_type,
                sample.body,
                expected=pds_messages.RETRIEVE_ANSWERS,
                request=message,
            )
            pds_messages.read_retrieval(answer.hl7, NHS)
            assert built.body

        build_read_ms = _timed(build_and_read, 2000)
        median = statistics.median(build_read_ms)
        report.add(
            Figure("Build one retrieval and read one answer (median)", median, None, "ms", "< 1 ms", median < 1.0)
        )
        transport.close()

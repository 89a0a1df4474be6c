"""Desktop figures, each beside its baseline from the same run.

- Start-up to the sign-in window vs a bare PySide6 window, from process launch to the window on screen
  (target: <= 2x bare, medians of several launches).
- The longest GUI-thread stall during a whole flow with Spine answering a second late: a 1 ms timer's longest gap
  (target: under 50 ms; aim: under 16 ms).
- Peak memory after 200 lookups vs the bare window (target: <= 2.5x), and growth between lookup 100 and 200
  (target: none beyond noise).
"""

from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import Figure, Report
from consent_desktop.sandbox.runtime import Sandbox

ROOT = Path(__file__).resolve().parents[1]
LAUNCHES = 9
GROWTH_NOISE_KIB = 2048  # allocator noise; anything more between lookup 100 and 200 is growth


def _probe(*args: str, timeout: float = 300) -> tuple[float, dict[str, object]]:
    """Launch the probe; seconds from launch to its window on screen, and the figures it printed last."""
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.gui_probe", *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    ready_after = 0.0
    last: dict[str, object] = {}
    for line in child.stdout:
        document = json.loads(line)
        if document.get("ready"):
            ready_after = time.perf_counter() - started
        last = document
    if child.wait(timeout=timeout) != 0:
        raise RuntimeError(f"GUI probe {args[0]} failed")
    return ready_after, last


def _config(sandbox: Sandbox, folder: Path) -> Path:
    """The sandbox's client settings, with this run's own audit folder (its relative ``audit`` is beside the copy)."""
    config = folder / "client.toml"
    text = sandbox.data.client_config.read_text()
    root = str(sandbox.data.root)
    config.write_text(text.replace('"pki/', f'"{root}/pki/').replace('"cards/', f'"{root}/cards/'))
    return config


def run(report: Report) -> None:
    # An installed or frozen app loads compiled bytecode; without it every launch would compile the app from
    # source first (this environment may set PYTHONDONTWRITEBYTECODE, so nothing is cached along the way).
    compileall.compile_dir(ROOT / "consent_desktop", quiet=1)
    with tempfile.TemporaryDirectory() as folder, Sandbox(Path(folder) / "spine", software_cards=True) as sandbox:
        config = _config(sandbox, Path(folder))
        bare_starts, app_starts = [], []
        for _ in range(LAUNCHES):  # interleaved, so a busy moment costs both alike
            bare_starts.append(_probe("bare")[0] * 1000)
            app_starts.append(_probe("app", str(config))[0] * 1000)
        bare_ms, app_ms = statistics.median(bare_starts), statistics.median(app_starts)
        report.add(
            Figure(
                "Start-up to the sign-in window (median)",
                app_ms,
                bare_ms,
                "ms",
                "<= 2x bare window",
                app_ms <= 2 * bare_ms,
                f"{LAUNCHES} launches each, from process start to window on screen",
            )
        )

        _, bare = _probe("bare")
        _, app = _probe("lookups", str(config))
        bare_peak, app_peak = float(bare["peak_kib"]) / 1024, float(app["peak_kib"]) / 1024  # type: ignore[arg-type]
        growth = (int(app["rss_at_200_kib"]) - int(app["rss_at_100_kib"])) / 1024  # type: ignore[call-overload]
        report.add(
            Figure(
                "Peak memory after 200 lookups",
                app_peak,
                bare_peak,
                "MiB",
                "<= 2.5x bare window",
                app_peak <= 2.5 * bare_peak,
            )
        )
        report.add(
            Figure(
                "Memory growth from lookup 100 to 200",
                growth,
                None,
                "MiB",
                f"none (< {GROWTH_NOISE_KIB // 1024} MiB noise)",
                growth * 1024 < GROWTH_NOISE_KIB,
            )
        )
        assert sandbox.store is not None
        sandbox.store.set_fault("latency", "1", scope="all")
        stalls(report, config)


def stalls(report: Report, config: Path) -> None:
    """The flow through the real widgets with Spine a second slow, timed by a 1 ms ticker on the GUI thread."""
    _, figures = _probe("stall", str(config))
    raw = figures["gaps_ms"]
    assert isinstance(raw, list)
    gaps_ms = [float(gap) for gap in raw]
    longest = max(gaps_ms)
    report.samples["Event-loop gaps during the flow, Spine 1 s slow (ms)"] = gaps_ms
    report.add(
        Figure(
            "Longest GUI-thread stall during the flow",
            longest,
            None,
            "ms",
            "< 50 ms (aim < 16 ms)",
            longest < 50,
            "sign in, look up, read, change, re-read; Spine answering 1 s late",
        )
    )

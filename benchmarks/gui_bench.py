"""Desktop figures, each beside its baseline from the same run.

- Start-up to the sign-in window vs a bare PySide6 window, from process launch to the window on screen
  (target: <= 1.5x bare, medians of several launches).
- The GUI thread's stalls through the whole flow with Spine, the card and the audit disk each a second slow: the
  event-loop watchdog's gaps per step, p50/p99/max (target: longest under 16 ms).
- The receptionist's main task by keyboard against the sandbox: its time and its key presses.
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
from tests.slow_io import slow_spine

ROOT = Path(__file__).resolve().parents[1]
LAUNCHES = 9
SLOW_S = 1.0  # Spine, each card call and each audit write, in the stall flow
STALL_GOAL_MS = 16.0
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
                "<= 1.5x bare window",
                app_ms <= 1.5 * bare_ms,
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
        main_task(report, config)
        assert sandbox.store is not None
        with slow_spine(sandbox.store, SLOW_S):
            stalls(report, config)


def main_task(report: Report, config: Path) -> None:
    """Signed in; find the patient by NHS number, confirm, record an opt-out, see "Saved on Spine": by keyboard."""
    _, figures = _probe("task", str(config))
    seconds, keys = float(figures["seconds"]), int(figures["keys"])  # type: ignore[arg-type, call-overload]
    note = "keyboard only, no latency injected: Tab to each control, Space or Enter to press it, the 10 digits typed"
    report.add(Figure("Receptionist's main task: time", seconds * 1000, None, "ms", "tracked", True, note))
    report.add(Figure("Receptionist's main task: key presses", keys, None, "keys", "tracked (a new step shows)", True))


def stalls(report: Report, config: Path) -> None:
    """The whole flow with Spine, the card and the audit disk each a second slow, timed by the watchdog."""
    _, figures = _probe("stall", str(config), str(SLOW_S))
    steps = figures["gaps_ms"]
    assert isinstance(steps, dict)
    rows = []
    for step, raw in steps.items():
        gaps = sorted(float(gap) for gap in raw)
        report.samples[f"Event-loop gaps, step {step!r} (ms)"] = gaps
        p99 = statistics.quantiles(gaps, n=100, method="inclusive")[98] if len(gaps) > 1 else gaps[0]
        rows.append([step, str(len(gaps)), f"{statistics.median(gaps):.1f}", f"{p99:.1f}", f"{gaps[-1]:.1f}"])
    longest = max(float(row[-1]) for row in rows)
    report.add_table(
        "GUI-thread stalls per step of the flow (Spine, card and audit disk each 1 s slow)",
        ["step", "ticks", "p50 ms", "p99 ms", "max ms"],
        rows,
    )
    stalls_seen = figures.get("stalls") or []
    assert isinstance(stalls_seen, list)
    report.stall_traces = [str(trace) for trace in stalls_seen]
    report.add(
        Figure(
            "Longest GUI-thread stall during the whole flow",
            longest,
            None,
            "ms",
            f"< {STALL_GOAL_MS:g} ms",
            longest < STALL_GOAL_MS,
            "sign in, search, confirm, change, save, lock, unlock; Spine, each card call and each audit write 1 s "
            "slow; a 1 ms timer's gaps on the GUI thread",
        )
    )

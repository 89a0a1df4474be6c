"""Card pulled -> patient data hidden, on the real PC/SC stack (pcscd, vsmartcard's virtual reader and card).

- The app: ``tests/ui/test_pcsc_card_pull.py``'s repeated pull, run by pytest with ``CARD_PULLS=20``: from the
  moment vicc is gone to the moment the lock screen is up with no patient detail left in any window.
- The baseline, in the same run: how long PC/SC itself takes to tell a bare pyscard client, blocked in
  ``SCardGetStatusChange`` on the virtual reader, that the card left. The app cannot hide anything before that.

pcscd is one daemon for the whole machine: this holds ``/tmp/consent-pcscd.lock`` while it runs, as the tests'
``flock`` does. It needs root and the packages ``scripts/bootstrap.sh`` installs.
"""

from __future__ import annotations

import fcntl
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from smartcard import scard

from benchmarks.report import Figure, Report
from tests.smartcard.conftest import VIRTUAL_READER, PcscDaemon, VirtualCard

ROOT = Path(__file__).resolve().parents[1]
PULLS = 20
GOAL_MS, LIMIT_MS = 250.0, 1000.0
PCSCD_LOCK = Path("/tmp/consent-pcscd.lock")
TEST = "tests/ui/test_pcsc_card_pull.py::test_every_card_pull_hides_the_patient_within_the_limit"


@contextmanager
def pcscd_to_ourselves() -> Iterator[None]:
    with PCSCD_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _removal_seen(context: int, ready: threading.Event, seen: list[float]) -> None:
    """Block in SCardGetStatusChange until the card in the virtual reader is gone; note when it returned."""
    state = scard.SCARD_STATE_PRESENT
    ready.set()
    while True:
        result, states = scard.SCardGetStatusChange(context, 5000, [(VIRTUAL_READER, state)])
        if result != scard.SCARD_S_SUCCESS:
            continue
        state = states[0][1] & ~scard.SCARD_STATE_CHANGED
        if not state & scard.SCARD_STATE_PRESENT:
            seen.append(time.monotonic())
            return


def bare_pyscard_pulls(folder: Path) -> list[float]:
    """Milliseconds from vicc's death to a bare pyscard client hearing of it, pull after pull."""
    daemon = PcscDaemon(folder / "pcscd.log")
    card = VirtualCard(folder / "vicc-compat")
    if daemon.owned:
        daemon.start()
    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert result == scard.SCARD_S_SUCCESS
    try:
        delays = []
        for _ in range(PULLS):
            card.insert()
            while True:  # pcscd has seen the card
                _, states = scard.SCardGetStatusChange(context, 5000, [(VIRTUAL_READER, scard.SCARD_STATE_UNAWARE)])
                if states[0][1] & scard.SCARD_STATE_PRESENT:
                    break
            ready, seen = threading.Event(), list[float]()
            waiter = threading.Thread(target=_removal_seen, args=(context, ready, seen))
            waiter.start()
            ready.wait()
            time.sleep(0.05)  # the waiter is blocked in PC/SC
            gone = card.remove()
            waiter.join(10)
            delays.append((seen[0] - gone) * 1000)
        return delays
    finally:
        card.close()
        scard.SCardReleaseContext(context)
        daemon.stop()


def app_pulls(folder: Path) -> list[float]:
    figures = folder / "pulls.json"
    environment = {**os.environ, "CARD_PULLS": str(PULLS), "CARD_PULL_FIGURES": str(figures)}
    environment["QT_QPA_PLATFORM"] = "offscreen"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST]
    subprocess.run(command, cwd=ROOT, env=environment, check=False)
    if not figures.exists():
        raise RuntimeError(f"{TEST} did not finish; run it alone to see why")
    return [float(ms) for ms in json.loads(figures.read_text())["pull_to_hidden_ms"]]


def run(report: Report) -> None:
    with tempfile.TemporaryDirectory() as folder, pcscd_to_ourselves():
        try:
            bare = bare_pyscard_pulls(Path(folder))
            app = app_pulls(Path(folder))
        except (RuntimeError, OSError) as error:
            report.add(
                Figure("Card pulled -> patient data hidden (median)", 0, None, "ms", "< 250 ms", False, str(error))
            )
            return
    report.samples["Card pulled -> patient data hidden, real PC/SC (ms)"] = app
    report.samples["Card pulled -> bare pyscard told, real PC/SC (ms)"] = bare
    median, bare_median = statistics.median(app), statistics.median(bare)
    note = (
        f"{PULLS} pulls of vsmartcard's virtual card through pcscd; baseline: a bare pyscard SCardGetStatusChange "
        f"hearing the same removal (median {bare_median:.0f} ms, max {max(bare):.0f} ms)"
    )
    report.add(
        Figure(
            "Card pulled -> patient data hidden (median)", median, bare_median, "ms", "< 250 ms", median < GOAL_MS, note
        )
    )
    report.add(
        Figure(
            "Card pulled -> patient data hidden (max)",
            max(app),
            max(bare),
            "ms",
            f"< 250 ms (limit {LIMIT_MS:g} ms)",
            max(app) < GOAL_MS,
        )
    )

"""The app runs all day, so the way results reach the screen must not leak or steal Python references.

Every result travels from a worker thread to the GUI thread as a queued Qt signal (``controller/runner.py``). A
binding that takes one reference from ``True`` on each emit (PySide6 6.12.0 does, measured here; 6.11 does not)
is harmless where ``True`` is immortal (Python 3.12 and later), but on Python 3.11 the count reaches zero after a
few thousand signals and the process aborts with "Fatal Python error: bool_dealloc", whatever it was doing: a
change's outcome would never be shown. The soak (``test_soak.py``) checks the same over a long run.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

import pytest
from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from consent_desktop.controller.runner import OperationRunner

ROUNDS = 200


def drift(action: Callable[[], None]) -> tuple[int, int]:
    """How far the reference counts of True and False moved over ``ROUNDS`` repetitions of ``action``."""
    for _ in range(5):
        action()
    gc.collect()
    before = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(ROUNDS):
        action()
    gc.collect()
    return sys.getrefcount(True) - before[0], sys.getrefcount(False) - before[1]


class _Emitter(QObject):
    result = Signal(object)


@pytest.mark.hazard("HAZ-004")
def test_a_signal_keeps_the_reference_counts_of_true_and_false(qtbot: QtBot) -> None:
    emitter, received = _Emitter(), []
    emitter.result.connect(received.append)
    assert drift(lambda: emitter.result.emit(object())) == (0, 0)
    assert len(received) == ROUNDS + 5


@pytest.mark.hazard("HAZ-004")
def test_a_result_delivered_by_the_runner_keeps_the_reference_counts(qtbot: QtBot) -> None:
    runner = OperationRunner(progress_delay_ms=50)
    delivered: list[object] = []

    def round_trip() -> None:
        runner.submit(object, on_success=delivered.append, on_failure=delivered.append, label="work")
        qtbot.waitUntil(lambda: runner.pending == 0, timeout=5000)

    try:
        moved = drift(round_trip)
    finally:
        runner.shutdown()
    assert len(delivered) == ROUNDS + 5
    assert abs(moved[0]) <= 2 and abs(moved[1]) <= 2, f"True moved {moved[0]}, False {moved[1]} in {ROUNDS} rounds"

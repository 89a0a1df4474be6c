"""Qt objects in Python's garbage are freed on the GUI thread, whichever thread crosses the collector's threshold.

A Qt object destroyed by the collector on a worker lane deadlocked the GUI tests (the GUI thread in
``QObject::connect``, the disk lane in ``QObject::~QObject`` waiting for the interpreter lock).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from PySide6.QtCore import QObject, Qt
from pytestqt.qtbot import QtBot

from consent_desktop.controller.main_thread_gc import collect_on_gui_thread


def _cyclic_garbage_holding_a_qt_object(destroyed_on: list[str]) -> None:
    held = QObject()
    held.itself = held  # type: ignore[attr-defined]  # a reference cycle: only the cyclic collector frees it
    held.destroyed.connect(
        lambda: destroyed_on.append(threading.current_thread().name), Qt.ConnectionType.DirectConnection
    )


def _allocate_on_a_worker() -> None:
    def churn() -> None:
        for _ in range(50_000):
            cycle: list[object] = []
            cycle.append(cycle)  # the first generation's threshold is crossed many times over

    worker = threading.Thread(target=churn, name="worker-lane")
    worker.start()
    worker.join()


def test_garbage_holding_a_qt_object_is_freed_on_the_gui_thread_not_on_the_worker(qtbot: QtBot) -> None:
    collect_on_gui_thread()
    destroyed_on: list[str] = []
    _cyclic_garbage_holding_a_qt_object(destroyed_on)

    _allocate_on_a_worker()

    assert destroyed_on == [], "the worker's allocations ran the collector on the worker"
    qtbot.waitUntil(lambda: destroyed_on == [threading.main_thread().name], timeout=3000)


def test_a_controller_moves_the_collector_to_the_gui_thread_before_its_lanes_start() -> None:
    # A process of its own: in this one an earlier test may already have moved the collector.
    script = textwrap.dedent(
        """
        import gc
        from PySide6.QtWidgets import QApplication
        from consent_desktop.auth.training_presence import TrainingPresence
        from consent_desktop.config import Settings
        from consent_desktop.controller.controller import Controller, WorkstationRecipe

        app = QApplication([])
        before = gc.isenabled()
        Controller(WorkstationRecipe(Settings(), TrainingPresence(), lambda: None))
        print(before, gc.isenabled())
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "False"]

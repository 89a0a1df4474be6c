"""The GUI thread's stalls through the whole flow (``tests/ui/whole_flow.py``: sign in, search, confirm, change,
save, lock, unlock) with Spine answering a second late, every card and reader call taking a second and every audit
write taking a second (``tests/slow_io.py``), timed by the event-loop watchdog (``tests/event_loop_watchdog.py``):
the same flow, harness and watchdog as the GUI-thread test, with the benchmark's delays. Run in a process of its own
by ``benchmarks.gui_probe``; the sandbox answers from the parent process, so its work never competes with this
process's GUI thread for the interpreter."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer

from consent_desktop.app import application
from consent_desktop.auth.training_presence import TrainingPresence
from consent_desktop.config import TomlFileSource, load_settings
from consent_desktop.controller.controller import Controller, WorkstationRecipe
from consent_desktop.controller.presence_choice import choose_presence
from consent_desktop.ui.main_window import build_main_window
from tests.event_loop_watchdog import EventLoopWatchdog
from tests.slow_io import slow_audit_disk, slow_card_workstation
from tests.ui.whole_flow import TrainingCard, whole_flow

STEP_TIMEOUT_S = 120.0


def wait_until(condition: Callable[[], object], timeout: float = STEP_TIMEOUT_S) -> None:
    """Run the event loop (as it runs while a user waits) until ``condition`` holds, looking every 10 ms."""
    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the flow did not get there in time")
        QTimer.singleShot(10, loop.quit)
        loop.exec()


def measure_flow(config: Path, delay: float) -> dict[str, object]:
    """Gaps between the watchdog's ticks per step (ms), where the GUI thread was in each stall, and the headline."""
    application()
    settings = load_settings([TomlFileSource(config, "benchmark client.toml")])
    reader = choose_presence(settings)
    assert isinstance(reader, TrainingPresence)
    reader.remove()  # the flow starts with the card out
    recipe = WorkstationRecipe(settings, reader, lambda: slow_card_workstation(settings, delay, reader))
    controller = Controller(recipe)
    window = build_main_window(controller, settings)
    controller.start()
    window.show()
    watchdog = EventLoopWatchdog()
    try:
        wait_until(lambda: controller.is_ready)
        wait_until(window.sign_in.isVisible)
        started = time.monotonic()
        wait_until(lambda: time.monotonic() - started > 0.5)  # the patient screen is built while sign-in waits
        with slow_audit_disk(settings, delay), watchdog.watching():
            headline = whole_flow(window, TrainingCard(reader), wait_until, watchdog)
    finally:
        controller.shutdown()
        window.close()
    return {
        "gaps_ms": watchdog.gaps,
        "stalls": [f"{s.silent_ms:.0f} ms during {s.step!r}:\n{s.where}" for s in watchdog.stalls],
        "headline": headline,
    }

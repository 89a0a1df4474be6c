"""The GUI thread's longest stall while someone works: a 1 ms timer on the GUI thread records every gap between
its ticks while the app, against a Spine answering a second late, signs in, looks a patient up, reads their
consent, changes it and reads it again. Run in a process of its own by ``benchmarks.gui_probe``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from consent_desktop.app import application, start_app
from consent_desktop.auth.session import SessionState
from consent_desktop.config import TomlFileSource, load_settings
from consent_desktop.domain.consent import ConsentChoice, ExpressedBy, SaveResult
from consent_desktop.sandbox.users import TRAINING_PIN

NHS = "9434765919"


def _wait(app: QApplication, condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the flow did not get there in time")
        app.processEvents()
        time.sleep(0.001)


def measure_flow(config: Path) -> list[float]:
    """Run the flow against the Spine in ``config`` (a sandbox in another process, answering a second late, as a
    real Spine would be elsewhere) and return every gap between the ticker's ticks, in milliseconds."""
    app = application()
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        last[0] = now

    running = start_app(load_settings([TomlFileSource(config, "benchmark client.toml")]))
    controller, window = running.controller, running.window
    window.show()
    ticker = QTimer()
    ticker.setInterval(1)
    ticker.timeout.connect(tick)
    results: list[SaveResult] = []
    controller.save_finished.connect(results.append)
    try:
        _wait(app, lambda: controller.card_in_reader is not None)
        last[0] = time.perf_counter()
        ticker.start()
        controller.sign_in(bytearray(TRAINING_PIN.encode()))
        _wait(app, lambda: controller.session_state is SessionState.ACTIVE)
        window.look_up(NHS)
        consent = window.work.consent
        _wait(app, lambda: consent.record is not None)
        patient = window.work.banner.patient
        assert patient is not None
        controller.change_consent(patient, consent.record, ConsentChoice.OPTED_OUT, ExpressedBy.IN_PERSON, "")
        _wait(app, lambda: bool(results))
    finally:
        ticker.stop()
        controller.shutdown()
        window.close()
    return gaps

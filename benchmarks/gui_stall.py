"""The GUI thread's longest stall while someone works: a 1 ms timer on the GUI thread records every gap between
its ticks while the app, against a sandbox answering a second late, signs in, looks a patient up, reads their
consent, changes it and reads it again."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from consent_desktop.app import application, start_app
from consent_desktop.auth.session import SessionState
from consent_desktop.config import MappingSource, TomlFileSource, load_settings
from consent_desktop.domain.consent import ConsentChoice, ExpressedBy, SaveResult
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.users import TRAINING_PIN

NHS = "9434765919"


def _wait(app: QApplication, condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the flow did not get there in time")
        app.processEvents()
        time.sleep(0.001)


def measure_flow() -> list[float]:
    app = application()
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        last[0] = now

    with tempfile.TemporaryDirectory() as folder, Sandbox(Path(folder) / "spine", software_cards=True) as sandbox:
        os.environ["SOFTHSM2_CONF"] = str(sandbox.data.root / "cards" / "softhsm2.conf")
        settings = load_settings(
            [
                TomlFileSource(sandbox.data.client_config, "client.toml"),
                MappingSource("benchmark", {"app.data_dir": str(Path(folder) / "audit")}),
            ]
        )
        running = start_app(settings)
        controller, window = running.controller, running.window
        window.show()
        assert sandbox.store is not None
        sandbox.store.set_fault("latency", "1", scope="all")
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

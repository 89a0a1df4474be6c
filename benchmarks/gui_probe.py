"""A child process for the GUI benchmarks: ``python -m benchmarks.gui_probe MODE [CONFIG]``.

Modes: ``bare`` (a bare PySide6 window), ``app`` (the app's sign-in window, as ``consent-desktop --config CONFIG``
starts it), ``lookups`` (the app signed in with the training card, then 200 lookups), ``stall`` (the event loop's
gaps during a whole flow with a slow card, disk and Spine, in a process of its own like the app's), ``task`` (the
receptionist's main task by keyboard). It prints one JSON line: ``ready`` when its window is on screen (the parent
times that from launch), and the figures it measured.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from consent_desktop.app import RunningApp

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Measured as shipped: httpx imports its optional command-line client (click, rich, pygments) when it can, and
# this development environment has them for import-linter; the frozen build leaves them out (its spec's excludes).
for _cli_only in ("click", "rich", "pygments"):
    sys.modules.setdefault(_cli_only, None)  # type: ignore[arg-type]  # None: "this module cannot be imported"

LOOKUPS = 200


def _rss_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, from Linux's /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _emit(**figures: object) -> None:
    print(json.dumps(figures), flush=True)


def _wait(app: QApplication, condition: Callable[[], object], timeout: float = 30.0) -> None:
    """Run an event loop until ``condition`` holds, as the app runs under one: ``processEvents`` alone never carries
    out a ``deleteLater``, so widgets the app retires would pile up and count as the app's memory."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout
    loop = QEventLoop(app)
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        QTimer.singleShot(2, loop.quit)
        loop.exec()


def bare() -> None:
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication([])
    window = QWidget()
    window.resize(1240, 860)
    window.show()
    _wait(app, lambda: window.windowHandle() is not None and window.windowHandle().isExposed())
    _emit(ready=True, peak_kib=_rss_kib("VmHWM"))


def _start(config: Path) -> tuple[QApplication, RunningApp]:
    """As ``consent-desktop --config CONFIG`` starts: settings, logging, the window on screen."""
    from consent_desktop import logs
    from consent_desktop.app import application, start_app
    from consent_desktop.config import TomlFileSource, load_settings

    app = application()
    settings = load_settings([TomlFileSource(config, "benchmark client.toml")])
    logs.configure(settings.app.log_level)
    running = start_app(settings)
    running.window.show()
    handle = running.window.windowHandle
    _wait(app, lambda: handle() is not None and handle().isExposed())
    return app, running


def app_start(config: Path) -> None:
    _, running = _start(config)
    _emit(ready=True, peak_kib=_rss_kib("VmHWM"))
    running.controller.shutdown()


def lookups(config: Path) -> None:
    from consent_desktop.auth.session import SessionState
    from consent_desktop.sandbox.patients import KNOWN
    from consent_desktop.sandbox.users import TRAINING_PIN

    app, running = _start(config)
    controller, work = running.controller, running.window.work
    _emit(ready=True)
    _wait(app, lambda: controller.is_ready)
    controller.sign_in(bytearray(TRAINING_PIN.encode()))
    _wait(app, lambda: controller.session_state is SessionState.ACTIVE)

    def showing(nhs: str) -> bool:
        patient, record = work.banner.patient, work.consent.record
        return (
            patient is not None
            and patient.nhs_number.digits == nhs
            and record is not None
            and record.nhs_number.digits == nhs
        )

    numbers = sorted(KNOWN)
    rss: dict[int, int] = {}
    for index in range(1, LOOKUPS + 1):
        nhs = numbers[index % len(numbers)]
        running.window.look_up(nhs)
        _wait(app, functools.partial(showing, nhs))
        if index in (100, LOOKUPS):
            rss[index] = _rss_kib("VmRSS")
    _emit(rss_at_100_kib=rss[100], rss_at_200_kib=rss[LOOKUPS], peak_kib=_rss_kib("VmHWM"))
    controller.shutdown()


def stall(config: Path, delay: float) -> None:
    from benchmarks.gui_stall import measure_flow

    _emit(**measure_flow(config, delay))


def task(config: Path) -> None:
    from benchmarks.gui_stall import wait_until
    from benchmarks.main_task import receptionist_task
    from consent_desktop.auth.session import SessionState
    from consent_desktop.sandbox.patients import README_EXAMPLE
    from consent_desktop.sandbox.users import TRAINING_PIN

    app, running = _start(config)
    controller = running.controller
    _wait(app, lambda: controller.is_ready and running.window.sign_in.pin.field.isEnabled())
    controller.sign_in(bytearray(TRAINING_PIN.encode()))
    _wait(app, lambda: controller.session_state is SessionState.ACTIVE and running.window.page is running.window.work)
    running.window.activateWindow()
    seconds, keys = receptionist_task(running.window, README_EXAMPLE, wait_until)
    _emit(seconds=seconds, keys=keys)
    controller.shutdown()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "stall":
        stall(Path(sys.argv[2]), float(sys.argv[3]))
    elif mode == "task":
        task(Path(sys.argv[2]))
    elif mode == "bare":
        bare()
    elif mode == "app":
        app_start(Path(sys.argv[2]))
    else:
        lookups(Path(sys.argv[2]))

"""The GUI thread never waits for the network, the card or the disk: counted, not timed.

With Spine answering only after a second, a whole working flow is run through the real widgets while (a) an audit
hook counts every I/O event Python reports (opening files, connecting sockets, loading libraries, starting
processes) on the GUI thread, and (b) a 10 ms timer counts the event loop's ticks. Any blocking call on the GUI
thread would show up as I/O events there, and as missing ticks. The longest gap between ticks is printed (the
benchmark report carries it as a figure).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from typing import ClassVar

import pytest
from PySide6.QtCore import QTimer

from consent_desktop.sandbox.patients import README_EXAMPLE
from tests.ui.conftest import Desk
from tests.ui.test_consent import open_patient, save_change

pytestmark = pytest.mark.gui

IO_EVENTS = (
    "open",
    "socket.connect",
    "socket.bind",
    "ctypes.dlopen",
    "subprocess.Popen",
    "sqlite3.connect",
    "os.system",
    "shutil.copyfile",
    "os.remove",
    "os.rename",
)


class GuiThreadIo:
    """Audit hooks cannot be removed, so this one is installed once and does nothing unless recording."""

    recording = False
    gui_thread = 0
    seen: ClassVar[Counter[str]] = Counter()
    installed = False

    @classmethod
    def install(cls) -> None:
        if not cls.installed:
            sys.addaudithook(cls._hook)
            cls.installed = True

    @classmethod
    def _hook(cls, event: str, args: tuple[object, ...]) -> None:
        if cls.recording and event in IO_EVENTS and threading.get_ident() == cls.gui_thread:
            cls.seen[f"{event} {args[0]!r}"[:160]] += 1


class TickCounter:
    def __init__(self, interval_ms: int = 10) -> None:
        self.interval_ms = interval_ms
        self.ticks = 0
        self.longest_gap = 0.0
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest_gap = max(self.longest_gap, now - self._last)
        self._last = now
        self.ticks += 1

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()


@pytest.mark.hazard("HAZ-009")
def test_a_whole_flow_with_slow_spine_does_no_io_on_the_gui_thread(desk: Desk) -> None:
    GuiThreadIo.install()
    GuiThreadIo.gui_thread = threading.get_ident()
    GuiThreadIo.seen.clear()
    ticks = TickCounter()
    desk.store.set_fault("latency", "1", scope="all")
    started = time.perf_counter()
    GuiThreadIo.recording = True
    ticks.start()
    try:
        desk.sign_in()
        open_patient(desk, README_EXAMPLE)
        headline = save_change(desk)
    finally:
        ticks.stop()
        GuiThreadIo.recording = False
        desk.store.clear_faults()
    elapsed = time.perf_counter() - started
    expected_ticks = elapsed * 1000 / ticks.interval_ms
    print(
        f"\nflow took {elapsed:.1f} s with Spine 1 s slow; event-loop ticks {ticks.ticks} of ~{expected_ticks:.0f}; "
        f"longest gap between ticks {ticks.longest_gap * 1000:.1f} ms"
    )
    assert headline.startswith("Saved on Spine at ")
    assert elapsed >= 4  # four Spine exchanges (lookup, read, change, re-read), each a second late
    assert dict(GuiThreadIo.seen) == {}  # no I/O at all on the GUI thread
    assert ticks.ticks >= expected_ticks / 2  # the event loop kept turning throughout

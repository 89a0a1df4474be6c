"""How long the GUI thread's event loop goes without turning, whatever holds it: a lock, the card, the disk, the
network, a slow computation, or another thread that keeps the interpreter to itself.

A precise 1 ms Qt timer on the GUI thread records the gap between each of its ticks and the one before, labelled
with the step of the flow under way; the gaps are the event loop's latency as a user's click would meet it. A
watcher thread looks at the GUI thread every few milliseconds, and when the loop has been silent for longer than
``capture_ms`` it records where the GUI thread is at that moment, so a stall names its cause. Used by the
GUI-thread test and the stall benchmark alike.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication, Qt, QTimer

TICK_MS = 1
LOOK_EVERY_S = 0.005
STACK_LINES = 12  # of the GUI thread's stack, innermost last


@dataclass(frozen=True)
class Stall:
    step: str
    silent_ms: float  # how long the loop had been silent when the GUI thread was looked at
    where: str  # the GUI thread's stack at that moment


@dataclass(frozen=True)
class Spread:
    """One step's gaps between ticks, in milliseconds."""

    count: int
    p50: float
    p99: float
    longest: float


@dataclass
class EventLoopWatchdog:
    capture_ms: float = 16.0  # silences longer than this are stalls, and where the GUI thread was is recorded
    gaps: dict[str, list[float]] = field(default_factory=dict)  # step -> every gap between ticks, ms
    stalls: list[Stall] = field(default_factory=list)
    _step: str = "start"
    _last_tick: float = 0.0
    _ticks: int = 0
    _gui_thread: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _watcher: threading.Thread | None = None
    _timer: QTimer | None = None

    def start(self) -> None:
        """On the GUI thread, with the Qt application made."""
        self._gui_thread = threading.get_ident()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._stop.clear()
        self._last_tick = time.perf_counter()
        self._timer.start()
        self._watcher = threading.Thread(target=self._watch, name="event-loop-watchdog", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Gaps that end while this block runs are counted for ``name``; at its end the events it caused (a click's
        dialog, say) are handled first, so their cost is counted here too."""
        previous, self._step = self._step, name
        try:
            yield
            QCoreApplication.processEvents()
        finally:
            self._step = previous

    @contextmanager
    def watching(self) -> Iterator[EventLoopWatchdog]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    # --- what it saw -------------------------------------------------------------------------------------------

    @property
    def longest_ms(self) -> float:
        return max((max(gaps) for gaps in self.gaps.values() if gaps), default=0.0)

    def spread(self) -> dict[str, Spread]:
        """Per step, in the order the steps ran: the gaps' count, median, 99th centile and maximum."""
        return {step: _spread(gaps) for step, gaps in self.gaps.items() if gaps}

    def report(self) -> str:
        """A table of the spread per step, then where the GUI thread was in each stall seen."""
        lines = [f"{'step':<28} {'ticks':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"]
        for step, spread in self.spread().items():
            lines.append(f"{step:<28} {spread.count:>6} {spread.p50:>8.1f} {spread.p99:>8.1f} {spread.longest:>8.1f}")
        for stall in self.stalls:
            lines += [f"GUI thread silent {stall.silent_ms:.0f} ms during {stall.step!r}, at:", stall.where]
        return "\n".join(lines)

    # --- internals -----------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.setdefault(self._step, []).append((now - self._last_tick) * 1000)
        self._last_tick = now
        self._ticks += 1

    def _watch(self) -> None:
        reported_tick = -1
        looked = time.perf_counter()
        while not self._stop.wait(LOOK_EVERY_S):
            now = time.perf_counter()
            held_ms, looked = (now - looked - LOOK_EVERY_S) * 1000, now
            if held_ms > self.capture_ms:  # this thread could not run either: another held the interpreter
                self.stalls.append(Stall(self._step, held_ms, _every_thread_but_this()))
            ticks, silent_ms = self._ticks, (now - self._last_tick) * 1000
            if silent_ms <= self.capture_ms or ticks == reported_tick:
                continue
            frame = sys._current_frames().get(self._gui_thread)
            if frame is None or ticks != self._ticks:  # it turned meanwhile: not a stall after all
                continue
            where = "".join(traceback.format_stack(frame)[-STACK_LINES:]).rstrip()
            self.stalls.append(Stall(self._step, silent_ms, where))
            reported_tick = ticks


def _every_thread_but_this() -> str:
    """Where each other thread is, innermost call only: a thread that held the interpreter (a C call that does not
    let it go) has only just returned from the call it made there."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    lines = ["  (the interpreter itself was held; each thread now is at:)"]
    for ident, frame in sys._current_frames().items():
        if ident != threading.get_ident():
            lines.append(f"  {names.get(ident, ident)}: {traceback.format_stack(frame, limit=1)[0].strip()}")
    return "\n".join(lines)


def _spread(gaps: list[float]) -> Spread:
    p99 = statistics.quantiles(gaps, n=100, method="inclusive")[98] if len(gaps) >= 2 else gaps[0]
    return Spread(len(gaps), statistics.median(gaps), p99, max(gaps))

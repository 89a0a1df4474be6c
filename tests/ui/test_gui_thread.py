"""The GUI thread never waits: not for the network, the card or the disk, nor for a lock that a thread doing any of
them holds.

A whole working flow (``tests/ui/whole_flow.py``: sign in, search, confirm, change, save, lock by pulling the
card, unlock) runs through the real widgets while Spine answers a second late, every card and reader call takes
3 s and every audit write takes 3 s (``tests/slow_io.py``). Two independent checks watch the GUI thread meanwhile:

- an event-loop watchdog (``tests/event_loop_watchdog.py``): any stall over 50 ms fails the test, whatever its
  cause, and the failure says where the GUI thread was in every stall over 16 ms;
- an audit hook that counts every I/O call Python reports on the GUI thread (opening files, connecting sockets,
  loading libraries, starting processes): there must be none, however quick, since a quick one on this machine is
  a slow one on a busy network share.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import ClassVar

import pytest

from consent_desktop.auth.session import SessionState
from consent_desktop.config import Settings
from consent_desktop.controller.workstation import Workstation
from tests.event_loop_watchdog import EventLoopWatchdog
from tests.slow_io import SlowCardToken, slow_audit_disk, slow_card_workstation, slow_disk_writes, slow_spine
from tests.ui.conftest import Desk
from tests.ui.whole_flow import TrainingCard, whole_flow

pytestmark = [pytest.mark.gui, pytest.mark.timeout(300)]

CARD_S = 3.0  # every card and reader call
DISK_S = 3.0  # every audit write
SPINE_S = 1.0  # every Spine, PDS and sign-in answer
STALL_LIMIT_MS = 50.0
STEP_WAIT_MS = 90_000  # a step makes several slow calls in a row

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


@pytest.mark.hazard("HAZ-007", "HAZ-009")
def test_a_whole_flow_with_slow_card_disk_and_spine_never_stalls_the_gui_thread(
    make_desk: Callable[..., Desk],
) -> None:
    tokens: list[SlowCardToken] = []

    def build(settings: Settings) -> Workstation:
        workstation = slow_card_workstation(settings, CARD_S)
        assert isinstance(workstation.parts.token, SlowCardToken)
        tokens.append(workstation.parts.token)
        return workstation

    desk = make_desk(build=build)
    reader = desk.controller.training_card
    assert reader is not None

    def wait(condition: Callable[[], object]) -> None:
        desk.wait(condition, timeout=STEP_WAIT_MS)

    GuiThreadIo.install()
    GuiThreadIo.gui_thread = threading.get_ident()
    GuiThreadIo.seen.clear()
    watchdog = EventLoopWatchdog()
    started = time.monotonic()
    with slow_spine(desk.store, SPINE_S), slow_audit_disk(desk.settings, DISK_S), watchdog.watching():
        GuiThreadIo.recording = True
        try:
            headline = whole_flow(desk.window, TrainingCard(reader), wait, watchdog)
        finally:
            GuiThreadIo.recording = False
        disk_writes = slow_disk_writes()
    elapsed = time.monotonic() - started
    print(f"\nflow took {elapsed:.0f} s\n{watchdog.report()}")

    assert headline.startswith("Saved on Spine at ")
    assert desk.session is SessionState.ACTIVE
    assert tokens[0].calls >= 5 and disk_writes >= 5  # the card and the disk really were slow throughout
    longest_ms = watchdog.longest_ms
    assert longest_ms < STALL_LIMIT_MS, watchdog.report()  # the report says where the GUI thread was
    assert dict(GuiThreadIo.seen) == {}  # no I/O at all on the GUI thread

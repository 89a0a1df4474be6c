"""One way to run slow work off the GUI thread (Anki's QueryOp idea).

Work goes to a lane — a single-thread lane for the smartcard (PKCS#11 is not thread-safe), a small pool for
Spine, one thread for disk — and its result or error comes back on the GUI thread through a queued Qt signal.
A busy indicator is announced only when work takes longer than a moment. Cancelling an operation discards its
result (the work itself runs to its timeout); an operation marked ``keep_on_cancel`` — a consent change, whose
outcome must never be lost — is delivered even when everything else is cancelled.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from consent_desktop.domain.errors import ConsentDesktopError

log = logging.getLogger(__name__)
T = TypeVar("T")


class Lane(Enum):
    CARD = "card"
    SPINE = "spine"
    DISK = "disk"


@dataclass
class Operation(Generic[T]):
    id: int
    label: str
    on_success: Callable[[T], None]
    on_failure: Callable[[ConsentDesktopError], None]
    keep_on_cancel: bool
    on_crash: Callable[[], None] | None = None  # after the crash route: what must still happen (a change settles)
    cancelled: bool = False
    finished: bool = False
    future: Future[T] | None = field(default=None, repr=False)


class OperationRunner(QObject):
    """Owned by the controller; every widget-facing result arrives through its callbacks on the GUI thread."""

    busy = Signal(str)  # a label, once work has run longer than the progress delay
    idle = Signal()  # nothing slow is running any more
    crashed = Signal(object)  # an unexpected exception (a bug): the crash handler shows it and logs it
    _finished = Signal(object, object, object)  # operation, result, exception — crosses threads, queued

    def __init__(self, parent: QObject | None = None, *, progress_delay_ms: int = 400, spine_workers: int = 4) -> None:
        super().__init__(parent)
        self._lanes = {
            Lane.CARD: ThreadPoolExecutor(1, thread_name_prefix="card"),
            Lane.SPINE: ThreadPoolExecutor(spine_workers, thread_name_prefix="spine"),
            Lane.DISK: ThreadPoolExecutor(1, thread_name_prefix="disk"),
        }
        self._ids = itertools.count(1)
        self._running: dict[int, Operation[Any]] = {}
        self._lock = threading.Lock()
        self._progress_delay_ms = progress_delay_ms
        self._busy_shown = False
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def submit(
        self,
        work: Callable[[], T],
        *,
        on_success: Callable[[T], None],
        on_failure: Callable[[ConsentDesktopError], None],
        lane: Lane = Lane.SPINE,
        label: str = "",
        keep_on_cancel: bool = False,
        on_crash: Callable[[], None] | None = None,
    ) -> Operation[T]:
        operation: Operation[T] = Operation(next(self._ids), label, on_success, on_failure, keep_on_cancel, on_crash)
        with self._lock:
            self._running[operation.id] = operation
        future = self._lanes[lane].submit(work)
        operation.future = future
        future.add_done_callback(lambda done: self._finished.emit(operation, *_outcome(done)))
        if label:
            QTimer.singleShot(self._progress_delay_ms, lambda: self._announce(operation))
        return operation

    def cancel(self, operation: Operation[Any]) -> None:
        """Discard this operation's result; for ``keep_on_cancel`` operations this does nothing."""
        if not operation.keep_on_cancel:
            operation.cancelled = True
            if operation.future is not None:
                operation.future.cancel()  # only stops it if it has not started yet
            self._forget(operation)

    def cancel_all(self) -> None:
        """On lock or sign-out: every pending result that may show patient data is discarded."""
        with self._lock:
            pending = list(self._running.values())
        for operation in pending:
            self.cancel(operation)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._running)

    def shutdown(self) -> None:
        self.cancel_all()
        for lane in self._lanes.values():
            lane.shutdown(wait=False, cancel_futures=True)

    def _announce(self, operation: Operation[Any]) -> None:
        if not operation.finished and not operation.cancelled and not self._busy_shown:
            self._busy_shown = True
            self.busy.emit(operation.label)

    def _forget(self, operation: Operation[Any]) -> None:
        with self._lock:
            self._running.pop(operation.id, None)
            empty = not any(op.label for op in self._running.values())
        if empty and self._busy_shown:
            self._busy_shown = False
            self.idle.emit()

    def _deliver(self, operation: Operation[Any], result: object, error: BaseException | None) -> None:
        operation.finished = True
        # Break the cycle operation -> future -> done callback -> operation, so the operation and whatever its
        # callbacks hold (widgets included) are freed here, on the GUI thread, by reference counting. Left to the
        # cyclic garbage collector, a QObject could be destroyed in the middle of any Qt call on any thread; seen
        # as a deadlock, Qt's own mutex taken twice.
        operation.future = None
        self._forget(operation)
        if operation.cancelled:
            return
        if error is None:
            operation.on_success(result)
        elif isinstance(error, ConsentDesktopError):
            operation.on_failure(error)
        else:
            log.error("unexpected error in %s", operation.label or "background work", exc_info=error)
            self.crashed.emit(error)
            if operation.on_crash is not None:
                operation.on_crash()


def _outcome(future: Future[Any]) -> tuple[object, BaseException | None]:
    if future.cancelled():
        return None, None
    error = future.exception()
    return (None, error) if error is not None else (future.result(), None)

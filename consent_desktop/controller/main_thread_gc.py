"""Python's cyclic garbage collector, run on the GUI thread only.

Left to itself, the collector runs on whichever thread happens to allocate when a threshold is crossed: often a
worker on the card, Spine or disk lane. If the garbage it frees holds a Qt object, Qt destroys that object on the
worker: ``QObject::~QObject`` takes Qt's connection locks there and then waits for the interpreter lock, which the
GUI thread holds while it waits for one of those same locks (in ``QObject::connect``, say). The app hangs — seen in
the GUI tests, with the collector started by a ``Path.stat`` on the disk lane. So automatic collection is switched
off and the same generational thresholds are checked on the GUI thread instead (calibre's and Anki's approach).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

INTERVAL_MS = 500
_installed: MainThreadCollector | None = None


class MainThreadCollector(QObject):
    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        gc.disable()
        self._timer.start()

    def collect_due(self) -> None:
        """Collect the oldest generation whose threshold, and every younger one's, has been crossed."""
        due = -1
        for generation, (count, threshold) in enumerate(zip(gc.get_count(), self._thresholds, strict=True)):
            if count <= threshold:
                break
            due = generation
        if due >= 0:
            gc.collect(due)


def collect_on_gui_thread() -> MainThreadCollector:
    """Install the collector for this process's application, once; call it on the GUI thread."""
    global _installed  # noqa: PLW0603 - one collector per process, as there is one garbage collector
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() != app.thread():
        raise RuntimeError("the garbage collector can only be moved to the GUI thread, from the GUI thread")
    if _installed is None:
        _installed = MainThreadCollector(app)
    return _installed


def installed() -> MainThreadCollector | None:
    return _installed

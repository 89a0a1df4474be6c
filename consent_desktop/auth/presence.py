"""Smartcards entering and leaving PC/SC readers (pyscard's low-level ``scard`` API).

This module runs its own ``SCardGetStatusChange`` loop with a short timeout instead of pyscard's ``CardMonitor``:
that monitor is a process-wide singleton whose thread ends silently, without a removal event, when the PC/SC
service goes away, and it keeps a stale context after the service returns (ykman works round this by resetting
``PCSCContext.instance``). Here a service failure is an error code the loop sees at once: it reports "failed" and
keeps trying to establish a new context, so recovery after a restart needs no reset. A watchdog thread covers what
the loop cannot report itself: the loop's thread dying, or hanging inside a PC/SC call. Listeners hear events on a
third thread, in order, so a slow listener (the audit's disk) never holds up the loop nor looks like a hung reader.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

from smartcard import scard

from consent_desktop.auth.card import CardEvent, CardListener
from consent_desktop.domain.errors import NoReader, VirtualReaderRefused

log = logging.getLogger(__name__)

VIRTUAL_READER_PREFIX = "Virtual PCD"  # vsmartcard's vpcd: anyone who reaches its TCP port can "insert" a card
_PNP_NOTIFICATION = "\\\\?PnP?\\Notification"  # pseudo-reader that changes when readers come and go
_EVENT_COUNT_SHIFT = 16  # the high word of a reader's state counts card insertions and removals


def is_virtual_reader(reader: str) -> bool:
    return reader.startswith(VIRTUAL_READER_PREFIX)


def _pcsc_problem(what: str, code: int) -> str:
    return f"{what}: {scard.SCardGetErrorMessage(code)} (0x{code & 0xFFFFFFFF:08X})"


@dataclass
class _Seen:
    """A card this object has reported, and the reader's event count when it did."""

    event_count: int
    refused: bool


@dataclass
class _ReaderState:
    present: bool
    event_count: int


class PcscPresence:
    """:class:`~consent_desktop.auth.card.CardPresence` over PC/SC.

    PC/SC wakes the loop as soon as it sees a card or reader change; a failed service is noticed at once, a hung
    one within a few seconds, and a recovered one within ``poll`` seconds.
    A card in a virtual reader is reported as "failed" (with a :class:`VirtualReaderRefused` detail) unless
    ``allow_virtual_readers``. Listener exceptions are logged and do not stop presence reporting.
    """

    def __init__(self, *, allow_virtual_readers: bool, poll: float = 0.25) -> None:
        self._allow_virtual = allow_virtual_readers
        self._poll = poll
        self._stale_after = max(2.0, 8 * poll)  # a hung PC/SC call, not a busy moment
        self._events: queue.SimpleQueue[CardEvent | None] = queue.SimpleQueue()  # to the delivery thread
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._delivery: threading.Thread | None = None
        self._heartbeat = time.monotonic()  # when the loop last came round
        self._resync = threading.Event()  # after a failure, the loop must report every card present afresh
        self._context: int | None = None  # the loop's PC/SC context, so that stop() can cancel its wait
        self._lock = threading.Lock()  # guards what has been reported, and keeps events in order
        self._seen: dict[str, _Seen] = {}
        self._failed = False

    # --- CardPresence ----------------------------------------------------------------------------------------

    def start(self, listener: CardListener) -> None:
        if self._watchdog is not None:
            raise RuntimeError("card presence already started")
        self._events = queue.SimpleQueue()
        self._delivery = threading.Thread(
            target=self._deliver, args=(listener, self._events), name="pcsc-events", daemon=True
        )
        self._delivery.start()
        self._stopping.clear()
        self._heartbeat = time.monotonic()
        self._monitor = self._start_monitor()
        self._watchdog = threading.Thread(target=self._watch, name="pcsc-watchdog", daemon=True)
        self._watchdog.start()

    def stop(self) -> None:
        self._stopping.set()
        context = self._context
        if context is not None:
            scard.SCardCancel(context)  # wake the loop now rather than at its next timeout
        for thread in (self._watchdog, self._monitor):  # the watchdog first: it may restart the monitor
            if thread is not None and thread is not threading.current_thread():
                thread.join()
        self._events.put(None)  # after the last event the loop could report: the listener hears them all first
        if self._delivery is not None and self._delivery is not threading.current_thread():
            self._delivery.join()
        self._watchdog = self._monitor = self._delivery = None
        with self._lock:
            self._seen.clear()
            self._failed = False

    def card_present(self) -> bool:
        """Asks PC/SC now (one short round trip to the service), so it never trusts a stale event. Raises
        :class:`NoReader` when there is no reader or no PC/SC service to ask."""
        result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if result != scard.SCARD_S_SUCCESS:
            raise NoReader(_pcsc_problem("PC/SC service unavailable", result))
        try:
            result, readers = scard.SCardListReaders(context, [])
            if result != scard.SCARD_S_SUCCESS:
                raise NoReader(_pcsc_problem("cannot list smartcard readers", result))
            usable = [reader for reader in readers if self._allowed(reader)]
            if not usable:
                return False  # only refused (virtual) readers
            result, states = scard.SCardGetStatusChange(
                context, 0, [(reader, scard.SCARD_STATE_UNAWARE) for reader in usable]
            )
            return result == scard.SCARD_S_SUCCESS and any(state & scard.SCARD_STATE_PRESENT for _, state, _ in states)
        finally:
            scard.SCardReleaseContext(context)

    # --- the loop --------------------------------------------------------------------------------------------

    def _start_monitor(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="pcsc-presence", daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:
            log.exception("card presence monitor stopped")  # the watchdog reports it and starts another

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._heartbeat = time.monotonic()
            result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if result != scard.SCARD_S_SUCCESS:
                self._fail(NoReader(_pcsc_problem("PC/SC service unavailable", result)).details)
                self._stopping.wait(self._poll)
                continue
            self._context = context
            try:
                self._follow(context)
            finally:
                self._context = None
                scard.SCardReleaseContext(context)

    def _follow(self, context: int) -> None:
        """Report changes until stopped, or until PC/SC fails (reported; the caller then starts again)."""
        states: list[tuple[str, int]] = []
        relist = True
        while not self._stopping.is_set():
            self._heartbeat = time.monotonic()
            if self._resync.is_set():
                self._resync.clear()
                states = [(name, scard.SCARD_STATE_UNAWARE) for name, _ in states]
            if relist:
                result, readers = scard.SCardListReaders(context, [])
                if result == scard.SCARD_E_NO_READERS_AVAILABLE:
                    readers = []
                elif result != scard.SCARD_S_SUCCESS:
                    self._fail(NoReader(_pcsc_problem("cannot list smartcard readers", result)).details)
                    self._stopping.wait(self._poll)
                    return
                # Unaware of every reader: PC/SC answers at once with all of them, and a card in a reader that has
                # gone is then reported removed. Event counts keep cards already reported from being reported again.
                states = [(name, scard.SCARD_STATE_UNAWARE) for name in [*readers, _PNP_NOTIFICATION]]
                relist = False
            result, changed = scard.SCardGetStatusChange(context, int(self._poll * 1000), states)
            if result in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
                continue
            if result == scard.SCARD_E_UNKNOWN_READER:  # a reader went between listing and waiting
                relist = True
                continue
            if result != scard.SCARD_S_SUCCESS:
                self._fail(NoReader(_pcsc_problem("smartcard service stopped answering", result)).details)
                self._stopping.wait(self._poll)
                return
            states = [(name, state & ~scard.SCARD_STATE_CHANGED) for name, state, _ in changed]
            readers_now: dict[str, _ReaderState] = {}
            for name, state, _ in changed:
                if name == _PNP_NOTIFICATION or state & scard.SCARD_STATE_UNKNOWN:
                    relist = relist or bool(state & scard.SCARD_STATE_CHANGED)  # a reader came or went
                    continue
                present = bool(state & scard.SCARD_STATE_PRESENT)
                readers_now[name] = _ReaderState(present, state >> _EVENT_COUNT_SHIFT)
            self._report(readers_now)

    def _report(self, readers: dict[str, _ReaderState]) -> None:
        with self._lock:
            self._failed = False
            for reader in [r for r in self._seen if not readers.get(r, _ReaderState(False, 0)).present]:
                if not self._seen.pop(reader).refused:
                    self._emit(CardEvent("removed", reader))
            for reader, state in readers.items():
                if not state.present:
                    continue
                seen = self._seen.get(reader)
                if seen is not None and seen.event_count == state.event_count:
                    continue
                if seen is not None and not seen.refused:  # taken out and put back (or swapped) between looks
                    self._emit(CardEvent("removed", reader))
                refused = not self._allowed(reader)
                self._seen[reader] = _Seen(state.event_count, refused)
                if refused:
                    self._emit(CardEvent("failed", reader, detail=VirtualReaderRefused(reader).details))
                else:
                    self._emit(CardEvent("inserted", reader))

    def _fail(self, detail: str) -> None:
        """Presence can no longer be known: report it once; cards present on recovery are reported again."""
        with self._lock:
            self._seen.clear()
            self._resync.set()
            if self._failed:
                return
            self._failed = True
            log.warning("card presence failed: %s", detail)
            self._emit(CardEvent("failed", detail=detail))

    def _emit(self, event: CardEvent) -> None:
        self._events.put(event)

    @staticmethod
    def _deliver(listener: CardListener, events: queue.SimpleQueue[CardEvent | None]) -> None:
        while (event := events.get()) is not None:
            try:
                listener(event)
            except Exception:
                # A faulty listener must not end presence reporting for everyone else (the lock depends on it).
                log.exception("card presence listener failed on a %r event", event.kind)

    def _allowed(self, reader: str) -> bool:
        return self._allow_virtual or not is_virtual_reader(reader)

    # --- the watchdog ----------------------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopping.wait(self._poll):
            monitor = self._monitor
            if monitor is not None and not monitor.is_alive():
                self._fail("card presence monitor thread stopped; restarted")
                self._heartbeat = time.monotonic()
                self._monitor = self._start_monitor()
            elif time.monotonic() - self._heartbeat > self._stale_after:
                self._fail(f"card presence monitor has not answered for over {self._stale_after:.1f} s")

"""The training-mode software card's "reader": trainees insert and remove the card from the screen.

It reports the same events as a real reader, on its own thread like one, so a trainee sees the session lock when
the card is removed without any hardware.
"""

from __future__ import annotations

import logging
import queue
import threading

from consent_desktop.auth.card import CardEvent, CardListener

log = logging.getLogger(__name__)

TRAINING_READER = "Training software card"


class TrainingPresence:
    """:class:`~consent_desktop.auth.card.CardPresence` for SoftHSM2 software cards, named by token label."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inserted: str | None = None
        self._events: queue.SimpleQueue[CardEvent | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self, listener: CardListener) -> None:
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("card presence already started")
            self._thread = threading.Thread(
                target=self._deliver, args=(listener,), name="training-presence", daemon=True
            )
            self._thread.start()
            if self._inserted is not None:
                self._events.put(CardEvent("inserted", TRAINING_READER, self._inserted))

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._events.put(None)
        thread.join()

    def card_present(self) -> bool:
        return self._inserted is not None

    def insert(self, token_label: str) -> None:
        """Put the software card with this token label in the reader (taking out any other first)."""
        if not token_label:
            raise ValueError("a software card needs its token label")
        with self._lock:
            if self._inserted == token_label:
                return
            if self._inserted is not None:
                self._send(CardEvent("removed", TRAINING_READER, self._inserted))
            self._inserted = token_label
            self._send(CardEvent("inserted", TRAINING_READER, token_label))

    def remove(self) -> None:
        with self._lock:
            if self._inserted is None:
                return
            self._send(CardEvent("removed", TRAINING_READER, self._inserted))
            self._inserted = None

    def _send(self, event: CardEvent) -> None:
        if self._thread is not None:  # before start() there is nobody to tell; start() reports the card
            self._events.put(event)

    def _deliver(self, listener: CardListener) -> None:
        while (event := self._events.get()) is not None:
            try:
                listener(event)
            except Exception:
                # As with a real reader: a faulty listener must not end presence reporting.
                log.exception("card presence listener failed on a %r event", event.kind)

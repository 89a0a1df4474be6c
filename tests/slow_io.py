"""Slow I/O for the GUI-thread tests and the stall benchmark: a card reader whose every call takes a while, an audit
disk whose every write does, and Spine answering late.

- The card: :class:`SlowCardToken` wraps the real token and :func:`slow_reader` slows the real presence: each call
  that would reach the card or the reader sleeps first (the wait a tired reader or a busy middleware imposes).
- The disk: :func:`slow_disk` makes every opening of a file for writing under a folder (the audit's) take a while,
  through an audit hook, so it holds whatever the app writes there and however it writes it.
- Spine: the sandbox's own ``latency`` fault (:func:`slow_spine`), so the delay is on the wire.

The GUI thread must not notice any of them: see :mod:`tests.event_loop_watchdog`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from consent_desktop.auth.card import CardIdentity, CardPresence, CardToken, PinState
from consent_desktop.auth.pkcs11_token import card_token_from_settings
from consent_desktop.config import Settings
from consent_desktop.controller.assembly import assemble, audit_path
from consent_desktop.controller.presence_choice import choose_presence
from consent_desktop.controller.workstation import Workstation
from consent_desktop.sandbox.store import Store


class SlowCardToken:
    """A :class:`~consent_desktop.auth.card.CardToken` whose every card call takes ``delay`` seconds longer."""

    def __init__(self, token: CardToken, delay: float) -> None:
        self._token = token
        self._delay = delay
        self.calls = 0

    def _wait(self) -> None:
        self.calls += 1
        time.sleep(self._delay)

    def pin_state(self, token_label: str | None = None) -> PinState:
        self._wait()
        return self._token.pin_state(token_label)

    def login(self, pin: bytearray, token_label: str | None = None) -> CardIdentity:
        self._wait()
        return self._token.login(pin, token_label)

    def read_identity(self, token_label: str | None = None) -> CardIdentity:
        self._wait()
        return self._token.read_identity(token_label)

    def sign(self, data: bytes, digest: str = "sha256") -> bytes:
        self._wait()
        return self._token.sign(data, digest)

    def logout(self) -> None:
        self._wait()
        self._token.logout()

    def close(self) -> None:
        self._token.close()  # at exit only; not part of any flow


def slow_reader(presence: CardPresence, delay: float) -> CardPresence:
    """Make this presence's reader take ``delay`` seconds to say whether the card is in (asked before every Spine
    request); its events still come as promptly as ever. The object itself is slowed, not wrapped, so the training
    reader stays the one the screen inserts cards into."""
    answer = presence.card_present

    def slowly() -> bool:
        time.sleep(delay)
        return answer()

    setattr(presence, "card_present", slowly)  # noqa: B010 - an instance attribute, over the method
    return presence


def slow_card_workstation(settings: Settings, delay: float, presence: CardPresence | None = None) -> Workstation:
    """The workstation the settings describe, with its card and reader each taking ``delay`` seconds a call."""
    reader = slow_reader(presence or choose_presence(settings), delay)
    return assemble(settings, presence=reader, token=SlowCardToken(card_token_from_settings(settings), delay))


class _SlowDisk:
    """One audit hook for the whole process (hooks cannot be removed); it sleeps only while a folder is set."""

    folder: str | None = None
    delay = 0.0
    writes = 0
    _lock = threading.Lock()
    _installed = False

    @classmethod
    def install(cls) -> None:
        with cls._lock:
            if not cls._installed:
                sys.addaudithook(cls._hook)
                cls._installed = True

    @classmethod
    def _hook(cls, event: str, args: tuple[object, ...]) -> None:
        folder = cls.folder
        if folder is None or event != "open" or not isinstance(args[0], str | bytes | os.PathLike):
            return
        path, mode, flags = args[0], args[1], args[2]
        if not os.fsdecode(path).startswith(folder) or not _writes(mode, flags):
            return
        with cls._lock:
            cls.writes += 1
        time.sleep(cls.delay)


def _writes(mode: object, flags: object) -> bool:
    """Whether an ``open`` audit event opens for writing: by mode (``open``) or by flags (``os.open``)."""
    if isinstance(mode, str):
        return any(letter in mode for letter in "wax+")
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT))


@contextmanager
def slow_disk(folder: Path, delay: float) -> Iterator[None]:
    """While open, every file opened for writing under ``folder`` takes ``delay`` seconds to open."""
    _SlowDisk.install()
    _SlowDisk.folder, _SlowDisk.delay, _SlowDisk.writes = str(folder.resolve()), delay, 0
    try:
        yield
    finally:
        _SlowDisk.folder = None


def slow_disk_writes() -> int:
    """Writes the slow disk has held up since it was last set up."""
    return _SlowDisk.writes


@contextmanager
def slow_audit_disk(settings: Settings, delay: float) -> Iterator[None]:
    """The audit's folder as a slow disk."""
    with slow_disk(audit_path(settings).parent, delay):
        yield


@contextmanager
def slow_spine(store: Store, delay: float) -> Iterator[None]:
    """Every Spine, PDS and sign-in answer ``delay`` seconds late (the sandbox's latency fault)."""
    store.set_fault("latency", str(delay), scope="all")
    try:
        yield
    finally:
        store.clear_faults()

"""Keeping the local audit private, and the key that seals its records secret.

Elsewhere than Windows the audit's folder is its owner's only (0700) and so is every file in it (0600): a folder or
file this account owns that is open to others is closed again (and IT is told by ``diagnose``); one that another
account owns is refused. On Windows the folder under ProgramData gets its access rights from the installer
(``packaging/windows/consent-desktop.wxs``, docs/packaging.md); the app does not change them.

The seal key is 32 random bytes in a file beside the log. Elsewhere the file's owner-only mode is its protection;
on Windows it is encrypted with DPAPI for the machine, so a copy taken off the computer cannot unseal anything.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

SEAL_KEY_BYTES = 32
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
OWNER_CHECKS = os.name != "nt"  # Windows: the installer's access rights, not file modes, keep the audit private

if sys.platform == "win32":  # only testable on Windows; off Windows mypy and the tests see the branch below
    import win32crypt
    from win32cryptcon import CRYPTPROTECT_LOCAL_MACHINE, CRYPTPROTECT_UI_FORBIDDEN

    _DPAPI_FLAGS = CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN

    def _protect(key: bytes) -> bytes:
        return bytes(win32crypt.CryptProtectData(key, "consent-desktop audit seal", None, None, None, _DPAPI_FLAGS))

    def _unprotect(blob: bytes) -> bytes:
        return bytes(win32crypt.CryptUnprotectData(blob, None, None, None, _DPAPI_FLAGS)[1])

else:

    def _protect(key: bytes) -> bytes:
        return key  # the key file is its owner's only: that is its protection here

    def _unprotect(blob: bytes) -> bytes:
        return blob


def private_folder(folder: Path) -> None:
    """Create ``folder`` (owner-only), or make sure it is owner-only. Raises :class:`OSError`."""
    folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    if OWNER_CHECKS:
        _owner_only(folder, os.stat(folder), PRIVATE_FOLDER, lambda: os.chmod(folder, PRIVATE_FOLDER))


def append_private(path: Path) -> IO[str]:
    """``path`` opened to append text to (created owner-only when new). Raises :class:`OSError`."""
    handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
    try:
        if OWNER_CHECKS:
            _owner_only(path, os.fstat(handle), PRIVATE_FILE, lambda: os.fchmod(handle, PRIVATE_FILE))
        return os.fdopen(handle, "a", encoding="utf-8")
    except BaseException:
        os.close(handle)
        raise


def read_seal_key(path: Path) -> bytes | None:
    """The seal key kept at ``path``, or None when there is none. Raises :class:`OSError`, or :class:`ValueError`
    for a key file that is not one."""
    try:
        with path.open("rb") as file:
            if OWNER_CHECKS:
                handle = file.fileno()
                _owner_only(path, os.fstat(handle), PRIVATE_FILE, lambda: os.fchmod(handle, PRIVATE_FILE))
            key = _unprotect(file.read())
    except FileNotFoundError:
        return None
    if len(key) != SEAL_KEY_BYTES:
        raise ValueError(f"{path} does not hold a seal key")
    return key


def create_seal_key(path: Path) -> bytes:
    """A new random seal key, kept at ``path`` (which must not exist yet). Raises :class:`OSError`."""
    key = secrets.token_bytes(SEAL_KEY_BYTES)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), PRIVATE_FILE)
    with os.fdopen(handle, "wb") as file:
        file.write(_protect(key))
        file.flush()
        os.fsync(file.fileno())
    return key


def exposure(path: Path) -> str:
    """What is wrong with who may read ``path`` (empty when nothing is, or it does not exist); for ``diagnose``."""
    if not OWNER_CHECKS:
        return ""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return ""
    wanted = PRIVATE_FOLDER if stat.S_ISDIR(info.st_mode) else PRIVATE_FILE
    if info.st_uid != os.geteuid():
        return f"{path} belongs to another account (uid {info.st_uid})"
    if stat.S_IMODE(info.st_mode) & ~wanted:
        return f"{path} is open to other accounts (mode {stat.S_IMODE(info.st_mode):o}, wanted {wanted:o})"
    return ""


def _owner_only(path: Path, info: os.stat_result, wanted: int, close_up: Callable[[], None]) -> None:
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid != os.geteuid():
        raise PermissionError(f"{path} belongs to another account (uid {info.st_uid}); the audit must be this one's")
    if mode & ~wanted:
        close_up()
        log.warning("the local audit's %s was open to other accounts (mode %o); now %o", path.name, mode, wanted)

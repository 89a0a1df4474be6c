"""The sandbox as a separate process (``python -m consent_desktop.sandbox serve``), started and stopped by its PID.

It can be killed mid-request and started again on the same ports with the same data folder, as Spine restarting
under a client would be. Its own diagnostic output goes to a log file beside its data, which the session's log
scan reads too.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from consent_desktop.sandbox.datadir import SandboxData
from consent_desktop.sandbox.store import Store

_LISTENING = re.compile(rb"listening on https://127\.0\.0\.1:(\d+)/")
_IDENTITY = re.compile(rb"sign-in service on https://127\.0\.0\.1:(\d+)/")


def copy_card_sandbox(template: Path, data: Path) -> Path:
    """A sandbox data folder made from the session's template (certificates and software cards); returns the
    SoftHSM2 configuration the client must use for its cards."""
    shutil.copytree(template, data)
    conf = data / "cards" / "softhsm2.conf"
    conf.write_text(conf.read_text().replace(str(template), str(data)))
    return conf


class SandboxProcess:
    def __init__(self, data_dir: Path) -> None:
        self.data = SandboxData(data_dir)
        self.log_path = data_dir.parent / f"{data_dir.name}-serve.log"
        self.spine_port = 0
        self.identity_port = 0
        self.starts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 30.0) -> None:
        """Start serving; the first start picks free ports, every later one reuses them."""
        assert self._process is None, "already running"
        command = [
            sys.executable,
            "-m",
            "consent_desktop.sandbox",
            "serve",
            "--data",
            str(self.data.root),
            "--port",
            str(self.spine_port),
            "--identity-port",
            str(self.identity_port),
        ]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"}
            )
        self._wait_until_listening(timeout)
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL, as a crash or a pulled plug: connections in flight are cut without an answer."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def store(self) -> Store:
        """A connection of our own to its SQLite store (faults and state), as ``consent-desktop-sandbox fault``
        uses; the caller closes it."""
        return Store(self.data.database)

    def _wait_until_listening(self, timeout: float) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        deadline = time.monotonic() + timeout
        output = b""
        while not (_LISTENING.search(output) and _IDENTITY.search(output)):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([process.stdout], [], [], max(0.0, remaining))
            chunk = os.read(process.stdout.fileno(), 4096) if ready else b""
            if not chunk:
                self._end(signal.SIGKILL)
                raise RuntimeError(
                    f"the sandbox did not start within {timeout} s: {self.log_path.read_text(errors='replace')}"
                )
            output += chunk
        spine, identity = _LISTENING.search(output), _IDENTITY.search(output)
        assert spine is not None and identity is not None
        self.spine_port, self.identity_port = int(spine.group(1)), int(identity.group(1))

    def _end(self, how: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.send_signal(how)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        finally:
            if process.stdout is not None:
                process.stdout.close()

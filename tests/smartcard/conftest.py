"""Smartcard test doubles, started here and ended by PID.

- SoftHSM2 software cards for the sandbox users (``consent_desktop.sandbox.softcard``), once per session.
- The PIN-lock shim (``tests/fixtures/pinlock_shim.c``), compiled once per session: SoftHSM2 with a card's counter.
- pcscd in the foreground, once per session, with vsmartcard's vpcd driver (readers ``Virtual PCD 00 00/01``),
  and vsmartcard's ``vicc`` as the card, started and stopped per test.

A missing package fails these tests, naming it; scripts/bootstrap.sh installs them all.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from smartcard import scard

from consent_desktop.auth.card import CardEvent
from consent_desktop.auth.card_certificate import load_card_cas
from consent_desktop.sandbox.softcard import SoftCards, provision
from tests.required_packages import missing, require
from tests.softhsm import require_softhsm, softhsm_conf_put_back

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
VICC = Path("/usr/bin/vicc")  # vsmartcard-vpicc; its Python package comes from python3-virtualsmartcard
SYSTEM_PYTHON = Path("/usr/bin/python3")
# Debian's vicc is broken as shipped: its package is outside sys.path, and it imports PyCrypto's ``Crypto`` where
# Debian only has pycryptodome's ``Cryptodome`` (docs: smartcard.md section 2.3).
VICC_PACKAGE = Path("/usr/lib/python3/site-packages/virtualsmartcard")
CRYPTODOME = Path("/usr/lib/python3/dist-packages/Cryptodome")
VIRTUAL_READER = "Virtual PCD 00 00"  # where vicc's card appears
VPCD_PORT = 35963  # vpcd's port for that reader


# --- SoftHSM2 and the PIN-lock shim -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def soft_cards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftCards]:
    """The sandbox users' software cards; SOFTHSM2_CONF points at them for the whole session."""
    require_softhsm()
    cards = provision(tmp_path_factory.mktemp("sandbox"))
    with softhsm_conf_put_back():
        os.environ["SOFTHSM2_CONF"] = str(cards.conf_path)
        yield cards


@pytest.fixture(scope="session")
def trusted_cas(soft_cards: SoftCards) -> tuple[x509.Certificate, ...]:
    return load_card_cas(soft_cards.card_ca_bundle)


@pytest.fixture(scope="session")
def pinlock_shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shim, compiled once per session."""
    gcc = shutil.which("gcc")
    header = Path("/usr/include/p11-kit-1/p11-kit/pkcs11.h").is_file()
    require("the PIN-lock module's build tools", [p for p, ok in (("gcc", gcc), ("libp11-kit-dev", header)) if not ok])
    assert gcc is not None
    library = tmp_path_factory.mktemp("pinshim") / "libpinshim.so"
    source = FIXTURES / "pinlock_shim.c"
    flags = ["-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-I/usr/include/p11-kit-1"]
    subprocess.run([gcc, *flags, "-o", str(library), str(source), "-ldl"], check=True, capture_output=True)
    return library


@dataclass(frozen=True)
class LockingCard:
    """The shim's view of the card: how many wrong PINs it has counted, and how many PINs reached it."""

    module: Path
    state: Path
    calls: Path

    def wrong_pins(self) -> int:
        return int(self.state.read_text()) if self.state.exists() else 0

    def login_calls(self) -> int:
        return int(self.calls.read_text()) if self.calls.exists() else 0


@pytest.fixture
def locking_card(
    soft_cards: SoftCards, pinlock_shim: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> LockingCard:
    """SoftHSM2 behind the shim, with a fresh counter: three wrong PINs lock it."""
    card = LockingCard(pinlock_shim, tmp_path / "pinshim.state", tmp_path / "pinshim.calls")
    monkeypatch.setenv("PINSHIM_TARGET", str(soft_cards.module_path))
    monkeypatch.setenv("PINSHIM_STATE", str(card.state))
    monkeypatch.setenv("PINSHIM_CALLS", str(card.calls))
    monkeypatch.setenv("PINSHIM_MAX_TRIES", "3")
    return card


# --- pcscd, vpcd and vicc ---------------------------------------------------------------------------------------


def _pcscd_answers() -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(PCSCD_SOCKET))
        except OSError:
            return False
    return True


def _virtual_readers() -> list[str]:
    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if result != scard.SCARD_S_SUCCESS:
        return []
    try:
        result, readers = scard.SCardListReaders(context, [])
        return [r for r in readers if r.startswith("Virtual PCD")] if result == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(context)


class PcscDaemon:
    """pcscd run by this test session, or a system pcscd found already running (``owned`` False).

    A system pcscd (one that answers on its socket before the session starts one) is reused rather than
    replaced: it owns /run/pcscd, and killing another owner's daemon is not a test's business. The test that kills
    and restarts pcscd skips in that case (tests/allowed-skips.toml).
    """

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.owned = not _pcscd_answers()

    def start(self) -> None:
        assert self.owned and self.process is None
        PCSCD_SOCKET.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(["pcscd", "--foreground"], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while len(_virtual_readers()) < 2:
            if self.process.poll() is not None:
                raise RuntimeError(f"pcscd exited with {self.process.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"pcscd did not list the vpcd readers within 10 s; see {self.log_path}")
            time.sleep(0.05)

    def kill(self) -> None:
        """The service dies without warning."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscDaemon]:
    require(
        "pcscd with vsmartcard's virtual reader and card",
        [
            package
            for package, ok in (
                ("pcscd", shutil.which("pcscd") is not None),
                ("vsmartcard-vpcd", VPCD_DRIVER.is_file()),
                ("vsmartcard-vpicc", VICC.is_file()),
                ("python3-virtualsmartcard", VICC_PACKAGE.is_dir() and SYSTEM_PYTHON.is_file()),
                ("python3-pycryptodome", CRYPTODOME.is_dir()),
            )
            if not ok
        ],
    )
    daemon = PcscDaemon(tmp_path_factory.mktemp("pcscd") / "pcscd.log")
    try:
        if daemon.owned:
            if os.geteuid() != 0:
                pytest.fail("pcscd needs root to start (it owns /run/pcscd): run the tests as root", pytrace=False)
            daemon.start()
        elif len(_virtual_readers()) < 2:
            missing("a system pcscd with the vpcd readers (restart pcscd once it is installed)", ["vsmartcard-vpcd"])
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def own_pcscd(pcscd: PcscDaemon) -> Iterator[PcscDaemon]:
    """The session's pcscd, for a test that kills it; running again afterwards, whatever the test did."""
    if not pcscd.owned:
        pytest.skip("pcscd belongs to the system here; only a pcscd this session started is killed")
    yield pcscd
    if pcscd.process is None:
        pcscd.start()


def _connected_to_vpcd() -> bool:
    """Whether some socket is connected to vpcd's card port: for vpcd, that is a card in the reader."""
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[2].endswith(f":{VPCD_PORT:04X}") and fields[3] == "01":  # remote port, ESTABLISHED
                return True
    return False


class VirtualCard:
    """vsmartcard's vicc: a card in ``Virtual PCD 00 00`` while the process runs."""

    def __init__(self, compat_dir: Path) -> None:
        compat_dir.mkdir(exist_ok=True)
        alias = compat_dir / "Crypto"
        if not alias.exists():
            alias.symlink_to(CRYPTODOME)
        self._env = {**os.environ, "PYTHONPATH": f"{VICC_PACKAGE}{os.pathsep}{compat_dir}"}
        self.process: subprocess.Popen[bytes] | None = None

    def insert(self) -> float:
        """Start vicc; returns when (monotonic) the card went in: vicc's connection to vpcd was made."""
        assert self.process is None or self.process.poll() is not None, "a card is already inserted"
        self.process = subprocess.Popen(
            [str(SYSTEM_PYTHON), str(VICC), "-t", "iso7816"],
            env=self._env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _connected_to_vpcd():
            if self.process.poll() is not None:
                raise RuntimeError(f"vicc exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("vicc did not connect to vpcd within 10 s")
            time.sleep(0.005)
        return time.monotonic()

    def remove(self) -> float:
        """Stop vicc; returns when (monotonic) it was gone."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.process = None
        return time.monotonic()

    def close(self) -> None:
        if self.process is not None:
            self.remove()


def _virtual_card_present() -> bool:
    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if result != scard.SCARD_S_SUCCESS:
        return False
    try:
        result, states = scard.SCardGetStatusChange(context, 0, [(VIRTUAL_READER, scard.SCARD_STATE_UNAWARE)])
        return result == scard.SCARD_S_SUCCESS and bool(states[0][1] & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(context)


@pytest.fixture
def vicc(pcscd: PcscDaemon, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualCard]:
    """A virtual card, not yet inserted; the reader is empty (pcscd has seen the last test's card go) first."""
    deadline = time.monotonic() + 5
    while _virtual_card_present():
        if time.monotonic() > deadline:
            pytest.fail(f"{VIRTUAL_READER} still holds a card from an earlier test")
        time.sleep(0.02)
    card = VirtualCard(tmp_path_factory.getbasetemp() / "vicc-compat")
    try:
        yield card
    finally:
        card.close()


@dataclass
class EventLog:
    """A card listener that records each event with the (monotonic) time it arrived and its thread."""

    events: list[tuple[float, CardEvent, str]] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, event: CardEvent) -> None:
        with self._arrived:
            self.events.append((time.monotonic(), event, threading.current_thread().name))
            self._arrived.notify_all()

    def wait_for(self, kind: str, *, timeout: float = 5.0, after: int = 0) -> tuple[float, CardEvent]:
        """The first event of this kind at index ``after`` or later; fails the test if none comes in time."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for at, event, _ in self.events[after:]:
                    if event.kind == kind:
                        return at, event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"no {kind!r} card event within {timeout} s; saw {self.kinds()}")
                self._arrived.wait(remaining)

    def kinds(self) -> list[str]:
        with self._arrived:
            return [event.kind for _, event, _ in self.events]

    def __len__(self) -> int:
        with self._arrived:
            return len(self.events)

"""The session-wide log scan (``tests/log_scan.py``) finds what it looks for, where it is allowed not to, and
nothing else: proof that a clean scan at the end of a run means something.

The probe records go to a logger of their own that does not reach the root logger, and the probe files live
outside pytest's temporary folder, so this run's own scan never sees them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest

from consent_desktop.sandbox import patients
from consent_desktop.sandbox.users import TRAINING_PIN
from tests.log_scan import LogScan, _Keep

WINIFRED = patients.BY_NUMBER[patients.README_EXAMPLE]
TICKET = "tkt_9fJx2Q-probe-ticket-value"


@pytest.fixture
def scan() -> Iterator[tuple[LogScan, logging.Logger, Path]]:
    scan = LogScan()
    logger = logging.getLogger("log-scan-probe")
    logger.propagate = False  # the session's own scan must not see these on purpose leaks
    logger.setLevel(logging.DEBUG)
    handler = _Keep(scan)
    logger.addHandler(handler)
    with TemporaryDirectory() as folder:
        scan.folders.add(Path(folder))
        try:
            yield scan, logger, Path(folder)
        finally:
            logger.removeHandler(handler)


def kinds(scan: LogScan, where: str = "") -> set[str]:
    return {f.secret.kind for f in scan.findings if where in f.where}


@pytest.mark.hazard("HAZ-008")
def test_every_kind_of_secret_in_a_log_record_is_found(scan: tuple[LogScan, logging.Logger, Path]) -> None:
    probe, logger, _ = scan
    probe.tickets.add(TICKET)
    logger.warning("lookup of %s failed", "943 476 5919")
    logger.info("shown %s, %s", WINIFRED.family.upper(), WINIFRED.address[0])
    logger.debug("postcode %s", WINIFRED.postcode.lower() if WINIFRED.postcode else "")
    logger.error("sign-in with PIN %s and ticket %s", TRAINING_PIN, TICKET)
    try:
        raise ValueError(f"bad answer for {WINIFRED.nhs_number}")
    except ValueError:
        logger.exception("unexpected error")  # a crash report: the traceback is scanned too
    probe.scan()
    assert kinds(probe) == {"NHS number", "patient name", "address", "postcode", "training PIN", "CIS ticket"}
    assert sum(f.secret.kind == "NHS number" for f in probe.findings) == 2  # the message, and the traceback


@pytest.mark.hazard("HAZ-008")
def test_what_it_needs_to_see_in_a_log_is_not_mistaken_for_patient_data(
    scan: tuple[LogScan, logging.Logger, Path],
) -> None:
    probe, logger, _ = scan
    logger.info("ASID 928942012545, user 555000000001, role 555254240101, port 41234, code 35160")
    logger.info("message id uuid:1234567A-1234-4567-89AB-0123456789AB, hash 0a1234567b, answer 81234567")
    logger.info("masked: lookup failed for [NHS number]")
    probe.scan()
    assert probe.findings == []


@pytest.mark.hazard("HAZ-008")
def test_log_files_are_scanned_and_the_audit_may_hold_only_nhs_numbers(
    scan: tuple[LogScan, logging.Logger, Path],
) -> None:
    probe, _, folder = scan
    (folder / "logs").mkdir()
    (folder / "logs" / "consent-desktop.log.1").write_text("WARNING lookup failed for 9990000018\n")
    (folder / "audit.jsonl").write_text('{"event": "lookup", "nhs_number": "9990000018"}\n')
    (folder / "training-audit.jsonl").write_text(f'{{"note": "lives at {WINIFRED.address[0]}"}}\n')
    (folder / "notes.txt").write_text("9990000018")  # not a log: not scanned
    probe.scan()
    assert probe.files == 3
    assert {(Path(f.where).name, f.secret.kind) for f in probe.findings} == {
        ("consent-desktop.log.1", "NHS number"),
        ("training-audit.jsonl", "address"),
    }

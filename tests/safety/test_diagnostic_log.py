"""The diagnostic log, which IT may send to a supplier, never holds an NHS number, even when code logs one by
mistake; the audit, which is the record of who did what to which patient, does."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from consent_desktop import logs


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    path = logs.configure("INFO", tmp_path / "logs")
    yield path
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers, root.level = saved


@pytest.mark.hazard("HAZ-008")
@pytest.mark.parametrize("shown", ["9434765919", "943 476 5919", "943-476-5919"])
@pytest.mark.logs_patient_data_on_purpose
def test_an_nhs_number_logged_by_mistake_is_masked(log_file: Path, shown: str) -> None:
    logger = logging.getLogger("consent_desktop.somewhere")
    logger.warning("lookup failed for %s", shown)
    logger.warning(f"lookup failed for {shown} again")
    logger.info("ASID 928942012545 and a 12-digit user id 555000000001 are not NHS numbers")
    text = log_file.read_text(encoding="utf-8")
    assert "9434765919" not in text.replace(" ", "").replace("-", "")
    assert text.count("lookup failed for [NHS number]") == 2
    assert "928942012545" in text and "555000000001" in text  # what IT needs is kept

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from consent_desktop import logs


@pytest.mark.hazard("HAZ-008")
@pytest.mark.logs_patient_data_on_purpose
def test_nhs_numbers_are_masked_in_messages_and_tracebacks(tmp_path: Path) -> None:
    path = logs.configure("INFO", tmp_path)
    logger = logging.getLogger("consent_desktop.test")
    logger.warning("looked up %s", "943 476 5919")
    try:
        raise ValueError("unexpected answer for 9434765919")
    except ValueError:
        logger.exception("failed")
    logger.warning("stack", stack_info=True)  # a stack quotes its source lines: this one has 999-000-0018 in it
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "9434765919" not in text and "943 476 5919" not in text and "999-000-0018" not in text
    assert "ValueError" in text and "Stack (most recent call last)" in text  # the traceback and the stack are there
    assert text.count("[NHS number]") == 4  # the message; the exception, and its source line; the stack's line

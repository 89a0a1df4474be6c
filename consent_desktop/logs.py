"""Diagnostic logging: to a file in the platform log folder, with a last line of defence against patient data.

Code never logs patient-identifiable data, PINs or tickets on purpose; the filter below additionally masks
anything shaped like an NHS number, so a mistake cannot put one in a file IT may send to a supplier.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

import platformdirs

from consent_desktop.config import APP_AUTHOR, APP_NAME

_NHS_NUMBER_SHAPE = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")


class RedactPatientData(logging.Filter):
    """Masks the message, and a traceback's text too (an exception's message can quote what it was given)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _NHS_NUMBER_SHAPE.sub("[NHS number]", message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _NHS_NUMBER_SHAPE.sub("[NHS number]", record.exc_text)
        if record.stack_info:
            record.stack_info = _NHS_NUMBER_SHAPE.sub("[NHS number]", record.stack_info)
        return True


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def configure(level: str = "INFO", folder: Path | None = None) -> Path:
    """Send the app's diagnostic log to ``consent-desktop.log`` (rotated); returns its path."""
    folder = folder or log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "consent-desktop.log"
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    handler.addFilter(RedactPatientData())
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, logging.handlers.RotatingFileHandler)]
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    hide_request_lines()
    return path


def hide_request_lines() -> None:
    """httpx logs every request line at INFO. They carry nothing useful, and some carry a secret in their query
    (the legacy CIS ticket on the SSB role lookups, the ID token on CIS2 end session): never let through. The
    identity clients call this too, so it holds before (or without) :func:`configure`."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)

"""SoftHSM2 for the software-card fixtures: skip, naming the package, where it is missing; keep its setting tidy."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from consent_desktop.domain.errors import MiddlewareError
from consent_desktop.sandbox.softcard import softhsm_module


def require_softhsm() -> None:
    """CI installs SoftHSM2 (scripts/bootstrap.sh); elsewhere its tests skip with the package to install."""
    try:
        softhsm_module()
    except MiddlewareError:
        pytest.skip("SoftHSM2 is not installed (Debian package softhsm2)")
    if shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2-util is not installed (Debian package softhsm2)")


@contextmanager
def softhsm_conf_put_back() -> Iterator[None]:
    """The card token exports SOFTHSM2_CONF for the whole process; the value before is put back afterwards."""
    previous = os.environ.get("SOFTHSM2_CONF")
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous

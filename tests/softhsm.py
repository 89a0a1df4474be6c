"""SoftHSM2 for the software-card fixtures: fail, naming the package, where it is missing; keep its setting tidy."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from consent_desktop.domain.errors import MiddlewareError
from consent_desktop.sandbox.softcard import softhsm_module
from tests.required_packages import require


def require_softhsm() -> None:
    """scripts/bootstrap.sh installs SoftHSM2; where it is missing, its tests fail naming the package."""
    try:
        softhsm_module()
        found = shutil.which("softhsm2-util") is not None
    except MiddlewareError:
        found = False
    require("SoftHSM2 (its PKCS#11 module and softhsm2-util)", [] if found else ["softhsm2"])


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

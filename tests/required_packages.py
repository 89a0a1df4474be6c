"""A test whose real component is missing fails, naming the exact Debian packages to install; it never skips
(``scripts/bootstrap.sh`` installs them all; ``tests/skip_allow_list.py`` fails a run on any unlisted skip)."""

from __future__ import annotations

from typing import NoReturn

import pytest


def require(component: str, packages: list[str]) -> None:
    """Fail the test when ``packages`` (Debian package names) lists anything: the component is missing."""
    if packages:
        missing(component, packages)


def missing(component: str, packages: list[str]) -> NoReturn:
    pytest.fail(
        f"{component} is missing: install the Debian package{'s' if len(packages) > 1 else ''} "
        f"{', '.join(packages)} (scripts/bootstrap.sh installs everything the tests need)",
        pytrace=False,
    )

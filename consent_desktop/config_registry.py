"""Windows registry layers: MSI-written machine settings, and Group Policy above them.

Off Windows there are no registry layers; the machine layer is the per-machine file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from consent_desktop.config import ConfigSource


def registry_sources() -> list[ConfigSource]:
    return []

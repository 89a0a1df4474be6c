"""What every settings source is: a layer of a known kind, with a name that says where its values came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from consent_desktop.config.declarations import SPECS
from consent_desktop.domain.errors import ConfigError


class Layer(IntEnum):
    """How far a layer is trusted; a higher layer wins. Within one layer, a later source wins."""

    USER = 1  # the per-user file: user-interface preferences only
    MACHINE = 2  # what IT or the app itself set: the per-machine file, the installer's registry key, code
    OVERRIDE = 3  # --config and the environment: never security settings outside training or developer overrides
    POLICY = 4  # Group Policy: wins over every other layer


class ConfigSource(Protocol):
    """One layer: a name for provenance, its kind, and flat ``section.name`` keys with raw values."""

    @property
    def name(self) -> str: ...

    @property
    def layer(self) -> Layer: ...

    def read(self) -> Mapping[str, object]: ...


@dataclass(frozen=True)
class MappingSource:
    """Values from code: the sandbox's own settings, or a test's."""

    name: str
    values: Mapping[str, object]
    layer: Layer = Layer.MACHINE

    def read(self) -> Mapping[str, object]:
        for key in self.values:
            if key not in SPECS:
                raise ConfigError(self.name, key, "is not a setting this app knows")
        return self.values

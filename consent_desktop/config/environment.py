"""``CONSENT_DESKTOP__SECTION__NAME=value``: an override layer, for tests, training and developers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from consent_desktop.config.declarations import SPECS
from consent_desktop.config.layer import Layer
from consent_desktop.domain.errors import ConfigError

ENV_PREFIX = "CONSENT_DESKTOP__"  # CONSENT_DESKTOP__SPINE__ACS_URL sets spine.acs_url


@dataclass(frozen=True)
class EnvironmentSource:
    environ: Mapping[str, str]
    name: str = "environment"

    @property
    def layer(self) -> Layer:
        return Layer.OVERRIDE

    def read(self) -> Mapping[str, object]:
        flat: dict[str, object] = {}
        for var, value in self.environ.items():
            if not var.startswith(ENV_PREFIX):
                continue
            key = var.removeprefix(ENV_PREFIX).lower().replace("__", ".", 1)
            if key not in SPECS:
                raise ConfigError(f"environment variable {var}", key, "is not a setting this app knows")
            flat[key] = value
        return flat

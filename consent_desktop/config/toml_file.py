"""Settings files: per user (interface preferences only), per machine, and the one ``--config`` names."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from consent_desktop.config.declarations import APP_AUTHOR, APP_NAME, SPECS
from consent_desktop.config.layer import Layer
from consent_desktop.config.values import checked_path, is_path
from consent_desktop.domain.errors import ConfigError


def machine_config_path() -> Path:
    return Path(platformdirs.site_config_dir(APP_NAME, APP_AUTHOR)) / "config.toml"


def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)) / "config.toml"


@dataclass(frozen=True)
class TomlFileSource:
    """A TOML file with ``[section]`` tables. A missing file is an empty layer; a broken one is an error.

    A relative path in the file is relative to the file. ``required``: a file someone named (``--config``) must exist.
    """

    path: Path
    label: str
    layer: Layer = Layer.MACHINE
    required: bool = False

    @property
    def name(self) -> str:
        return f"{self.label} {self.path}"

    def read(self) -> Mapping[str, object]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            if self.required:
                raise ConfigError(str(self.path), None, "does not exist") from None
            return {}
        except OSError as exc:
            raise ConfigError(str(self.path), None, f"cannot be read ({exc.strerror})") from exc
        try:
            document = tomllib.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(str(self.path), None, f"is not valid TOML ({exc})") from exc
        flat: dict[str, object] = {}
        for section, table in document.items():
            if not isinstance(table, dict):
                raise ConfigError(str(self.path), section, "expected a [section] table")
            for name, value in table.items():
                key = f"{section}.{name}"
                if key not in SPECS:
                    raise ConfigError(str(self.path), key, "is not a setting this app knows")
                if self.layer is Layer.USER and not SPECS[key].user:
                    raise ConfigError(str(self.path), key, "only user-interface preferences may be set per user")
                if isinstance(value, str) and value and is_path(SPECS[key].type):
                    flat[key] = checked_path(value, key, self.name, relative_to=self.path.parent)
                else:
                    flat[key] = value
        return flat

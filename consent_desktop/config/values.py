"""Raw values from any layer, converted to a setting's declared type and checked; a bad one names setting and source."""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path, PureWindowsPath
from typing import Any

from consent_desktop.config.declarations import SettingSpec
from consent_desktop.domain.errors import ConfigError

_QUOTES = ("'", '"')


def is_path(tp: Any) -> bool:
    return tp is Path or Path in typing.get_args(tp)


def checked_path(text: str, key: str, source: str, *, relative_to: Path | None = None, windows: bool = False) -> Path:
    """A path setting's text as a path: never in quotes, and absolute unless it is relative to a file.

    ``windows`` judges "absolute" the Windows way whatever the platform (registry values are Windows paths).
    """
    if text.startswith(_QUOTES) or text.endswith(_QUOTES):
        raise ConfigError(source, key, f"is in quotes: give the path without them, found {text!r}")
    if relative_to is not None:
        return (relative_to / text).resolve()
    if not (PureWindowsPath(text).is_absolute() if windows else Path(text).is_absolute()):
        example = r"C:\Program Files\..." if windows or sys.platform == "win32" else "/usr/lib/..."
        raise ConfigError(source, key, f"expected a full path such as {example}, found {text!r}")
    return Path(text)


def convert(raw: object, spec: SettingSpec, source: str) -> object:
    """``raw`` as the setting's type. A ``Path`` a source already built (relative to its file) is taken as it is."""
    key = spec.key
    tp = spec.type

    def bad(expected: str) -> ConfigError:
        return ConfigError(source, key, f"expected {expected}, got {raw!r}")

    if isinstance(tp, types.UnionType):  # Path | None: blank means "not set"
        if raw in ("", None):
            return None
        tp = next(arg for arg in typing.get_args(tp) if arg is not type(None))
    if tp is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):  # registry DWORDs
            return bool(raw)
        if isinstance(raw, str) and raw.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
            return raw.strip().lower() in ("true", "1", "yes")
        raise bad("true or false")
    if tp is int:
        if isinstance(raw, bool):
            raise bad("a whole number")
        try:
            return int(raw)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise bad("a whole number") from None
    if tp is float:
        if isinstance(raw, bool):
            raise bad("a number")
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise bad("a number") from None
        if value < 0:
            raise bad("a number of zero or more")
        return value
    if tp is str:
        if isinstance(raw, str):
            return raw
        raise bad("text")
    if tp is Path:
        if isinstance(raw, Path):
            return raw
        if isinstance(raw, str):
            return checked_path(raw, key, source)
        raise bad("a file path")
    if typing.get_origin(tp) is tuple:
        if isinstance(raw, str):  # registry REG_SZ / environment: comma separated
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if isinstance(raw, Sequence) and all(isinstance(item, str) for item in raw):
            return tuple(raw)
        raise bad("a list of text values")
    raise AssertionError(f"unsupported setting type {tp!r}")  # pragma: no cover - declaration error

"""What the settings views show for each setting: its value, where it came from, a policy lock, ignored overrides."""

from __future__ import annotations

from dataclasses import dataclass

from consent_desktop.config.declarations import SPECS, IgnoredOverride, Settings


@dataclass(frozen=True)
class SettingState:
    key: str
    value: object
    source: str
    locked_by_policy: bool  # Group Policy set it: the settings view shows it read-only
    ignored: tuple[IgnoredOverride, ...]  # values the environment or --config gave that were not applied


def setting_states(settings: Settings) -> tuple[SettingState, ...]:
    """Every setting, in declaration order."""
    return tuple(
        SettingState(
            key,
            settings.value(key),
            settings.source_of(key),
            key in settings.locked,
            tuple(override for override in settings.ignored if override.key == key),
        )
        for key in SPECS
    )


def locked_by_policy(settings: Settings, key: str) -> bool:
    """Whether Group Policy set this setting, so the settings view must show it read-only."""
    if key not in SPECS:
        raise KeyError(key)
    return key in settings.locked


def describe(settings: Settings) -> list[tuple[str, object, str]]:
    """(key, effective value, where it came from) for every setting, for ``diagnose``."""
    return [(key, settings.value(key), settings.source_of(key)) for key in SPECS]

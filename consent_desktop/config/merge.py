"""The layers merged into one ``Settings``: machine policy wins, and overrides never touch security settings.

By layer, highest first: Group Policy > the environment > ``--config`` > the installer's machine settings > the
per-machine file > the per-user file (interface preferences only) > defaults. The environment and ``--config``
(:attr:`Layer.OVERRIDE`) apply only where policy is silent, and never to a security setting unless the app runs in
training mode or machine policy allows developer overrides; a value they give that is not applied is recorded in
``Settings.ignored`` (for ``diagnose`` and the settings view) and logged by setting name only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from consent_desktop.config.declarations import SPECS, IgnoredOverride, Settings, section_types
from consent_desktop.config.environment import EnvironmentSource
from consent_desktop.config.layer import ConfigSource, Layer
from consent_desktop.config.registry import registry_sources
from consent_desktop.config.toml_file import TomlFileSource, machine_config_path, user_config_path
from consent_desktop.config.values import convert

log = logging.getLogger(__name__)

POLICY_SETS_IT = "Group Policy sets this setting"
SECURITY_SETTING = (
    "a security setting: outside training mode only the machine's own settings and Group Policy set it, "
    "unless machine policy allows developer overrides"
)
POLICY_ONLY = "only machine policy or the machine's own settings may set it"


def default_sources(config_file: Path | None = None, environ: Mapping[str, str] | None = None) -> list[ConfigSource]:
    """The standard layers of a normal start; ``config_file`` is ``--config``, an override layer."""
    sources: list[ConfigSource] = [
        TomlFileSource(user_config_path(), "per-user file", Layer.USER),
        TomlFileSource(machine_config_path(), "per-machine file"),
        *registry_sources(),
    ]
    if config_file is not None:
        sources.append(TomlFileSource(config_file, "--config file", Layer.OVERRIDE, required=True))
    sources.append(EnvironmentSource(os.environ if environ is None else environ))
    return sources


@dataclass(frozen=True)
class _Offer:
    value: object
    source: str
    layer: Layer


def load_settings(sources: Iterable[ConfigSource]) -> Settings:
    """Merge the layers, converting and checking every value against its declared type.

    Sources apply by :class:`Layer`, whatever order they come in; within a layer a later source wins.
    """
    offers: dict[str, list[_Offer]] = {}
    for source in sorted(sources, key=lambda s: s.layer):  # a stable sort keeps the order within a layer
        for key, raw in source.read().items():
            offers.setdefault(key, []).append(_Offer(convert(raw, SPECS[key], source.name), source.name, source.layer))

    def refusal(key: str, offer: _Offer, overrides_allowed: bool) -> str | None:
        if offer.layer is not Layer.OVERRIDE:
            return None
        if SPECS[key].policy_only:
            return POLICY_ONLY
        if SPECS[key].security and not overrides_allowed:
            return SECURITY_SETTING
        return None

    def applied(key: str, overrides_allowed: bool) -> _Offer | None:
        allowed = [offer for offer in offers.get(key, []) if refusal(key, offer, overrides_allowed) is None]
        return allowed[-1] if allowed else None

    def switch(key: str) -> bool:  # neither switch is a security setting, so its own value never depends on them
        offer = applied(key, overrides_allowed=False)
        return bool(offer.value if offer else SPECS[key].default)

    overrides_allowed = switch("app.training_mode") or switch("app.allow_developer_overrides")
    chosen: dict[str, _Offer] = {}
    ignored: list[IgnoredOverride] = []
    for key, key_offers in offers.items():
        winner = applied(key, overrides_allowed)
        if winner is not None:
            chosen[key] = winner
        for offer in key_offers:
            reason = refusal(key, offer, overrides_allowed)
            if reason is None and offer.layer is Layer.OVERRIDE and winner is not None and winner.layer is Layer.POLICY:
                reason = POLICY_SETS_IT
            if reason is not None:
                ignored.append(IgnoredOverride(key, offer.source, reason))
                log.warning("ignored an override of %s: %s", key, reason)

    sections: dict[str, Any] = {}
    for section, section_type in section_types().items():
        keys = {f.name: f"{section}.{f.name}" for f in fields(section_type)}
        values = {name: chosen[key].value for name, key in keys.items() if key in chosen}
        sections[section] = section_type(**values)
    return Settings(
        **sections,
        sources={key: offer.source for key, offer in chosen.items()},
        locked=frozenset(key for key, offer in chosen.items() if offer.layer is Layer.POLICY),
        ignored=tuple(ignored),
    )

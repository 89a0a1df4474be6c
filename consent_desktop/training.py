"""Training mode: the app against a sandbox Spine started in this process, with software smartcards.

The only part of the app that imports the sandbox. Trainees work with invented patients and the sandbox's test
users' cards, which they insert and remove on screen; nothing reaches the NHS.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import platformdirs

from consent_desktop.config import (
    APP_AUTHOR,
    APP_NAME,
    EnvironmentSource,
    Layer,
    MappingSource,
    Settings,
    TomlFileSource,
    load_settings,
    user_config_path,
)
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.users import ADMIN_NO_B0020, EXPIRED_CARD, GP, RECEPTIONIST, TRAINING_PIN, UNTRUSTED_CARD
from consent_desktop.ui.training_panel import TrainingCard, TrainingKit

# What each test user's card lets a trainee see, in the order the card chooser lists them.
CARD_DESCRIPTIONS = (
    (RECEPTIONIST, "receptionist, can change consent"),
    (GP, "GP with two roles to choose from"),
    (ADMIN_NO_B0020, "medical secretary, can view but not change consent"),
    (EXPIRED_CARD, "card that has expired"),
    (UNTRUSTED_CARD, "card from an issuer the NHS does not trust"),
)


def training_folder() -> Path:
    """Where training mode keeps its sandbox: ``<user data dir>/training``."""
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)) / "training"


def training_kit() -> TrainingKit:
    return TrainingKit(
        passcode=TRAINING_PIN,
        cards=tuple(
            TrainingCard(user.token_label, f"{user.name} \N{EM DASH} {what}") for user, what in CARD_DESCRIPTIONS
        ),
    )


def training_settings(
    sandbox: Sandbox, environ: Mapping[str, str] | None = None, provider: str | None = None
) -> Settings:
    """The sandbox's client configuration, the user's own preferences, and a training audit log.

    The registry layers are left out on purpose: a Group Policy Spine endpoint would point training at the real
    Spine.
    """
    return load_settings(
        [
            TomlFileSource(user_config_path(), "per-user file", Layer.USER),
            TomlFileSource(sandbox.data.client_config, "training sandbox"),
            MappingSource(
                "training mode",
                {"app.data_dir": str(sandbox.data.root / "audit"), **({"auth.provider": provider} if provider else {})},
            ),
            EnvironmentSource(os.environ if environ is None else environ),
        ]
    )


class TrainingRun:
    """``with TrainingRun() as run:`` a started sandbox, its settings and the card kit; stopped on leaving."""

    def __init__(self, folder: Path | None = None, *, provider: str | None = None) -> None:
        self.sandbox = Sandbox(folder or training_folder(), software_cards=True)
        self._provider = provider
        self.kit = training_kit()
        self.settings = Settings()

    def __enter__(self) -> TrainingRun:
        self.sandbox.start()
        try:
            self.settings = training_settings(self.sandbox, provider=self._provider)
        except BaseException:
            self.sandbox.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.sandbox.stop()

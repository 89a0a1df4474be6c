"""Which card reader a workstation follows. Kept apart from the rest of the assembly because the window needs the
training-mode reader before the workstation behind it has finished starting."""

from __future__ import annotations

from consent_desktop.auth.card import CardPresence
from consent_desktop.auth.training_presence import TrainingPresence
from consent_desktop.config import Settings


def choose_presence(settings: Settings) -> CardPresence:
    """Training mode with software cards has its on-screen "reader"; everything else uses PC/SC."""
    if settings.app.training_mode and settings.auth.softhsm2_conf is not None:
        training = TrainingPresence()
        if settings.auth.token_label:
            training.insert(settings.auth.token_label)
        return training
    from consent_desktop.auth.presence import PcscPresence  # pyscard, loaded only where there is a real reader

    return PcscPresence(allow_virtual_readers=settings.app.training_mode and settings.auth.allow_virtual_readers)

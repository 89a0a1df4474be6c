"""The identity providers a workstation can sign in with, as the settings and the sign-in screen name them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    key: str  # the value of auth.provider
    label: str  # for the sign-in screen
    needs_pin: bool  # whether signing in takes the card's PIN (unlocking always does)


CIS = Provider("cis", "NHS smartcard (CIS)", needs_pin=True)
CIS2 = Provider("cis2", "NHS CIS2 Authentication", needs_pin=False)
PROVIDERS = {provider.key: provider for provider in (CIS, CIS2)}

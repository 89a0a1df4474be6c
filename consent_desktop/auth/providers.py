"""The identity providers a workstation can sign in with, as the settings and the sign-in screen name them. CIS2 is
the default (``auth.provider``); the legacy CIS route stays selectable by policy until NHS support for it ends."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    key: str  # the value of auth.provider
    label: str  # for the sign-in screen
    needs_pin: bool  # whether signing in takes the card's PIN (unlocking always does)
    notice: str = ""  # what the sign-in screen must also say about this route


CIS = Provider(
    "cis",
    "NHS smartcard (CIS), legacy route",
    needs_pin=True,
    notice="This is the legacy smartcard route. NHS England supports it with current smartcards only until "
    "28 February 2027; after that, sign-in must use NHS CIS2 Authentication.",
)
CIS2 = Provider("cis2", "NHS CIS2 Authentication", needs_pin=False)
PROVIDERS = {provider.key: provider for provider in (CIS, CIS2)}

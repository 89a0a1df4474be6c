"""Who is making a Spine request: the signed-in user in their chosen role, and the system they use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_TWELVE_DIGITS = re.compile(r"\d{12}")

CHANGE_CONSENT_ACTIVITY = "B0020"  # national RBAC: "Record SCR consent preference"


@dataclass(frozen=True)
class RoleProfile:
    """One of a user's national RBAC role profiles, as the identity service returns it."""

    role_profile_id: str  # SDS role profile id (URPID), 12 digits
    org_code: str  # ODS code of the organisation
    org_name: str
    job_role_code: str  # e.g. R8000 or S8000:G8000:R8000
    job_role_name: str
    activities: frozenset[str]

    @property
    def label(self) -> str:
        return f"{self.job_role_name} \N{EM DASH} {self.org_name} ({self.org_code})"

    def missing(self, required: frozenset[str]) -> frozenset[str]:
        return required - self.activities


@dataclass(frozen=True)
class SpineIdentity:
    """What goes in a message's ``author``: only ever built from a completed sign-in, never from free text."""

    user_id: str  # SDS user id: the 12-digit number on the smartcard (certificate subject CN)
    user_name: str
    role: RoleProfile

    def __post_init__(self) -> None:
        if not _TWELVE_DIGITS.fullmatch(self.user_id):
            raise ValueError("SDS user id must be 12 digits")
        if not self.role.role_profile_id or not self.role.job_role_code:
            raise ValueError("role profile id and job role code are required")

    def can(self, required: frozenset[str]) -> bool:
        return not self.role.missing(required)


class SessionGate(Protocol):
    """What every Spine client consults before sending anything: the identity of an *active* session."""

    def require_active(self) -> SpineIdentity:
        """The signed-in identity, or raise :class:`SessionNotActive`."""
        ...

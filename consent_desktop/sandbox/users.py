"""The sandbox's invented healthcare workers: their smartcards and their national RBAC role profiles.

User ids are 12 digits starting 5550000000, like the examples in NHS documentation; no real person is meant.
"""

from __future__ import annotations

from dataclasses import dataclass

from consent_desktop.domain.identity import RoleProfile

TRAINING_PIN = "123456"  # every software card's passcode; shown on the sign-in screen in training mode only


@dataclass(frozen=True)
class SandboxUser:
    user_id: str
    name: str
    roles: tuple[RoleProfile, ...]
    card: str = "valid"  # "valid", "expired" (certificate out of date) or "untrusted" (not from the sandbox CA)

    @property
    def token_label(self) -> str:
        return f"NHS-CARD-{self.user_id}"


def _role(profile: str, org: str, org_name: str, code: str, name: str, *activities: str) -> RoleProfile:
    return RoleProfile(profile, org, org_name, code, name, frozenset(activities))


RECEPTIONIST = SandboxUser(
    "555000000001",
    "Alex Morgan",
    (_role("555254240101", "A81001", "Riverside Surgery", "S8001:G8001:R8001", "Receptionist", "B0020", "B0264"),),
)
GP = SandboxUser(
    "555000000002",
    "Dr Sam Patel",
    (
        _role(
            "555254240102",
            "A81001",
            "Riverside Surgery",
            "S8000:G8000:R8000",
            "General Medical Practitioner",
            "B0020",
            "B0264",
            "B0370",
        ),
        _role(
            "555254240103",
            "B82002",
            "Hillside Medical Centre",
            "S8000:G8000:R8000",
            "General Medical Practitioner",
            "B0020",
            "B0264",
        ),
    ),
)
ADMIN_NO_B0020 = SandboxUser(
    "555000000003",
    "Jo Clarke",
    (_role("555254240104", "A81001", "Riverside Surgery", "S8002:G8002:R8002", "Medical Secretary", "B0264"),),
)
EXPIRED_CARD = SandboxUser("555000000004", "Chris Evans", RECEPTIONIST.roles, card="expired")
UNTRUSTED_CARD = SandboxUser("555000000005", "Pat Lee", RECEPTIONIST.roles, card="untrusted")

USERS = (RECEPTIONIST, GP, ADMIN_NO_B0020, EXPIRED_CARD, UNTRUSTED_CARD)
BY_ID = {user.user_id: user for user in USERS}

"""The sandbox's invented healthcare workers: their smartcards and their national RBAC role profiles.

User ids are 12 digits starting 5550000000, like the examples in NHS documentation; no real person is meant.
Role names are spelt as the identity services spell them (``"Area":"Sub-area":"Job role"``; some CIS2 fixtures
have two parts), and a role may come without activity codes, as CIS2 userinfo and the SAML RoleAssertion allow
(``../shared/docs/identity-protocols.md`` §1.7, §2.5).
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


# role profile id -> the national RBAC role name as CIS (nhsjobroleN, nhsJobRole) and CIS2 (role_name) spell it
ROLE_NAMES: dict[str, str] = {}


def _role(profile: str, org: str, org_name: str, code: str, name: str, *activities: str) -> RoleProfile:
    """``name`` is the full national name; the app shows its last part."""
    ROLE_NAMES[profile] = name
    job_role = name.rsplit(":", 1)[-1].strip('"')
    return RoleProfile(profile, org, org_name, code, job_role, frozenset(activities))


RIVERSIDE = ("A81001", "Riverside Surgery")
HILLSIDE = ("B82002", "Hillside Medical Centre")
GP_ROLE = '"Clinical":"Clinical Provision":"General Medical Practitioner"'

RECEPTIONIST = SandboxUser(
    "555000000001",
    "Alex Morgan",
    (
        _role(
            "555254240101",
            *RIVERSIDE,
            "S8001:G8001:R8001",
            '"Admin & Clerical":"Admin":"Receptionist"',
            "B0020",
            "B0264",
        ),
    ),
)
GP = SandboxUser(
    "555000000002",
    "Dr Sam Patel",
    (
        _role("555254240102", *RIVERSIDE, "S8000:G8000:R8000", GP_ROLE, "B0020", "B0264", "B0257"),
        _role("555254240103", *HILLSIDE, "S8000:G8000:R8000", GP_ROLE, "B0020", "B0264"),
    ),
)
ADMIN_NO_B0020 = SandboxUser(
    "555000000003",
    "Jo Clarke",
    (
        _role(
            "555254240104", *RIVERSIDE, "S8002:G8002:R8002", '"Admin & Clerical":"Admin":"Medical Secretary"', "B0264"
        ),
    ),
)
EXPIRED_CARD = SandboxUser("555000000004", "Chris Evans", RECEPTIONIST.roles, card="expired")
UNTRUSTED_CARD = SandboxUser("555000000005", "Pat Lee", RECEPTIONIST.roles, card="untrusted")

# Users with a software card (one SoftHSM2 token each), in the order training mode lists them.
USERS = (RECEPTIONIST, GP, ADMIN_NO_B0020, EXPIRED_CARD, UNTRUSTED_CARD)

# Directory-only users: they show the shapes real roles come in. No software card is made for them; tests give them
# a card of their own when they need one.
NO_ACTIVITY_CODES = SandboxUser(
    "555000000006",
    "Robin Shaw",
    (_role("555254240106", *RIVERSIDE, "S0080:G0450:R5080", '"Support":"Admin/Clinical Support Access Role"'),),
)
NO_ROLES = SandboxUser("555000000007", "Lee Carter", ())
LOCUM = SandboxUser(  # six roles: CIS2 lists more than five with a search field
    "555000000008",
    "Dr Ash Kaur",
    tuple(
        _role(f"55525424020{n}", f"A8100{n}", f"Practice {n}", "S8000:G8000:R8000", GP_ROLE, "B0020", "B0264")
        for n in range(1, 7)
    ),
)

BY_ID = {user.user_id: user for user in (*USERS, NO_ACTIVITY_CODES, NO_ROLES, LOCUM)}

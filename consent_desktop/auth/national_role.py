"""National RBAC role names as the NHS identity services spell them: ``"Area":"Sub-area":"Job role"`` (CIS2 userinfo
``role_name``, the SAML ``nhsJobRole``, the legacy ``nhsjobroleN`` after its organisation name). Some CIS2 fixtures
have two parts; the job role is always the last."""

from __future__ import annotations

import re

_QUOTED = re.compile(r'"([^"]*)"')


def job_role_name(national_name: str) -> str:
    parts = _QUOTED.findall(national_name)
    return parts[-1] if parts else national_name.strip()


def organisation_and_role(text: str) -> tuple[str, str]:
    """``ORG NAME, "Area":"Sub-area":"Job role"`` (legacy ``nhsjobroleN``) as (organisation, national name).
    Split at the last ``, "`` before the first quote's role: organisation names may hold commas."""
    start = text.find('"')
    head = text[:start] if start >= 0 else text
    organisation, comma, _ = head.rpartition(",")
    if start < 0 or not comma:
        return "", text.strip()
    return organisation.strip(), text[start:].strip()

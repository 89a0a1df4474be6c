"""Settings that would make the app unsafe to run, refused before anything is built (and listed by ``diagnose``).

- Every service address is ``https``: over plain ``http`` no certificate is checked and patient details, the
  card's signature and the session ticket would cross the network readable by anyone on it.
- Training mode talks only to this computer (the sandbox on loopback), and live mode never does. Training pointed
  at a real Spine would change real patients' consent while staff believe they are practising; live pointed at a
  sandbox would report "Saved on Spine" for a change the real Spine never saw.
- The RBAC activities needed to change consent include B0020: an empty or wrong list would let any role change it.
- Spine and this system's ASIDs are set, and are numbers.
- The smartcard middleware ``auth.pkcs11_module`` names is a file (checked where the workstation is built, off the
  GUI thread, since it reads the disk).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from consent_desktop.config import Settings
from consent_desktop.domain.errors import ConfigError
from consent_desktop.domain.identity import CHANGE_CONSENT_ACTIVITY


def settings_problems(settings: Settings) -> list[ConfigError]:
    """Every problem found, each naming the setting and where its value came from."""
    problems = [_problem(settings, key, text) for key, text in _endpoint_problems(settings)]
    if CHANGE_CONSENT_ACTIVITY not in settings.auth.change_consent_activities:
        problems.append(
            _problem(
                settings,
                "auth.change_consent_activities",
                f"must include {CHANGE_CONSENT_ACTIVITY}, the national activity for recording SCR consent",
            )
        )
    spine = settings.spine
    for key, value in (
        ("spine.local_asid", spine.local_asid),
        ("spine.acs_asid" if spine.acs_asid else "spine.spine_asid", spine.acs_receiver_asid),
        ("spine.pds_asid" if spine.pds_asid else "spine.spine_asid", spine.pds_receiver_asid),
    ):
        if not (value.isascii() and value.isdigit()):
            problems.append(_problem(settings, key, "must be an ASID: digits only" if value else "is not set"))
    return list({(p.key, p.problem): p for p in problems}.values())  # the shared ASID once, not twice


def check_settings(settings: Settings) -> None:
    """Raise the first problem, if there is one."""
    problems = settings_problems(settings)
    if problems:
        raise problems[0]


def middleware_problem(settings: Settings) -> ConfigError | None:
    """A PKCS#11 library path that names no file; None when it does, or when none is set."""
    module = settings.auth.pkcs11_module
    if module is None or module.is_file():
        return None
    return _problem(settings, "auth.pkcs11_module", f"names no file ({module}): is the smartcard middleware installed?")


def check_files(settings: Settings) -> None:
    """Raise if a file the settings name is not there. Reads the disk: never on the GUI thread."""
    problem = middleware_problem(settings)
    if problem is not None:
        raise problem


def _endpoint_problems(settings: Settings) -> list[tuple[str, str]]:
    spine = settings.spine
    addresses = {"spine.endpoint": spine.endpoint, "spine.acs_url": spine.acs_url, "spine.pds_url": spine.pds_url}
    if settings.auth.provider == "cis":
        addresses["auth.cis_url"] = settings.auth.cis_url
    elif settings.auth.provider == "cis2":
        addresses["cis2.issuer"] = settings.cis2.issuer
    problems: list[tuple[str, str]] = []
    if not spine.acs_endpoint or not spine.pds_endpoint:
        problems.append(("spine.endpoint", "no Spine address is set (for ACS and PDS, or for each)"))
    for key, url in addresses.items():
        if not url:
            if key in ("auth.cis_url", "cis2.issuer"):
                problems.append((key, "no sign-in service address is set"))
            continue
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            problems.append((key, f"{url!r} is not an https:// address"))
        elif settings.app.training_mode and not _on_this_computer(parts.hostname):
            where = f"training mode is on, but {parts.hostname} is not this computer"
            problems.append((key, f"{where}: training uses the local sandbox only"))
        elif not settings.app.training_mode and _on_this_computer(parts.hostname):
            where = f"{parts.hostname} is this computer (a sandbox), but training mode is off"
            problems.append((key, f"{where}: live use needs the real service"))
    return problems


def _on_this_computer(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _problem(settings: Settings, key: str, problem: str) -> ConfigError:
    return ConfigError(settings.source_of(key), key, problem)

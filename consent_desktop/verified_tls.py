"""The one way this app makes a TLS client context: server certificates always verified, TLS 1.2 at least."""

from __future__ import annotations

import ssl
from pathlib import Path

from consent_desktop.domain.errors import ConfigError


def verified_context(ca_bundle: Path | None, key: str, *, checking: str, system_trust: bool = False) -> ssl.SSLContext:
    """Verify against ``ca_bundle`` (the setting ``key``); with ``system_trust``, a blank bundle means the
    operating system's trust store (its certificate store on Windows) instead of an error."""
    if ca_bundle is None and not system_trust:
        raise ConfigError("settings", key, f"no CA bundle is configured to check {checking}")
    try:
        context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle is not None else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(str(ca_bundle), key, f"cannot be loaded ({exc})") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context

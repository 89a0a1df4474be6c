"""``diagnose``: what IT needs to see first — every effective setting and where it came from, every override that
was ignored (which setting, from where, why; never its value), the certificates and when they expire, and whether
each endpoint answers a TLS handshake. It sends no Spine message and needs no sign-in."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from consent_desktop.audit import AuditLog
from consent_desktop.audit_protection import OWNER_CHECKS, exposure
from consent_desktop.config import IgnoredOverride, Settings, describe
from consent_desktop.controller.assembly import audit_path, earlier_audit_path
from consent_desktop.controller.settings_check import middleware_problem, settings_problems
from consent_desktop.domain.errors import AuditUnavailable, ConfigError
from consent_desktop.spine.transport import tls_context
from consent_desktop.verified_tls import verified_context

EXPIRY_WARNING_DAYS = 30
_ACCESS = (
    "this account's only (folder 0700, files 0600)"
    if OWNER_CHECKS
    else "as the installer set them for the app's users (not checked by the app on Windows)"
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class DiagnoseReport:
    settings: list[tuple[str, object, str]]
    ignored: tuple[IgnoredOverride, ...] = ()
    checks: list[Check] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(check.ok for check in self.checks)

    def lines(self) -> list[str]:
        width = max(len(key) for key, _, _ in self.settings)
        lines = ["Settings (value, and where it came from):"]
        lines += [f"  {key:<{width}}  {_show(value)}   [{source}]" for key, value, source in self.settings]
        if self.ignored:
            lines += ["", "Ignored overrides (not applied):"]
            lines += [f"  {o.key:<{width}}  from {o.source}: {o.reason}" for o in self.ignored]
        lines += ["", "Checks:"]
        lines += [f"  {'ok  ' if c.ok else 'FAIL'}  {c.name}: {c.detail}" for c in self.checks]
        lines += ["", "All checks passed." if self.healthy else "Some checks failed: see FAIL above."]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.healthy,
            "settings": [{"key": k, "value": _show(v), "source": s} for k, v, s in self.settings],
            "ignored": [{"key": o.key, "source": o.source, "reason": o.reason} for o in self.ignored],
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def diagnose(settings: Settings, *, timeout: float = 5.0) -> DiagnoseReport:
    report = DiagnoseReport(describe(settings), settings.ignored)
    mode = "training: the local sandbox only" if settings.app.training_mode else "live: NHS Spine"
    problems = settings_problems(settings)
    report.checks += [Check(f"setting {p.key}", False, p.problem) for p in problems] or [Check("mode", True, mode)]
    now = datetime.now(UTC)
    report.checks += _certificates("Spine CA bundle (tls.ca_bundle)", settings.tls.ca_bundle, now)
    report.checks += _certificates("client certificate (tls.client_cert)", settings.tls.client_cert, now)
    if settings.auth.provider == "cis":
        report.checks += _certificates("smartcard CA bundle (auth.card_ca_bundle)", settings.auth.card_ca_bundle, now)
        module, missing = settings.auth.pkcs11_module, middleware_problem(settings)
        detail = missing.problem if missing else str(module) if module else "not configured"
        report.checks.append(Check("smartcard middleware (auth.pkcs11_module)", bool(module) and not missing, detail))
    report.checks += _audit(settings)
    try:
        spine_tls = tls_context(settings.tls)
    except ConfigError as error:
        report.checks.append(Check("TLS set-up", False, error.problem))
        return report
    endpoints = {"ACS endpoint": settings.spine.acs_endpoint, "PDS endpoint": settings.spine.pds_endpoint}
    for name, url in endpoints.items():
        report.checks.append(_handshake(name, url, spine_tls, timeout))
    if settings.auth.provider == "cis" and settings.auth.cis_url:
        identity_tls = verified_context(settings.tls.ca_bundle, "tls.ca_bundle", checking="the sign-in service")
        report.checks.append(_handshake("CIS sign-in service", settings.auth.cis_url, identity_tls, timeout))
    return report


def _certificates(name: str, path: Path | None, now: datetime) -> list[Check]:
    if path is None:
        return [Check(name, False, "not configured")]
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as error:
        return [Check(name, False, f"{path}: cannot be read ({error})")]
    checks = []
    for certificate in certificates:
        subject = certificate.subject.rfc4514_string()
        days = (certificate.not_valid_after_utc - now).days
        if certificate.not_valid_after_utc < now:
            checks.append(Check(name, False, f"{subject} expired on {certificate.not_valid_after_utc:%d-%b-%Y}"))
        elif certificate.not_valid_before_utc > now:
            checks.append(
                Check(name, False, f"{subject} is not valid until {certificate.not_valid_before_utc:%d-%b-%Y}")
            )
        else:
            warning = f" \N{EM DASH} renew soon ({days} days left)" if days < EXPIRY_WARNING_DAYS else ""
            checks.append(
                Check(name, True, f"{subject}, valid until {certificate.not_valid_after_utc:%d-%b-%Y}{warning}")
            )
    return checks


def _audit(settings: Settings) -> list[Check]:
    """Where the local audit is, whether only this account can read it, and whether its seals still match. Reads
    only: ``diagnose`` never creates the audit or its key."""
    audit = AuditLog(audit_path(settings))
    exposed = [found for path in (audit.path.parent, audit.path, audit.key_path) if (found := exposure(path))]
    checks = [Check("local audit access", not exposed, "; ".join(exposed) or _ACCESS)]
    try:
        problem, count = audit.verify(), len(audit.entries())
    except AuditUnavailable as error:
        checks.append(Check("local audit seals", False, f"{audit.path} cannot be read: {error.details}"))
    else:
        altered = problem.error(audit.path) if problem else None
        checks.append(
            Check(
                "local audit seals",
                altered is None,
                f"{altered.user_message} ({altered.details})" if altered else f"{audit.path}: {count} entries, intact",
            )
        )
    earlier = earlier_audit_path()
    if earlier != audit.path and earlier.is_file():
        checks.append(
            Check(
                "earlier audit",
                True,
                f"{earlier} is an earlier version's per-user audit: no longer written; keep it as your records "
                "policy says",
            )
        )
    return checks


def _handshake(name: str, url: str, context: ssl.SSLContext, timeout: float) -> Check:
    if not url:
        return Check(name, False, "not configured")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return Check(name, False, f"{url} is not an https address")
    port = parts.port or 443
    try:
        with (
            socket.create_connection((parts.hostname, port), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=parts.hostname) as tls,
        ):
            version = tls.version()
    except ssl.SSLCertVerificationError as error:
        return Check(name, False, f"{url}: certificate not trusted ({error.verify_message})")
    except (ssl.SSLError, OSError) as error:
        return Check(name, False, f"{url}: {type(error).__name__}: {error}")
    return Check(name, True, f"{url} answered a TLS handshake ({version})")

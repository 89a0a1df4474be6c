"""HTTPS to Spine with httpx: mutual TLS, a verified server certificate, timeouts, a total deadline on every
request, and one reused connection pool.

The transport sends bytes and returns bytes; it never retries. Which failures are safe to retry is the
client's decision (a read may be retried; a change never is), so each error says whether the request could
have reached Spine.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from consent_desktop.config import SpineSettings, TlsSettings
from consent_desktop.domain.errors import ConfigError, SpineTimeout, SpineUnavailable, TlsFailure, UnexpectedResponse
from consent_desktop.https_client import DEADLINE, https_client
from consent_desktop.spine.safe_xml import MAX_BYTES
from consent_desktop.verified_tls import verified_context


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    content_type: str
    body: bytes


def tls_context(tls: TlsSettings) -> ssl.SSLContext:
    """Server certificate always verified against the configured CA bundle; our endpoint certificate presented."""
    context = verified_context(tls.ca_bundle, "tls.ca_bundle", checking="Spine's certificate")
    if tls.client_cert is not None:
        _load_client_certificate(context, tls.client_cert, tls.client_key)
    return context


def _load_client_certificate(context: ssl.SSLContext, cert: Path, key: Path | None) -> None:
    try:
        context.load_cert_chain(str(cert), str(key) if key else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(str(cert), "tls.client_cert", f"cannot be loaded with its key ({exc})") from exc


class SpineTransport:
    """One pooled HTTPS client for all Spine endpoints. Thread-safe; close it when the app stops."""

    def __init__(self, spine: SpineSettings, tls: TlsSettings, *, transport: httpx.BaseTransport | None = None) -> None:
        self._client = https_client(
            tls_context(tls),
            connect_timeout=spine.connect_timeout,
            read_timeout=spine.read_timeout,
            deadline=spine.read_deadline,
            transport=transport,
        )

    def post(self, url: str, action: str, body: bytes, *, deadline: float | None = None) -> HttpAnswer:
        """Everything — connecting, sending, the whole answer — within ``deadline`` seconds (by default the read
        deadline, ``spine.read_deadline``)."""
        headers = {"SOAPAction": action, "Content-Type": "text/xml; charset=UTF-8"}
        extensions = {} if deadline is None else {DEADLINE: deadline}
        try:
            with self._client.stream("POST", url, content=body, headers=headers, extensions=extensions) as response:
                length = response.headers.get("Content-Length")
                if length is not None and length.isdigit() and int(length) > MAX_BYTES:
                    raise UnexpectedResponse("Spine's answer was far larger than expected.", f"{length} bytes")
                received = bytearray()
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) > MAX_BYTES:
                        raise UnexpectedResponse("Spine's answer was far larger than expected.", "body over cap")
                return HttpAnswer(response.status_code, response.headers.get("Content-Type", ""), bytes(received))
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _not_sent(SpineTimeout("Spine could not be reached in time.", type(exc).__name__)) from None
        except httpx.ConnectError as exc:
            raise _connect_failure(exc) from None
        except httpx.TimeoutException as exc:
            raise SpineTimeout(
                "Spine did not answer in time.", f"{type(exc).__name__} after the request was sent"
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise SpineUnavailable(
                "The connection to Spine was lost before it answered.", f"{type(exc).__name__}"
            ) from None
        except httpx.HTTPError as exc:
            raise SpineUnavailable("Spine could not be reached.", type(exc).__name__) from None

    def close(self) -> None:
        self._client.close()


_E = TypeVar("_E", SpineUnavailable, TlsFailure)


def _not_sent(error: _E) -> _E:
    error.request_sent = False
    return error


def _connect_failure(exc: httpx.ConnectError) -> SpineUnavailable | TlsFailure:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return _not_sent(
                TlsFailure(
                    "The connection to Spine was stopped because its certificate could not be trusted. "
                    "Ask your IT team.",
                    f"server certificate verification failed: {cause.verify_message}",
                )
            )
        if isinstance(cause, ssl.SSLError):
            return _not_sent(
                TlsFailure(
                    "A secure connection to Spine could not be set up. Ask your IT team.",
                    f"TLS handshake failed: {cause.reason or type(cause).__name__}",
                )
            )
        cause = cause.__cause__ or cause.__context__
    return _not_sent(SpineUnavailable("Spine could not be reached. Check the network connection.", "connect failed"))

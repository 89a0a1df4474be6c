"""The one way this app makes an HTTPS client: a verified TLS context, and a total deadline on every request.

httpx's timeouts bound each network operation, not a request: a server that trickles its answer a byte at a time
resets the read timeout with every byte and can hold a request open for ever. httpx has no total timeout
(encode/httpx#1450), so every request here carries a deadline — connecting, sending and the whole answer — that
every socket operation underneath is clamped to: whatever remains of it is the most any one connect, TLS
handshake, write or read may wait, and once it has passed the next one fails as a timeout.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

DEADLINE = "consent_desktop.deadline"  # a request extension: this request's total deadline in seconds
_until: ContextVar[float | None] = ContextVar("https_deadline", default=None)  # monotonic time the request must end


def https_client(
    context: ssl.SSLContext,
    *,
    connect_timeout: float,
    read_timeout: float,
    deadline: float,
    limits: httpx.Limits | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client whose requests each end within ``deadline`` seconds (or the request's own :data:`DEADLINE`).
    ``transport`` stands in for the network in tests; the deadline still applies to reading its answers."""
    limits = limits or httpx.Limits(max_connections=8, max_keepalive_connections=4)
    return httpx.Client(
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
        transport=DeadlineTransport(transport or _pooled(context, limits), deadline),
        follow_redirects=False,
        trust_env=False,  # proxies come from configuration, never from a user's environment
    )


def _pooled(context: ssl.SSLContext, limits: httpx.Limits) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(verify=context, limits=limits, trust_env=False)
    # Deliberate reach past httpx's public API: it offers no way to choose httpcore's network backend
    # (encode/httpx#3180), and the clamped backend is the only way to bound a read that keeps receiving bytes.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_DeadlineBackend(),
    )
    return transport


class DeadlineTransport(httpx.BaseTransport):
    """Starts each request's clock, and keeps it running while the answer is read."""

    def __init__(self, inner: httpx.BaseTransport, seconds: float) -> None:
        self._inner = inner
        self._seconds = seconds

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        seconds = float(request.extensions.get(DEADLINE, self._seconds))
        until = time.monotonic() + seconds
        timeouts = request.extensions.get("timeout")
        if isinstance(timeouts, dict):  # waiting for a pooled connection counts too
            request.extensions["timeout"] = {k: seconds if v is None else min(v, seconds) for k, v in timeouts.items()}
        token = _until.set(until)
        try:
            response = self._inner.handle_request(request)
        finally:
            _until.reset(token)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_DeadlineBody(response.stream, until, request),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._inner.close()


class _DeadlineBody(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream | Any, until: float, request: httpx.Request) -> None:
        self._stream = stream
        self._until = until
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._stream)
        while True:
            if time.monotonic() >= self._until:
                raise httpx.ReadTimeout("the request's total deadline passed", request=self._request)
            token = _until.set(self._until)
            try:
                chunk = next(chunks, None)
            finally:
                _until.reset(token)
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


def _left(timeout: float | None, late: type[httpcore.TimeoutException]) -> float | None:
    """The timeout for one socket operation: never beyond the current request's deadline."""
    until = _until.get()
    if until is None:
        return timeout
    remaining = until - time.monotonic()
    if remaining <= 0:
        raise late("the request's total deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._backend.connect_unix_socket(path, _left(timeout, httpcore.ConnectTimeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)

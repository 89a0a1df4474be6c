"""The one-shot loopback redirect receiver of a native app's browser sign-in (RFC 8252 §7.3).

It listens on 127.0.0.1, on the port registered with the provider (``cis2.redirect_port``) or else on one the
system picks, before the browser is sent anywhere, and takes exactly one answer: a GET on its path carrying the
``state`` of the sign-in it serves. The browser is told the window can be closed; then the listener shuts. Every
other request is answered and waited past: other paths (a browser asking for a favicon) with 404, and a wrong,
missing or repeated ``state`` with 400 — a stale tab or a forged answer must not end the user's real sign-in. The
wait ends only on the right answer, a cancel, or its time limit.

Nothing here logs a request line: the query carries the one-time authorization code.
"""

from __future__ import annotations

import hmac
import html
import socket
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from consent_desktop.domain.errors import ConfigError, SignInFailed

HOST = "127.0.0.1"  # an IP literal, not "localhost": no resolver or firewall surprise (RFC 8252 §8.3)
CALLBACK_PATH = "/consent-desktop/signed-in"
DEFAULT_TIMEOUT = 300.0  # seconds a user has to finish signing in in the browser
_POLL = 0.1  # how often the wait looks at its deadline and at cancel()

_DONE_PAGE = "Sign-in finished. You can close this window and return to consent-desktop."
_FAILED_PAGE = "Sign-in did not finish. Close this window and return to consent-desktop."
_UNEXPECTED_PAGE = (
    "consent-desktop did not expect this sign-in answer, so it was ignored. Close this window; if you are signing "
    "in, finish in the sign-in window consent-desktop opened."
)


class _Server(HTTPServer):
    # No address reuse: on Windows SO_REUSEADDR would let another program bind the same port and take the code.
    allow_reuse_address = False
    expected_path: str
    expected_state: str
    answer: dict[str, str] | None
    refused: int  # answers turned away for their state

    def server_bind(self) -> None:
        exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)  # Windows only
        if exclusive is not None:
            self.socket.setsockopt(socket.SOL_SOCKET, exclusive, 1)
        super().server_bind()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 5  # seconds: a connection that sends nothing must not hold up the wait

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != self.server.expected_path:
            self._page(404, "Not found.")
            return
        params = _single_values(parse_qs(url.query))
        state = params.get("state", "") if params is not None else ""
        expected = self.server.expected_state
        if params is None or not expected or not hmac.compare_digest(state.encode(), expected.encode()):
            self.server.refused += 1
            self._page(400, _UNEXPECTED_PAGE)
            return
        self.server.answer = params
        self._page(200, _FAILED_PAGE if "error" in params else _DONE_PAGE)

    def _page(self, status: int, text: str) -> None:
        body = (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>consent-desktop</title></head>"
            f"<body><p>{html.escape(text)}</p></body></html>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")  # the page's URL holds the code
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Request lines hold the authorization code: never written anywhere."""


def _single_values(query: Mapping[str, list[str]]) -> dict[str, str] | None:
    """Each parameter once; a repeated one makes the answer ambiguous (None)."""
    if any(len(values) != 1 for values in query.values()):
        return None
    return {name: values[0] for name, values in query.items()}


class LoopbackReceiver:
    """Bound at construction, so :attr:`redirect_uri` is known before the browser opens. One use only."""

    def __init__(self, *, path: str = CALLBACK_PATH, timeout: float = DEFAULT_TIMEOUT, port: int = 0) -> None:
        """``port`` 0: one the system picks. A fixed port in use by another program is a plain sign-in failure."""
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if not 0 <= port <= 65535:
            raise ConfigError("settings", "cis2.redirect_port", f"{port} is not a port number (0 to 65535)")
        self._timeout = timeout
        try:
            self._server = _Server((HOST, port), _Handler)
        except OSError as exc:
            raise SignInFailed(
                "The sign-in could not start: another program on this computer is using the port CIS2 sends its "
                "answer to. Close other consent-desktop windows and try again; if it keeps happening, ask your IT "
                "team.",
                f"loopback port {port} could not be bound ({exc.strerror or type(exc).__name__})",
                retryable=True,
            ) from None
        self._server.timeout = _POLL
        self._server.expected_path = path
        self._server.expected_state = ""
        self._server.answer = None
        self._server.refused = 0
        self._closed = False

    @property
    def redirect_uri(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}{self._server.expected_path}"

    def wait(
        self, state: str, cancelled: threading.Event, *, clock: Callable[[], float] = time.monotonic
    ) -> dict[str, str]:
        """The query parameters of the one answer carrying ``state``; answers without it are turned away and
        waited past. Raises SignInFailed when ``cancelled`` is set or the time is up. Closes the listener."""
        if not state:
            raise ValueError("a sign-in needs a state value")
        self._server.expected_state = state
        deadline = clock() + self._timeout
        try:
            while self._server.answer is None:
                if cancelled.is_set():
                    raise SignInFailed("Sign-in was cancelled.", "CIS2 sign-in cancelled while waiting for the browser")
                if clock() >= deadline:
                    minutes = max(1, round(self._timeout / 60))
                    turned_away = self._server.refused
                    also = f" ({turned_away} answer(s) with another state turned away)" if turned_away else ""
                    raise SignInFailed(
                        f"The sign-in in the browser was not finished within {minutes} minute"
                        f"{'s' if minutes != 1 else ''}, so it was stopped. Select Sign in to try again.",
                        f"CIS2 loopback redirect not received within {self._timeout:g} s{also}",
                        retryable=True,
                    )
                self._server.handle_request()
            return self._server.answer
        finally:
            self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._server.server_close()

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

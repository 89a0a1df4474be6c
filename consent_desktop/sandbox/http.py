"""HTTPS servers for the sandbox, on loopback.

The standard library's threading HTTP server is used on purpose (not a web framework): a faithful stand-in
must be able to misbehave at the socket level (drop a connection after committing, refuse a TLS handshake),
which frameworks hide. Spine's endpoint requires a client certificate from the sandbox's TLS CA; the
identity listener (CIS sign-in, and the browser-facing CIS2 pages) does not.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509

log = logging.getLogger(__name__)
MAX_REQUEST = 1024 * 1024
HOLD_LIMIT = 300.0  # seconds a held request waits for its client to give up


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    client_certificate: x509.Certificate | None

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/xml; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False  # close the socket without writing anything
    delay: float = 0.0  # seconds to wait before answering (or dropping)
    hold: bool = False  # answer nothing, until the client gives up and closes the connection
    trickle: float = 0.0  # seconds between the answer's bytes, headers included


Handler = Callable[[Request], Response]


class Router:
    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Handler] = {}

    def add(self, method: str, path: str, handler: Handler) -> None:
        self._routes[(method, path)] = handler

    def find(self, method: str, path: str) -> Handler | None:
        return self._routes.get((method, path))


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], context: ssl.SSLContext, router: Router, refuse_handshake: Callable[[], bool]
    ) -> None:
        self.context = context
        self.router = router
        self.refuse_handshake = refuse_handshake
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: object, client_address: object) -> None:
        # A refused handshake or a client hanging up is part of the sandbox's job, not a server error.
        log.debug("connection from %s ended abruptly", client_address, exc_info=True)

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        # The handshake runs in the handler's thread, so one slow client never blocks accept().
        tls = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return tls, address


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses one connection
    server: _TlsServer

    def setup(self) -> None:
        super().setup()
        tls = self.connection
        assert isinstance(tls, ssl.SSLSocket)
        tls.settimeout(30)
        tls.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body are separate writes
        if self.server.refuse_handshake():
            tls.close()
            raise ConnectionAbortedError("handshake refused by fault")
        tls.do_handshake()

    def handle(self) -> None:
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, TimeoutError, OSError) as exc:
            log.debug("connection ended: %s", type(exc).__name__)

    def log_message(self, format: str, *args: object) -> None:
        # A query may carry a secret (the legacy SSB lookups take the ticket there): request lines keep the path only.
        path, message = getattr(self, "path", ""), format % args
        log.debug("%s %s", self.address_string(), message.replace(path, urlsplit(path).path) if path else message)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        der = self.connection.getpeercert(binary_form=True)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client_certificate=x509.load_der_x509_certificate(der) if der else None,
        )
        handler = self.server.router.find(self.command, url.path)
        response = handler(request) if handler else Response(404, b"not found", "text/plain")
        if response.delay:
            threading.Event().wait(response.delay)
        if response.drop_connection:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if response.hold:
            self.close_connection = True
            self.connection.settimeout(HOLD_LIMIT)
            self.connection.recv(1)  # returns (or raises) once the client has closed the connection
            return
        if response.trickle:
            self.close_connection = True
            self._trickle(response)
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def _trickle(self, response: Response) -> None:
        """The whole answer, status line first, one byte at a time: each byte resets a client's read timeout."""
        head = [
            f"HTTP/1.1 {response.status} {self.responses[response.status][0]}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            *(f"{name}: {value}" for name, value in response.headers.items()),
        ]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body
        pause = threading.Event()
        for index in range(len(raw)):
            self.wfile.write(raw[index : index + 1])  # raises once the client has given up
            pause.wait(response.trickle)

    do_GET = _serve  # noqa: N815 - the standard library names these
    do_POST = _serve  # noqa: N815


@dataclass
class Listener:
    server: _TlsServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def server_context(cert: Path, key: Path, client_ca: Path | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(str(client_ca))
    return context


def start(
    host: str, port: int, context: ssl.SSLContext, router: Router, refuse_handshake: Callable[[], bool] = lambda: False
) -> Listener:
    server = _TlsServer((host, port), context, router, refuse_handshake)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name=f"sandbox-{server.server_address[1]}", daemon=True
    )
    thread.start()
    return Listener(server, thread)

"""A hostile Spine: a tiny HTTPS server with the sandbox's own certificates (so the client's mutual TLS succeeds)
that answers each request with whatever a test says, and canaries that notice a file read or a request elsewhere.
"""

from __future__ import annotations

import errno
import http.server
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from consent_desktop.config import Settings
from consent_desktop.sandbox import http as sandbox_http
from consent_desktop.sandbox.datadir import SandboxData
from consent_desktop.spine.transport import tls_context

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Reply:
    body: bytes | Callable[[], Iterable[bytes]]  # a callable: streamed in chunks, never held whole
    status: int = 200
    content_type: str = "text/xml; charset=UTF-8"
    declared_length: int | None = None  # a streamed body's Content-Length; None: chunked transfer encoding


Responder = Callable[[bytes, str], Reply]  # (request body, SOAPAction) -> the answer


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[bytes] = []
        super().__init__((HOST, 0), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up on a hostile answer is what the tests want; nothing to report."""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(body)
        reply = self.server.responder(body, self.headers.get("SOAPAction", ""))
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Connection", "close")
        self.close_connection = True
        try:
            if isinstance(reply.body, bytes):
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            else:
                self._stream(reply)
        except OSError:
            pass  # the client stopped reading, as it should

    def _stream(self, reply: Reply) -> None:
        assert not isinstance(reply.body, bytes)
        chunked = reply.declared_length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(reply.declared_length))
        self.end_headers()
        for chunk in reply.body():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST  # noqa: N815 - the standard library's name; an identity provider's discovery is a GET

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests report what matters."""


class HostileSpine:
    """Serves ``https://127.0.0.1:PORT/sync-service``, requiring a client certificate from the sandbox's TLS CA
    (unless ``client_certificate`` is False: a sign-in service asks for none)."""

    def __init__(self, data: SandboxData, responder: Responder, *, client_certificate: bool = True) -> None:
        self._server = _Server(responder)
        client_ca = data.pem("tls-ca") if client_certificate else None
        context = sandbox_http.server_context(data.pem("server"), data.key("server"), client_ca)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def origin(self) -> str:
        return f"https://{HOST}:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.origin}/sync-service"

    @property
    def requests(self) -> list[bytes]:
        return self._server.requests

    def __enter__(self) -> HostileSpine:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def forwarder(settings: Settings) -> Iterator[Callable[[bytes, str], bytes]]:
    """Sends a (possibly altered) request on to the real sandbox and returns its answer: the way to build a
    hostile answer that is otherwise exactly what Spine would say."""
    client = httpx.Client(verify=tls_context(settings.tls), trust_env=False, timeout=10)

    def forward(body: bytes, action: str) -> bytes:
        headers = {"SOAPAction": action, "Content-Type": "text/xml; charset=UTF-8"}
        return client.post(settings.spine.endpoint, content=body, headers=headers).content

    try:
        yield forward
    finally:
        client.close()


# --- canaries --------------------------------------------------------------------------------------------------


class FileCanary:
    """A named pipe standing where a secret file would be. Opening it to read blocks until a writer comes, so a
    watcher that keeps trying to open it for writing (which succeeds only while a reader has it open) sees every
    read attempt, then lets the reader go."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "secret.txt"
        os.mkfifo(self.path)
        self.opened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.002):
            try:
                handle = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: nobody is reading, the normal case
                    raise
                continue
            self.opened += 1
            try:
                os.write(handle, b"TOP SECRET")
            finally:
                os.close(handle)

    def __enter__(self) -> FileCanary:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@contextmanager
def web_canary() -> Iterator[tuple[str, list[str]]]:
    """A plain HTTP server on another port that records every request: nothing may ever reach it."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<!ENTITY leaked 'LEAKED'>")

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}/evil.dtd", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""The real components a test run exercised.

Registered from ``tests/conftest.py``. A test needing a component that is not installed fails naming the Debian
packages to install (``tests/required_packages.py``); it never skips. At the end of the run the summary names each
real component and how many tests used it, and how many of those passed. A test uses a component when one of the
fixtures that provide it is among its fixtures, or, for the sandbox, when a sandbox in this process answered it
over mutual TLS (a client certificate presented and checked).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from consent_desktop.sandbox.http import Handler, Request, Response, Router

SANDBOX = "the sandbox (Spine, PDS, sign-in) over mutual TLS"


@dataclass(frozen=True)
class Component:
    name: str
    fixtures: frozenset[str]  # any of these among a test's fixtures means the test used the component


COMPONENTS = (
    Component("pcscd with vsmartcard's virtual reader and virtual card (vpcd, vicc)", frozenset({"pcscd"})),
    Component("SoftHSM2 software smartcards through PKCS#11", frozenset({"soft_cards", "card_sandbox", "ui_sandbox"})),
    Component("the PIN-lock PKCS#11 module (SoftHSM2 behind a card's counter)", frozenset({"pinlock_shim"})),
    Component(SANDBOX, frozenset({"spawned"})),  # a sandbox in its own process; in-process ones are seen serving
    Component("the wixl/msitools smoke MSI, read back with msiinfo", frozenset({"msi"})),
    Component("Wine installing, upgrading and removing the smoke MSI", frozenset({"wine"})),
)


@dataclass(eq=False)  # a plugin must be hashable
class RealComponents:
    used: dict[str, set[str]] = field(default_factory=dict)  # test node id -> components
    ran: set[str] = field(default_factory=set)  # tests whose call phase ran
    passed: set[str] = field(default_factory=set)
    _running: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _restore: list[Callable[[], None]] = field(default_factory=list)

    def install(self) -> None:
        find = Router.find
        plugin = self

        def find_and_note(router: Router, method: str, path: str) -> Handler | None:
            handler = find(router, method, path)
            if handler is None:
                return None

            def noted(request: Request) -> Response:
                if request.client_certificate is not None:
                    plugin.note(SANDBOX)
                return handler(request)

            return noted

        Router.find = find_and_note  # type: ignore[method-assign]
        self._restore.append(lambda: setattr(Router, "find", find))

    def uninstall(self) -> None:
        while self._restore:
            self._restore.pop()()

    def note(self, component: str) -> None:
        """From any thread: the running test used ``component``."""
        with self._lock:
            if self._running is not None:
                self.used.setdefault(self._running, set()).add(component)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        fixtures = set(getattr(item, "fixturenames", ()))
        self.used[item.nodeid] = {c.name for c in COMPONENTS if c.fixtures & fixtures}
        with self._lock:
            self._running = item.nodeid
        try:
            return (yield)
        finally:
            with self._lock:
                self._running = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """A test counts once its call ran, or once its set-up failed (a component missing, say)."""
        if report.when == "call" or (report.when == "setup" and report.failed):
            self.ran.add(report.nodeid)
        if report.when == "call" and report.passed:
            self.passed.add(report.nodeid)
        elif report.failed:
            self.passed.discard(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.ran:
            return
        terminalreporter.write_sep("=", "real components exercised by this run")
        for component in COMPONENTS:
            tests = {node for node in self.ran if component.name in self.used.get(node, ())}
            passed = len(tests & self.passed)
            terminalreporter.write_line(
                f"{len(tests):>5} tests ({passed} passed)  {component.name}", red=not tests or passed < len(tests)
            )


def pytest_configure(config: pytest.Config) -> None:
    plugin = RealComponents()
    plugin.install()
    config.pluginmanager.register(plugin, "real-components")
    config.add_cleanup(plugin.uninstall)

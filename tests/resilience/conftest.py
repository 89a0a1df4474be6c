"""Fixtures for the resilience suite, and the figures it prints at the end of every run that included it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from consent_desktop.sandbox.runtime import Sandbox
from tests.resilience.desk import Desk, open_desk
from tests.resilience.figures import FIGURES
from tests.resilience.sandbox_process import SandboxProcess, copy_card_sandbox

# Short enough that a fault past it costs little, long enough that a loaded CI machine never trips it by accident
# (the sandbox answers in milliseconds).
READ_TIMEOUT = 1.0


@pytest.fixture
def desk(card_sandbox: Sandbox, qtbot: QtBot, tmp_path: Path) -> Iterator[Desk]:
    """A workstation against an in-process sandbox with software cards, signed in as the receptionist."""
    with open_desk(card_sandbox.data.client_config, tmp_path / "app-data", qtbot, read_timeout=READ_TIMEOUT) as desk:
        desk.sign_in()
        yield desk


@pytest.fixture(scope="module")
def spawned(card_sandbox_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A sandbox in a child process, with software cards, shared by a module's tests."""
    data = tmp_path_factory.mktemp("spawned") / "sandbox"
    conf = copy_card_sandbox(card_sandbox_template, data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(conf))  # the client's card token reads its cards from this copy
        process = SandboxProcess(data)
        process.start()
        try:
            yield process
        finally:
            process.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = FIGURES.summary_lines()
    if not lines:
        return
    terminalreporter.write_sep("=", "resilience: what users were told, against what Spine stored")
    for line in lines:
        terminalreporter.write_line(line, red="DISAGREE" in line)


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("RESILIENCE_FIGURES")
    if target and (FIGURES.matrix or FIGURES.soak):
        FIGURES.save(Path(target))

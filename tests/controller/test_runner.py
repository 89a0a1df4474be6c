from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from consent_desktop.controller.runner import Lane, OperationRunner
from consent_desktop.domain.errors import ConsentDesktopError, SpineUnavailable


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[OperationRunner]:
    runner = OperationRunner(progress_delay_ms=50)
    yield runner
    runner.shutdown()


def test_result_arrives_on_the_gui_thread(qtbot: QtBot, runner: OperationRunner) -> None:
    seen: list[tuple[int, bool]] = []
    gui = threading.get_ident()
    worker_thread: list[int] = []

    def work() -> int:
        worker_thread.append(threading.get_ident())
        return 42

    runner.submit(work, on_success=lambda v: seen.append((v, threading.get_ident() == gui)), on_failure=print)
    qtbot.waitUntil(lambda: bool(seen))
    assert seen == [(42, True)]
    assert worker_thread[0] != gui


def test_typed_errors_go_to_the_failure_callback(qtbot: QtBot, runner: OperationRunner) -> None:
    failures: list[ConsentDesktopError] = []

    def work() -> None:
        raise SpineUnavailable("Spine is not available at the moment.", "test")

    runner.submit(work, on_success=lambda _: None, on_failure=failures.append)
    qtbot.waitUntil(lambda: bool(failures))
    assert failures[0].user_message == "Spine is not available at the moment."


@pytest.mark.hazard("HAZ-004")
def test_a_bug_goes_to_the_crash_route_not_swallowed(qtbot: QtBot, runner: OperationRunner) -> None:
    def work() -> None:
        raise KeyError("bug")

    with qtbot.waitSignal(runner.crashed) as crashed:
        runner.submit(work, on_success=lambda _: None, on_failure=lambda _: None)
    assert isinstance(crashed.args[0], KeyError)


@pytest.mark.hazard("HAZ-009")
def test_busy_only_after_the_delay_and_idle_after(qtbot: QtBot, runner: OperationRunner) -> None:
    busy: list[str] = []
    runner.busy.connect(busy.append)
    done: list[object] = []
    runner.submit(lambda: None, on_success=done.append, on_failure=print, label="quick")
    qtbot.waitUntil(lambda: bool(done))
    qtbot.wait(80)
    assert busy == []  # finished before the delay: no flicker
    with qtbot.waitSignal(runner.idle, timeout=2000):
        runner.submit(lambda: time.sleep(0.3), on_success=done.append, on_failure=print, label="Looking up")
        qtbot.waitUntil(lambda: busy == ["Looking up"], timeout=1000)


@pytest.mark.hazard("HAZ-004", "HAZ-007")
def test_cancel_discards_but_keep_on_cancel_is_delivered(qtbot: QtBot, runner: OperationRunner) -> None:
    delivered: list[str] = []
    release = threading.Event()
    lookup = runner.submit(lambda: release.wait(2) and "lookup", on_success=delivered.append, on_failure=print)
    save = runner.submit(
        lambda: release.wait(2) and "save", on_success=delivered.append, on_failure=print, keep_on_cancel=True
    )
    runner.cancel_all()
    assert lookup.cancelled and not save.cancelled
    release.set()
    qtbot.waitUntil(lambda: delivered == ["save"])
    qtbot.wait(50)
    assert delivered == ["save"]


def test_card_lane_is_one_thread(qtbot: QtBot, runner: OperationRunner) -> None:
    threads: set[int] = set()
    results: list[None] = []
    for _ in range(5):
        runner.submit(
            lambda: threads.add(threading.get_ident()), on_success=results.append, on_failure=print, lane=Lane.CARD
        )
    qtbot.waitUntil(lambda: len(results) == 5)
    assert len(threads) == 1

"""The loopback listener: one answer on its path with the expected state, a page saying the window can be
closed, then it is gone; a time limit and a cancel that end the wait with a plain message."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from consent_desktop.auth.loopback import LoopbackReceiver
from consent_desktop.domain.errors import SignInFailed


def answer_later(action: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread


def test_one_answer_with_the_state_is_taken_and_the_listener_closes() -> None:
    receiver = LoopbackReceiver(timeout=5)
    base = receiver.redirect_uri
    assert base.startswith("http://127.0.0.1:")
    pages: list[httpx.Response] = []

    def browse() -> None:
        pages.append(httpx.get(base.replace("/signed-in", "/favicon.ico")))
        pages.append(httpx.get(f"{base}?code=abc&state=s1"))

    thread = answer_later(browse)
    assert receiver.wait("s1", threading.Event()) == {"code": "abc", "state": "s1"}
    thread.join(5)
    assert [page.status_code for page in pages] == [404, 200]
    assert "You can close this window" in pages[1].text
    assert pages[1].headers["cache-control"] == "no-store"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}?code=abc&state=s1", timeout=2)  # one-shot: nobody listens any more


@pytest.mark.parametrize("query", ["code=abc&state=other", "code=abc", "code=abc&state=s1&state=s1"])
def test_an_answer_without_the_state_ends_the_wait(query: str) -> None:
    receiver = LoopbackReceiver(timeout=5)
    pages: list[httpx.Response] = []
    thread = answer_later(lambda: pages.append(httpx.get(f"{receiver.redirect_uri}?{query}")))
    with pytest.raises(SignInFailed) as refused:
        receiver.wait("s1", threading.Event())
    thread.join(5)
    assert "did not ask for" in refused.value.user_message
    assert pages[0].status_code == 400


def test_the_wait_gives_up_after_its_time() -> None:
    receiver = LoopbackReceiver(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(SignInFailed) as refused:
        receiver.wait("s1", threading.Event())
    assert 0.3 <= time.monotonic() - started < 2
    assert refused.value.retryable and "Select Sign in to try again" in refused.value.user_message


def test_a_cancel_ends_the_wait_at_once() -> None:
    receiver = LoopbackReceiver(timeout=30)
    cancelled = threading.Event()
    threading.Timer(0.2, cancelled.set).start()
    started = time.monotonic()
    with pytest.raises(SignInFailed, match="cancelled"):
        receiver.wait("s1", cancelled)
    assert time.monotonic() - started < 2

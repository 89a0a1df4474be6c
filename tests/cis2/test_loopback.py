"""The loopback listener: one answer on its path with the expected state, a page saying the window can be
closed, then it is gone; a time limit and a cancel that end the wait with a plain message."""

from __future__ import annotations

import socket
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


@pytest.mark.hazard("HAZ-013", "HAZ-018")
def test_answers_without_the_state_are_answered_and_waited_past_until_the_right_one() -> None:
    receiver = LoopbackReceiver(timeout=5)
    pages: list[httpx.Response] = []

    def browse() -> None:
        for query in ("code=abc&state=other", "code=abc", "code=abc&state=s1&state=s1", "error=access_denied"):
            pages.append(httpx.get(f"{receiver.redirect_uri}?{query}"))
        pages.append(httpx.get(f"{receiver.redirect_uri}?code=good&state=s1"))

    thread = answer_later(browse)
    assert receiver.wait("s1", threading.Event()) == {"code": "good", "state": "s1"}
    thread.join(5)
    assert [page.status_code for page in pages] == [400, 400, 400, 400, 200]
    assert "ignored" in pages[0].text and "You can close this window" in pages[-1].text


def test_only_wrong_answers_end_in_the_time_limit_not_before() -> None:
    receiver = LoopbackReceiver(timeout=0.5)
    thread = answer_later(lambda: httpx.get(f"{receiver.redirect_uri}?code=abc&state=forged"))
    started = time.monotonic()
    with pytest.raises(SignInFailed) as refused:
        receiver.wait("s1", threading.Event())
    thread.join(5)
    assert time.monotonic() - started >= 0.5
    assert "was not finished within 1 minute" in refused.value.user_message
    assert "1 answer(s) with another state turned away" in refused.value.details


def test_a_fixed_port_is_listened_on_and_a_taken_one_is_a_plain_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with LoopbackReceiver(timeout=1, port=free) as receiver:
        assert receiver.redirect_uri == f"http://127.0.0.1:{free}/consent-desktop/signed-in"
        with pytest.raises(SignInFailed) as taken:
            LoopbackReceiver(timeout=1, port=free)
    assert "another program on this computer is using the port" in taken.value.user_message
    assert taken.value.retryable


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

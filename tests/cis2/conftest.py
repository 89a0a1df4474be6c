"""CIS2 against the running sandbox: the test plays the system browser with httpx, on its own thread as a real
browser would be, and the card is a fake one issued by the sandbox's card CA."""

from __future__ import annotations

import dataclasses
import re
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from consent_desktop.auth.cis2 import Cis2Client
from consent_desktop.auth.cis2_sign_in import Cis2SignInFlow
from consent_desktop.auth.session import Session
from consent_desktop.config import Settings
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.users import RECEPTIONIST, SandboxUser
from tests.fakes import FakeCardToken, FakePresence, card_for_user

_REQUEST_FIELD = re.compile(r"name='request' value='([^']+)'")
_ROLE_BUTTON = re.compile(r"name='role' value='([^']+)'")


@dataclass
class Visit:
    """What the played browser saw: the loopback page it was sent to and what that page said."""

    redirect: str = ""
    status: int = 0
    page: str = ""


@dataclass
class PlayedBrowser:
    """Stands in for ``webbrowser.open``: signs in as ``user`` on the sandbox's page, then follows the redirect
    to the app's loopback listener. ``tamper`` may change that redirect first, as an attacker would."""

    sandbox: Sandbox
    user: SandboxUser | None = RECEPTIONIST  # None: open the page and walk away
    tamper: Callable[[str], str] = lambda location: location
    cancel: bool = False
    role: str | None = None  # on CIS2's role page: the role to pick (None: the first listed)
    opened: list[str] = field(default_factory=list)
    role_pages: list[list[str]] = field(default_factory=list)  # the roles each role page offered
    visits: list[Visit] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        thread = threading.Thread(target=self._play, args=(url,), name="played-browser", daemon=True)
        self._threads.append(thread)
        thread.start()
        return True

    def finish(self) -> None:
        for thread in self._threads:
            thread.join(timeout=10)
        if self.errors:
            raise self.errors[0]

    def _play(self, url: str) -> None:
        try:
            if self.user is None:
                return
            visit = Visit()
            self.visits.append(visit)
            context = ssl.create_default_context(cafile=str(self.sandbox.data.pem("tls-ca")))
            with httpx.Client(verify=context, follow_redirects=False) as web:
                page = web.get(url)
                if page.status_code != 200:  # the provider refused the request itself (no redirect at all)
                    visit.status, visit.page = page.status_code, page.text
                    return
                match = _REQUEST_FIELD.search(page.text)
                assert match is not None, page.text
                form = {"request": match.group(1)}
                form |= {"cancel": "1"} if self.cancel else {"user": self.user.user_id}
                answer = web.post(url.split("?", maxsplit=1)[0], data=form)
                if answer.status_code == 200 and "Select your role" in answer.text:
                    offered = _ROLE_BUTTON.findall(answer.text)
                    self.role_pages.append(offered)
                    match = _REQUEST_FIELD.search(answer.text)
                    assert match is not None, answer.text
                    choice = {"request": match.group(1), "role": self.role or offered[0]}
                    answer = web.post(url.split("?", maxsplit=1)[0], data=choice)
                visit.status = answer.status_code
                if answer.status_code != 302:
                    visit.page = answer.text
                    return
                visit.redirect = self.tamper(answer.headers["Location"])
            with httpx.Client() as loopback:  # plain http to 127.0.0.1, as RFC 8252 has it
                landed = loopback.get(visit.redirect)
                visit.status, visit.page = landed.status_code, landed.text
        except BaseException as exc:
            self.errors.append(exc)


@dataclass
class Rig:
    """A CIS2 sign-in flow wired to the sandbox, a fake card and a fake reader."""

    sandbox: Sandbox
    settings: Settings
    flow: Cis2SignInFlow
    session: Session
    client: Cis2Client
    token: FakeCardToken
    presence: FakePresence
    browser: PlayedBrowser
    clock: list[float]  # the session's monotonic clock, moved by tests


@pytest.fixture
def cis2_settings(sandbox_settings: Settings) -> Settings:
    return dataclasses.replace(sandbox_settings, auth=dataclasses.replace(sandbox_settings.auth, provider="cis2"))


def make_rig(
    sandbox: Sandbox,
    settings: Settings,
    *,
    card_user: SandboxUser | None = RECEPTIONIST,
    browser: PlayedBrowser | None = None,
    lock_on_card_removal: bool = True,
    browser_timeout: float = 10.0,
    redirect_port: int = 0,
) -> Rig:
    auth = dataclasses.replace(settings.auth, lock_on_card_removal=lock_on_card_removal)
    token = FakeCardToken(card_for_user(sandbox.data.card_ca(), card_user) if card_user else None)
    presence = FakePresence(present=card_user is not None)
    clock = [1000.0]
    session = Session(auth, clock=lambda: clock[0], presence=presence)
    presence.start(session.card_event)
    client = Cis2Client.from_settings(settings)
    browser = browser or PlayedBrowser(sandbox)
    flow = Cis2SignInFlow(
        client,
        token,
        session,
        presence,
        auth,
        browser=browser,
        browser_timeout=browser_timeout,
        redirect_port=redirect_port,
    )
    return Rig(sandbox, settings, flow, session, client, token, presence, browser, clock)


@pytest.fixture
def rig(sandbox: Sandbox, cis2_settings: Settings) -> Iterator[Rig]:
    made = make_rig(sandbox, cis2_settings)
    yield made
    made.client.close()

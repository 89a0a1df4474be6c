"""Shared fixtures: a running sandbox over real HTTPS with client certificates, and clients configured for it."""

from __future__ import annotations

import os

from consent_desktop.spine.exchange import SpineEndpoint

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt: no display in CI

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from consent_desktop.config import Settings, TomlFileSource, load_settings
from consent_desktop.domain.identity import RoleProfile, SpineIdentity
from consent_desktop.sandbox import softcard
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.spine.acs_client import AcsClient
from consent_desktop.spine.transport import SpineTransport
from tests.softhsm import require_softhsm

pytest_plugins = [
    "tests.hazards",  # the hazard log <-> tests traceability check
    "tests.log_scan",  # no PIN, ticket or patient data in any log the run wrote
    "tests.real_components",  # a missing real component fails its test; the summary counts what each exercised
    "tests.skip_allow_list",  # the run fails on any skip not listed, with its reason, in tests/allowed-skips.toml
]


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Once a controller has moved the garbage collector to the GUI thread, a test with no event loop running
    still leaves its garbage collected: here, on the main thread, as the GUI thread's timer would."""
    from consent_desktop.controller.main_thread_gc import installed

    collector = installed()
    if collector is not None:
        collector.collect_due()

RECEPTIONIST_ROLE = RoleProfile(
    role_profile_id="555254240100",
    org_code="A12345",
    org_name="Riverside Surgery",
    job_role_code="S8000:G8000:R8000",
    job_role_name="Clinical Practitioner",
    activities=frozenset({"B0020"}),
)
TEST_IDENTITY = SpineIdentity(user_id="555000000001", user_name="Test User", role=RECEPTIONIST_ROLE)


class ActiveGate:
    """A session that is always active: for tests of the Spine layer alone (the session has its own tests)."""

    def __init__(self, identity: SpineIdentity = TEST_IDENTITY) -> None:
        self.identity = identity

    def require_active(self) -> SpineIdentity:
        return self.identity


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sandbox") as running:
        yield running


@pytest.fixture
def sandbox_settings(sandbox: Sandbox) -> Settings:
    return load_settings([TomlFileSource(sandbox.data.client_config, "sandbox client.toml")])


@pytest.fixture
def transport(sandbox_settings: Settings) -> Iterator[SpineTransport]:
    transport = SpineTransport(sandbox_settings.spine, sandbox_settings.tls)
    yield transport
    transport.close()


@pytest.fixture
def acs(sandbox_settings: Settings, transport: SpineTransport) -> AcsClient:
    spine = sandbox_settings.spine
    return AcsClient(
        transport,
        SpineEndpoint.for_acs(spine),
        ActiveGate(),
        backoff=0.01,
    )


# --- a sandbox with software smartcards ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def card_sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox data folder with certificates and SoftHSM2 software cards, made once per session."""
    require_softhsm()
    template = tmp_path_factory.mktemp("card-sandbox-template")
    softcard.provision(template)
    return template


@pytest.fixture
def card_sandbox(card_sandbox_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A fresh sandbox (its own consent store) whose software cards are copies of the session's."""
    data = tmp_path / "card-sandbox"
    shutil.copytree(card_sandbox_template, data)
    conf = data / "cards" / "softhsm2.conf"
    conf.write_text(conf.read_text().replace(str(card_sandbox_template), str(data)))
    # The card token exports SOFTHSM2_CONF for the process; put the previous value back afterwards.
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    with Sandbox(data, software_cards=True) as running:
        yield running

"""Training and live can never be confused by configuration, and unsafe settings stop the app before it starts:
every service over https, training on this computer only, live never on it, B0020 required, ASIDs set."""

from __future__ import annotations

from pathlib import Path

import pytest

from consent_desktop.config import MappingSource, Settings, load_settings
from consent_desktop.controller.assembly import assemble, audit_path
from consent_desktop.controller.diagnose import diagnose
from consent_desktop.controller.settings_check import settings_problems
from consent_desktop.domain.errors import ConfigError

SOURCE = "per-machine file C:\\ProgramData\\NHS\\consent-desktop\\config.toml"
LIVE = {
    "spine.endpoint": "https://spine.example.nhs.uk/sync-service",
    "spine.spine_asid": "928942012545",
    "spine.local_asid": "200000001162",
    "auth.provider": "cis",  # the legacy route: its address is what these tests vary (CIS2 is the default)
    "auth.cis_url": "https://cis.example.nhs.uk/login",
}
TRAINING = {
    **LIVE,
    "spine.endpoint": "https://127.0.0.1:8443/sync-service",
    "auth.cis_url": "https://localhost:8444/cis",
    "app.training_mode": True,
}


def settings(base: dict[str, object], **changes: object) -> Settings:
    values = {**base, **{key.replace("__", "."): value for key, value in changes.items()}}
    return load_settings([MappingSource(SOURCE, values)])


def problems(chosen: Settings) -> dict[str, str]:
    return {problem.key or "": problem.problem for problem in settings_problems(chosen)}


def test_a_live_and_a_training_configuration_pass_as_they_are() -> None:
    assert problems(settings(LIVE)) == {}
    assert problems(settings(TRAINING)) == {}


def test_the_sandboxs_own_client_configuration_is_training_on_this_computer(sandbox_settings: Settings) -> None:
    assert sandbox_settings.app.training_mode
    assert problems(sandbox_settings) == {}


@pytest.mark.hazard("HAZ-010")
def test_training_pointed_at_a_real_service_is_refused() -> None:
    found = problems(settings(TRAINING, spine__acs_url="https://spine.example.nhs.uk/sync-service"))
    assert found == {
        "spine.acs_url": "training mode is on, but spine.example.nhs.uk is not this computer: training uses the "
        "local sandbox only"
    }
    found = problems(settings(TRAINING, auth__cis_url="https://10.0.0.5/cis"))
    assert list(found) == ["auth.cis_url"]


@pytest.mark.hazard("HAZ-010")
@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "[::1]", "sandbox.localhost"])
def test_live_pointed_at_this_computer_is_refused(host: str) -> None:
    found = problems(settings(LIVE, spine__pds_url=f"https://{host}:9443/sync-service"))
    assert list(found) == ["spine.pds_url"]
    assert found["spine.pds_url"].endswith("but training mode is off: live use needs the real service")


@pytest.mark.hazard("HAZ-008", "HAZ-012")
@pytest.mark.parametrize("key", ["spine.endpoint", "spine.acs_url", "auth.cis_url"])
@pytest.mark.parametrize("base", [LIVE, TRAINING], ids=["live", "training"])
def test_an_address_that_is_not_https_is_refused(key: str, base: dict[str, object]) -> None:
    host = "127.0.0.1:8080" if base is TRAINING else "spine.example.nhs.uk"
    url = f"http://{host}/sync-service"
    assert problems(settings(base, **{key.replace(".", "__"): url})) == {key: f"{url!r} is not an https:// address"}


@pytest.mark.hazard("HAZ-012")
def test_a_missing_address_is_named() -> None:
    found = problems(settings(LIVE, spine__endpoint="", auth__cis_url=""))
    assert found == {
        "spine.endpoint": "no Spine address is set (for ACS and PDS, or for each)",
        "auth.cis_url": "no sign-in service address is set",
    }
    assert problems(settings(LIVE, spine__endpoint="", spine__acs_url=LIVE["spine.endpoint"])) == {
        "spine.endpoint": "no Spine address is set (for ACS and PDS, or for each)"  # PDS still has none
    }


@pytest.mark.hazard("HAZ-005", "HAZ-012")
@pytest.mark.parametrize("activities", [[], ["B0380"], ["b0020"]])
def test_an_rbac_list_without_b0020_is_refused(activities: list[str]) -> None:
    found = problems(settings(LIVE, auth__change_consent_activities=activities))
    assert found == {
        "auth.change_consent_activities": "must include B0020, the national activity for recording SCR consent"
    }
    assert problems(settings(LIVE, auth__change_consent_activities=["B0020", "B0380"])) == {}


@pytest.mark.hazard("HAZ-012")
def test_asids_must_be_set_and_numeric() -> None:
    assert problems(settings(LIVE, spine__local_asid="")) == {"spine.local_asid": "is not set"}
    # one shared receiver ASID is one problem, not one per service
    assert problems(settings(LIVE, spine__spine_asid="9289-4201")) == {
        "spine.spine_asid": "must be an ASID: digits only"
    }
    assert problems(settings(LIVE, spine__pds_asid="pds")) == {"spine.pds_asid": "must be an ASID: digits only"}


@pytest.mark.hazard("HAZ-010", "HAZ-012")
def test_the_app_will_not_start_with_an_unsafe_setting_and_says_where_it_is() -> None:
    unsafe = settings(LIVE, spine__endpoint="https://127.0.0.1:8443/sync-service")
    with pytest.raises(ConfigError) as refused:
        assemble(unsafe)  # refused before any card, connection or audit file is touched
    message = refused.value.user_message
    assert message.startswith(f"The app's settings are not valid ({SOURCE}, setting 'spine.endpoint'): 127.0.0.1")
    assert message.endswith("Ask your IT team to correct them.")


@pytest.mark.hazard("HAZ-010", "HAZ-012")
def test_diagnose_names_the_mode_or_every_unsafe_setting() -> None:
    training = diagnose(settings(TRAINING), timeout=0.5)
    assert ("mode", True, "training: the local sandbox only") in [(c.name, c.ok, c.detail) for c in training.checks]
    live = diagnose(
        settings(LIVE, spine__endpoint="http://127.0.0.1:1/", auth__cis_url="", auth__change_consent_activities=[])
    )
    failed = [f"{c.name}: {c.detail}" for c in live.checks if not c.ok]
    assert "setting spine.endpoint: 'http://127.0.0.1:1/' is not an https:// address" in failed
    assert any(line.startswith("setting auth.change_consent_activities: must include B0020") for line in failed)
    assert not live.healthy and all(c.name != "mode" for c in live.checks)


@pytest.mark.hazard("HAZ-010")
def test_training_keeps_its_own_audit(tmp_path: Path) -> None:
    live = audit_path(settings(LIVE, app__data_dir=str(tmp_path)))
    training = audit_path(settings(TRAINING, app__data_dir=str(tmp_path)))
    assert live == tmp_path / "audit.jsonl"
    assert training == tmp_path / "training-audit.jsonl"

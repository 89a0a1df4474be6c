"""The command-line front end, end to end: card sign-in, then ACS and PDS over real mTLS to the sandbox."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from consent_desktop import cli
from consent_desktop.audit import AuditEntry, AuditLog
from consent_desktop.sandbox import patients, pki
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.users import ADMIN_NO_B0020, GP, RECEPTIONIST, TRAINING_PIN

RESTRICTED = patients.BY_NUMBER[patients.RESTRICTED_EXAMPLE]


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Logs and per-user settings go under a throwaway home, so tests can read them (the audit goes beside the
    sandbox, as its client.toml says)."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    return home


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(card_sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run(*arguments, pin=...)``: the CLI against the sandbox, the passcode on standard input; the exit code,
    standard output and standard error."""

    def run_cli(*args: str, pin: str = TRAINING_PIN) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(pin + "\n"))
        code = cli.main(["--config", str(card_sandbox.data.client_config), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run_cli


@pytest.mark.hazard("HAZ-003")
def test_get_set_get_and_the_change_survives_a_restart(run: Run, card_sandbox: Sandbox) -> None:
    def cli_run(*args: str) -> tuple[int, str, str]:
        return run(*args, "--pin-stdin")

    code, out, _ = cli_run("permissions", "get", "9434765919")
    assert code == 0 and "No preference recorded" in out and "943 476 5919" in out
    code, out, _ = cli_run("permissions", "set", "943 476 5919", "--to", "no", "--expressed-by", "in-person")
    assert code == 0 and out.startswith("Saved on Spine at ")
    code, out, _ = cli_run("permissions", "get", "9434765919", "--json")
    assert code == 0 and json.loads(out)["state"] == "no"
    card_sandbox.stop()
    card_sandbox.start()
    code, out, _ = cli_run("permissions", "get", "9434765919", "--json")
    assert json.loads(out)["plain_english"] == "Opted out of the Summary Care Record"


def test_wrong_passcode_is_one_plain_line(run: Run) -> None:
    code, out, err = run("permissions", "get", "9434765919", "--pin-stdin", pin="000000")
    assert code == 1 and out == ""
    assert err.strip() == "The passcode was not correct."


@pytest.mark.hazard("HAZ-001")
def test_bad_nhs_number_is_refused_before_any_sign_in(run: Run) -> None:
    code, out, _ = run("permissions", "get", "9434765918", "--pin-stdin", "--json")
    document = json.loads(out)  # with --json, the one object goes to standard output, failures included
    assert code == 1 and document["field"] == "nhs_number" and "last digit" in document["error"]


@pytest.mark.hazard("HAZ-005")
def test_several_roles_need_a_choice(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSENT_DESKTOP__AUTH__TOKEN_LABEL", GP.token_label)
    code, _, err = run("permissions", "get", "9434765919", "--pin-stdin")
    assert code == 1 and "choose one with --role" in err and GP.roles[1].role_profile_id in err
    code, out, _ = run("permissions", "get", "9434765919", "--pin-stdin", "--role", GP.roles[1].role_profile_id)
    assert code == 0 and "No preference recorded" in out


@pytest.mark.hazard("HAZ-005")
def test_a_role_without_b0020_can_view_but_not_change(
    run: Run, card_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENT_DESKTOP__AUTH__TOKEN_LABEL", ADMIN_NO_B0020.token_label)
    code, _, _ = run("permissions", "get", "9434765919", "--pin-stdin")
    assert code == 0
    code, _, err = run("permissions", "set", "9434765919", "--to", "no", "--expressed-by", "by-phone", "--pin-stdin")
    assert code == 1 and "does not include B0020" in err
    assert card_sandbox.store is not None and card_sandbox.store.changes() == []


@pytest.mark.hazard("HAZ-006")
def test_deceased_patient_consent_is_not_changed(run: Run, card_sandbox: Sandbox) -> None:
    code, _, err = run(
        "permissions", "set", patients.DECEASED_EXAMPLE, "--to", "no", "--expressed-by", "signed-form", "--pin-stdin"
    )
    assert code == 1 and "has died" in err and "Consent changes are blocked" in err
    assert card_sandbox.store is not None and card_sandbox.store.changes() == []


@pytest.fixture
def quick_rechecks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's schedule for reading an unconfirmed change again (about a minute), shortened to seconds."""
    monkeypatch.setattr(cli, "RECHECK_AFTER", (1.0, 2.0, 4.0))


@pytest.mark.hazard("HAZ-004")
@pytest.mark.usefixtures("quick_rechecks")
def test_an_unconfirmable_change_exits_3(run: Run, card_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    assert card_sandbox.store is not None
    card_sandbox.store.set_fault("drop-after-commit", scope="set", times=1)
    card_sandbox.store.set_fault("http-503", scope="get", times=10)  # after the pre-change read
    monkeypatch.setattr(cli, "_change", _change_without_reading_first)
    code, _, err = run("permissions", "set", "9434765919", "--to", "no", "--expressed-by", "in-person", "--pin-stdin")
    assert code == 3 and "check again" in err
    assert "do not send the change again" in err  # the plain next step


@pytest.mark.hazard("HAZ-003", "HAZ-016")
@pytest.mark.usefixtures("quick_rechecks")
def test_a_change_spine_applies_late_is_could_not_confirm_then_saved_never_not_saved(
    run: Run, card_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spine holds the change past the deadline and applies it after the client's re-read: the user is told
    "could not confirm" at once, then "saved" once it has landed; the exit code is the final outcome's."""
    assert card_sandbox.store is not None
    monkeypatch.setenv("CONSENT_DESKTOP__SPINE__CHANGE_DEADLINE", "1.5")
    card_sandbox.store.set_fault("late-commit", "0.5", scope="set", times=1)
    code, out, err = run("permissions", "set", "9434765919", "--to", "no", "--expressed-by", "by-phone", "--pin-stdin")
    assert err.startswith("Could not confirm whether the change was saved"), err
    assert code == 0 and out.startswith("Saved on Spine at "), (out, err)
    assert "NOT saved" not in out + err
    assert card_sandbox.store.assertions("9434765919") == {"Store": "No", "View": "No"}
    assert len({c.message_id for c in card_sandbox.store.changes("9434765919")}) == 1  # sent once
    entries = AuditLog(card_sandbox.data.root / "audit" / "training-audit.jsonl").entries("9434765919")
    [change] = [e for e in entries if e.event == "consent-change"]
    assert change.outcome.startswith("could not confirm")
    assert [e.outcome for e in entries if e.event == "consent-recheck"][-1].startswith("saved")


@pytest.mark.hazard("HAZ-004", "HAZ-014")
@pytest.mark.parametrize(
    ("fault", "exit_code", "headline"), [("", 0, "Saved on Spine at "), ("reject-35160", 1, "NOT saved")]
)
def test_an_audit_failing_after_spine_answered_keeps_the_outcome_and_its_exit_code(
    run: Run, card_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, fault: str, exit_code: int, headline: str
) -> None:
    """Whatever goes wrong writing the local audit, the outcome is told, and exits with its own code; the
    failure is told separately."""
    assert card_sandbox.store is not None
    if fault:
        card_sandbox.store.set_fault(fault, scope="set", times=1)
    append = AuditLog.append

    def broken(log: AuditLog, entry: AuditEntry) -> None:
        if entry.event == "consent-change":
            raise RuntimeError("a fault nobody foresaw")
        append(log, entry)

    monkeypatch.setattr(AuditLog, "append", broken)
    code, out, err = run("permissions", "set", "9434765919", "--to", "no", "--expressed-by", "in-person", "--pin-stdin")
    assert code == exit_code and (out + err).startswith(headline), (out, err)
    assert "Warning: This computer's audit log could not record the change." in out + err
    assert "Something went wrong" not in out + err


@pytest.mark.hazard("HAZ-014", "HAZ-015")
def test_a_note_with_accents_under_an_ascii_locale_is_audited_as_typed(
    card_sandbox: Sandbox, private_home: Path
) -> None:
    """Under LC_ALL=C without UTF-8 mode, Python hands the program the note's bytes as lone surrogates; the
    audit then could not be written (and the outcome was lost as "Something went wrong")."""
    cli_path = Path(sys.executable).with_name("consent-desktop-cli")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "HOME": str(private_home)}
    env.pop("PYTHONIOENCODING", None)
    args = ["--config", str(card_sandbox.data.client_config), "permissions", "set", "9434765919"]
    done = subprocess.run(
        [str(cli_path), *args, "--to", "no", "--expressed-by", "in-person", "--note", "Zoë rang", "--pin-stdin"],
        input=f"{TRAINING_PIN}\n".encode(),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith(b"Saved on Spine at "), done
    entries = AuditLog(card_sandbox.data.root / "audit" / "training-audit.jsonl").entries("9434765919")
    assert [e.note for e in entries if e.event == "consent-change"] == ["Zoë rang"]


def _change_without_reading_first(workstation, nhs, choice, expressed, note):  # type: ignore[no-untyped-def]
    patient = workstation.look_up(nhs)
    return workstation.change_consent(patient, None, choice, expressed, note)


@pytest.mark.hazard("HAZ-006", "HAZ-008")
def test_restricted_patient_location_is_nowhere(run: Run, private_home: Path, card_sandbox: Sandbox) -> None:
    outputs = []
    for extra in ((), ("--json",)):
        code, out, err = run("patient", "show", RESTRICTED.nhs_number, "--pin-stdin", *extra)
        assert code == 0
        outputs.append(out + err)
    code, out, err = run(
        "patient",
        "trace",
        "--family",
        RESTRICTED.family,
        "--given",
        RESTRICTED.given[0],
        "--gender",
        "female",
        "--dob",
        RESTRICTED.born.isoformat(),
        "--pin-stdin",
        "--json",
    )
    assert code == 0 and json.loads(out)["patient"]["restricted"] is True
    outputs.append(out + err)
    assert "Restricted record" in outputs[0]
    assert json.loads(outputs[1])["patient"]["address"] is None
    written = [p.read_text(errors="replace") for p in private_home.rglob("*") if p.is_file()]
    audit = card_sandbox.data.root / "audit" / "training-audit.jsonl"  # the sandbox's client.toml names its folder
    written.append(audit.read_text())
    assert "9990000182" in written[-1]  # the audit recorded the lookup...
    for text in outputs + written:  # ...but nothing anywhere holds where the patient lives
        for secret in (*RESTRICTED.address, RESTRICTED.postcode, RESTRICTED.gp):
            if secret:
                assert secret not in text


@pytest.mark.hazard("HAZ-001")
def test_patient_trace_no_match_and_too_many(run: Run) -> None:
    code, _, err = run(
        "patient", "trace", "--family", "Nobody", "--gender", "male", "--dob", "1970-01-01", "--pin-stdin"
    )
    assert code == 1 and "No patient matches" in err
    code, _, err = run(
        "patient", "trace", "--family", "Hollowquay", "--gender", "female", "--dob", "2019-09-30", "--pin-stdin"
    )
    assert code == 1 and "More than one patient matches" in err


@pytest.mark.hazard("HAZ-012")
def test_diagnose_reports_sources_and_expiry(card_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--config", str(card_sandbox.data.client_config), "diagnose", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"]
    sources = {row["key"]: row["source"] for row in report["settings"]}
    assert sources["spine.endpoint"].startswith("--config file") and sources["spine.read_timeout"]
    assert sources["auth.lock_on_card_removal"] == "default"
    assert any(c["name"].startswith("ACS endpoint") and c["ok"] for c in report["checks"])
    # an expired client certificate is reported, and the exit code says something is wrong
    data = card_sandbox.data
    expired = pki.client_certificate(
        data.tls_ca(), "old endpoint", days=1, not_before=pki.datetime.now(pki.UTC) - pki.timedelta(days=30)
    )
    expired.write(data.pem("client"), data.key("client"))
    code = cli.main(["--config", str(data.client_config), "diagnose"])
    out = capsys.readouterr().out
    assert code == 1 and "FAIL  client certificate" in out and "expired" in out


@pytest.mark.hazard("HAZ-012")
def test_broken_settings_file_names_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[spine]\nread_timeout = 'soon'\n")
    code = cli.main(["--config", str(config), "diagnose"])
    err = capsys.readouterr().err
    assert code == 2 and str(config) in err and "spine.read_timeout" in err


@pytest.mark.hazard("HAZ-014")
def test_a_consent_read_is_audited_and_diagnose_reports_the_audits_health(
    run: Run, card_sandbox: Sandbox, private_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("permissions", "get", "9434765919", "--pin-stdin")[0] == 0
    path = card_sandbox.data.root / "audit" / "training-audit.jsonl"
    [read] = [e for e in AuditLog(path).entries("9434765919") if e.event == "consent-read"]
    assert (read.user_id, read.role_profile_id, read.org_code, read.outcome) == (
        RECEPTIONIST.user_id,
        RECEPTIONIST.roles[0].role_profile_id,
        RECEPTIONIST.roles[0].org_code,
        "ask",
    )
    earlier = private_home / ".local" / "share" / "consent-desktop" / "audit.jsonl"  # an earlier version's
    earlier.parent.mkdir(parents=True)
    earlier.write_text("")

    def audit_checks() -> tuple[int, dict[str, tuple[bool, str]]]:
        code = cli.main(["--config", str(card_sandbox.data.client_config), "diagnose", "--json"])
        checks = json.loads(capsys.readouterr().out)["checks"]
        return code, {c["name"]: (c["ok"], c["detail"]) for c in checks if "audit" in c["name"]}

    code, checks = audit_checks()
    assert code == 0
    assert checks["local audit access"] == (True, "this account's only (folder 0700, files 0600)")
    assert checks["local audit seals"][0] and checks["local audit seals"][1].endswith("entries, intact")
    assert checks["earlier audit"][0] and str(earlier) in checks["earlier audit"][1]

    text = path.read_bytes()
    path.write_bytes(text.replace(b'"outcome": "ask"', b'"outcome": "no!"'))  # one entry edited by hand
    path.chmod(0o644)
    code, checks = audit_checks()
    assert code == 1
    assert not checks["local audit access"][0] and "open to other accounts" in checks["local audit access"][1]
    ok, detail = checks["local audit seals"]
    assert not ok and detail.startswith("The local record of changes on this computer has been altered since ")

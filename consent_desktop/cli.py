"""``consent-desktop-cli``: the same use cases as the desktop app, from a terminal.

Every command that reaches Spine signs in with the smartcard first (PIN from a prompt, or ``--pin-stdin``), and
signs out at the end. Exit codes: 0 success; 1 failure or "not saved"; 2 bad usage or settings; 3 a change
whose outcome could not be confirmed. A change's exit code is always its outcome's, even when the local audit
could not record it (that is said on a line of its own). A change that could not be confirmed is read again a
few times over about a minute (never re-sent), unless ``--no-recheck``. Failures print one plain line;
``--json`` prints one JSON object instead.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import time
import webbrowser
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from consent_desktop import logs
from consent_desktop.auth.session import SessionState
from consent_desktop.config import Settings, default_sources, load_settings
from consent_desktop.controller.assembly import assemble
from consent_desktop.controller.diagnose import diagnose
from consent_desktop.controller.workstation import Workstation
from consent_desktop.domain.consent import (
    RECHECK_AFTER,
    ConsentChoice,
    ConsentRecord,
    ExpressedBy,
    SaveOutcome,
    SaveResult,
)
from consent_desktop.domain.errors import ConfigError, ConsentDesktopError, InvalidInput
from consent_desktop.domain.nhs_number import NhsNumber
from consent_desktop.domain.patient import Patient, TraceOutcome, TraceQuery
from consent_desktop.domain.uk_time import uk_clock_time

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNCONFIRMED = 0, 1, 2, 3
EXPRESSED = {e.name.lower().replace("_", "-"): e for e in ExpressedBy}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one plain line and exit 2, never a traceback
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object")
    signed = _Parser(add_help=False, parents=[common])
    signed.add_argument("--pin-stdin", action="store_true", help="read the smartcard passcode from standard input")
    signed.add_argument("--role", help="role profile id to work in, when you have several")

    parser = _Parser(
        prog="consent-desktop-cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, help="settings over the machine's (security ones in training only)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    permissions = commands.add_parser("permissions", help="read or change a patient's SCR consent")
    actions = permissions.add_subparsers(dest="action", required=True, parser_class=_Parser)
    get = actions.add_parser("get", parents=[signed], help="show the consent Spine holds")
    get.add_argument("nhs_number")
    change = actions.add_parser("set", parents=[signed], help="change the consent on Spine")
    change.add_argument("nhs_number")
    change.add_argument(
        "--to",
        required=True,
        choices=[c.value for c in ConsentChoice],
        help="no: opt out of the SCR; ask: back to the default (ask permission to view)",
    )
    change.add_argument(
        "--expressed-by", required=True, choices=list(EXPRESSED), help="how the patient expressed the choice"
    )
    change.add_argument("--note", default="", help="optional note for the local audit")
    change.add_argument(
        "--no-recheck",
        action="store_true",
        help="report at once when the outcome cannot be confirmed, instead of reading Spine again for a minute",
    )

    patient = commands.add_parser("patient", help="find a patient on PDS")
    queries = patient.add_subparsers(dest="action", required=True, parser_class=_Parser)
    show = queries.add_parser("show", parents=[signed], help="retrieve a patient by NHS number")
    show.add_argument("nhs_number")
    trace = queries.add_parser("trace", parents=[signed], help="search by name, gender and date of birth")
    trace.add_argument("--family", required=True)
    trace.add_argument("--given", default="")
    trace.add_argument("--gender", required=True, help="male, female, not known or not specified")
    trace.add_argument("--dob", required=True, help="date of birth, e.g. 1945-07-14 or 14-Jul-1945")
    trace.add_argument("--postcode", default="")

    commands.add_parser("diagnose", parents=[common], help="check settings, certificates and endpoints")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # an outcome is printed whatever the terminal can show
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = _parser().parse_args(_as_typed(sys.argv[1:] if argv is None else argv))
    output = _Output(json_mode=args.json)
    try:
        logs.configure()  # before the settings, so an ignored override is logged
        settings = load_settings(default_sources(args.config))
        logs.configure(settings.app.log_level)
        if args.command == "diagnose":
            report = diagnose(settings)
            output.diagnose(report)
            return EXIT_OK if report.healthy else EXIT_FAILED
        return _run_signed_in(args, settings, output)
    except ConfigError as error:
        return output.failure(error, EXIT_USAGE)
    except ConsentDesktopError as error:
        return output.failure(error, EXIT_FAILED)
    except Exception:  # a bug: logged in full, reported in one line
        log.exception("unexpected error in the command line tool")
        output.message("Something went wrong inside consent-desktop. The details are in the diagnostic log.", ok=False)
        return EXIT_FAILED


def _as_typed(argv: Sequence[str]) -> list[str]:
    """Arguments as the user typed them. Under a locale that is not UTF-8 (LC_ALL=C, say) Python decodes the
    command line as ASCII and keeps every other byte as a lone surrogate, which nothing can write as UTF-8 — a note
    with an accented letter then broke the audit. The bytes are recovered and read as UTF-8; what is not UTF-8
    is left as it was, for the use case to refuse plainly."""
    typed = []
    for arg in argv:
        try:
            typed.append(os.fsencode(arg).decode("utf-8"))
        except UnicodeError:  # already text (tests, Windows), or bytes that are not UTF-8
            typed.append(arg)
    return typed


def _run_signed_in(args: argparse.Namespace, settings: Settings, output: _Output) -> int:
    command = _command(args, settings)  # parse every argument before asking for a PIN
    workstation = assemble(settings, browser=_open_or_print)
    try:
        workstation.start()
        _sign_in(workstation, args)
        try:
            return command(workstation, output)
        finally:
            _sign_out(workstation)
    finally:
        workstation.close()


def _sign_out(workstation: Workstation) -> None:
    """Signed out locally whatever happens; a service that cannot be told must not hide the command's result."""
    try:
        workstation.sign_out()
    except ConsentDesktopError as error:
        log.warning("sign-out incomplete: %s", error.details)


def _command(args: argparse.Namespace, settings: Settings) -> Callable[[Workstation, _Output], int]:
    if args.command == "permissions":
        nhs = NhsNumber.parse(args.nhs_number)
        if args.action == "get":
            return lambda ws, out: out.consent(ws.load_consent(nhs))
        choice = ConsentChoice.from_cli(args.to)
        expressed = EXPRESSED[args.expressed_by]
        return lambda ws, out: _change_and_settle(ws, out, _change(ws, nhs, choice, expressed, args.note), args)
    if args.action == "show":
        nhs = NhsNumber.parse(args.nhs_number)
        return lambda ws, out: out.patient(ws.look_up(nhs))
    query = TraceQuery.parse(
        family_name=args.family,
        given_name=args.given,
        gender=args.gender,
        date_of_birth=args.dob,
        postcode=args.postcode,
    )
    return lambda ws, out: out.trace(ws.trace(query))


def _change(
    workstation: Workstation, nhs: NhsNumber, choice: ConsentChoice, expressed: ExpressedBy, note: str
) -> SaveResult:
    """As in the app: find the patient (a deceased patient's consent is not changed), read, then change."""
    patient = workstation.look_up(nhs)
    shown = workstation.load_consent(patient.nhs_number)
    return workstation.change_consent(patient, shown, choice, expressed, note)


def _change_and_settle(workstation: Workstation, output: _Output, first: SaveResult, args: argparse.Namespace) -> int:
    """A change that could not be confirmed is read again a few times over about a minute, as the app does: Spine
    may still apply it. Never re-sent; Ctrl+C stops the checking and reports what is known."""
    result = first
    if first.outcome is SaveOutcome.UNCONFIRMED and not args.no_recheck:
        output.progress(first.headline)
        output.progress("Reading Spine again over the next minute to see whether the change arrives (Ctrl+C stops).")
        started = time.monotonic()
        try:
            for after in RECHECK_AFTER:
                time.sleep(max(0.0, started + after - time.monotonic()))
                result = workstation.recheck(result)
                if result.outcome is not SaveOutcome.UNCONFIRMED:
                    break
        except KeyboardInterrupt:
            output.progress("Stopped reading Spine again.")
    return output.saved(result, first=first)


def _sign_in(workstation: Workstation, args: argparse.Namespace) -> None:
    pin = _read_pin(args.pin_stdin) if workstation.parts.sign_in.needs_pin else None
    state = workstation.sign_in(pin)
    if state is SessionState.CHOOSING_ROLE:
        roles = workstation.session.offered_roles
        chosen = args.role
        if chosen is None:
            listed = "; ".join(f"{r.role_profile_id} ({r.label})" for r in roles)
            raise InvalidInput("role", f"You have several roles: choose one with --role. Your roles: {listed}")
        workstation.choose_role(chosen)
    elif state is SessionState.LOCKED:
        raise InvalidInput("card", "The smartcard was removed during sign-in.")


def _open_or_print(url: str) -> bool:
    """CIS2: the system browser, or the address to open by hand when there is none."""
    if not webbrowser.open(url):
        print(f"Open this address in a web browser to sign in:\n{url}", file=sys.stderr)
    return True


def _read_pin(from_stdin: bool) -> bytearray:
    text = sys.stdin.readline().rstrip("\r\n") if from_stdin else getpass.getpass("Smartcard passcode: ")
    pin = bytearray(text.encode("utf-8", "surrogateescape"))  # the bytes typed, whatever the locale
    del text  # the str copy cannot be wiped; drop the reference at once
    return pin


class _Output:
    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode

    def _emit(self, document: dict[str, Any], lines: Sequence[str], *, stream: Any = None) -> None:
        if self.json_mode:
            print(json.dumps(document, ensure_ascii=False, indent=2))
        else:
            print("\n".join(lines), file=stream or sys.stdout)

    def message(self, text: str, *, ok: bool) -> None:
        self._emit({"ok": ok, "message": text}, [text], stream=None if ok else sys.stderr)

    def failure(self, error: ConsentDesktopError, code: int) -> int:
        document: dict[str, Any] = {"ok": False, "error": error.user_message, "retryable": error.retryable}
        if isinstance(error, InvalidInput):
            document["field"] = error.field
        self._emit(document, [error.user_message], stream=sys.stderr)
        return code

    def consent(self, record: ConsentRecord) -> int:
        read_at = record.read_at.astimezone()
        self._emit(
            {
                "ok": True,
                "nhs_number": record.nhs_number.digits,
                "state": record.choice.value,
                "plain_english": record.plain_english,
                "assertions": {a.function.value: a.permission.value for a in record.assertions},
                "notes": list(record.notes),
                "read_at": read_at.isoformat(timespec="seconds"),
            },
            [
                f"NHS No. {record.nhs_number.formatted}: {record.plain_english}",
                *record.notes,
                f"(read from Spine at {uk_clock_time(record.read_at)})",
            ],
        )
        return EXIT_OK

    def progress(self, text: str) -> None:
        """A line while a command is still working (not in JSON mode, whose one object comes at the end)."""
        if not self.json_mode:
            print(text, file=sys.stderr, flush=True)

    def saved(self, result: SaveResult, *, first: SaveResult | None = None) -> int:
        """The outcome, and its exit code, whatever happened to the local audit (a warning says that apart)."""
        document: dict[str, Any] = {
            "ok": result.outcome is SaveOutcome.SAVED,
            "outcome": result.outcome.value,
            "headline": result.headline,
            "requested": result.requested.value,
            "at": result.at.astimezone().isoformat(timespec="seconds"),
            "confirmed_by_reread": result.confirmed_by_reread,
        }
        if result.record is not None:
            document["state_on_spine"] = result.record.choice.value
        if first is not None and first is not result:
            document["first_outcome"] = first.outcome.value
        lines = [result.headline]
        if result.outcome is SaveOutcome.UNCONFIRMED:
            lines.append(
                f"Spine may still apply it. Before telling the patient, read it again later (consent-desktop-cli "
                f"permissions get {result.nhs_number.digits}); do not send the change again."
            )
        if result.warning:
            document["warning"] = result.warning
            lines.append(f"Warning: {result.warning}")
        self._emit(document, lines, stream=sys.stdout if document["ok"] else sys.stderr)
        return {SaveOutcome.SAVED: EXIT_OK, SaveOutcome.NOT_SAVED: EXIT_FAILED}.get(result.outcome, EXIT_UNCONFIRMED)

    def patient(self, patient: Patient) -> int:
        today = date.today()
        self._emit(
            {"ok": True, "patient": patient_json(patient, today)},
            [*(f"{label:<12} {value}" for label, value in patient.banner(today)), *patient.notices],
        )
        return EXIT_OK

    def trace(self, outcome: TraceOutcome) -> int:
        if outcome.patient is None:
            self._emit(
                {"ok": False, "result": outcome.result.value, "message": outcome.message},
                [outcome.message],
                stream=sys.stderr,
            )
            return EXIT_FAILED
        today = date.today()
        self._emit(
            {
                "ok": True,
                "result": outcome.result.value,
                "message": outcome.message,
                "patient": patient_json(outcome.patient, today),
            },
            [
                outcome.message,
                *(f"{label:<12} {value}" for label, value in outcome.patient.banner(today)),
                *outcome.patient.notices,
            ],
        )
        return EXIT_OK

    def diagnose(self, report: Any) -> None:
        self._emit(report.as_json(), report.lines())


def patient_json(patient: Patient, today: date) -> dict[str, Any]:
    """A restricted patient has no address, postcode or GP practice to put here: the model cannot hold them."""
    return {
        "nhs_number": patient.nhs_number.digits,
        "name": patient.display_name,
        "born": patient.born(today),
        "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
        "gender": patient.gender_display,
        "address": None if patient.restricted else list(patient.address_lines or ()),
        "postcode": None if patient.restricted else patient.postcode,
        "gp_practice": None if patient.restricted else patient.gp_practice,
        "date_of_death": patient.date_of_death.isoformat() if patient.date_of_death else None,
        "restricted": patient.restricted,
        "superseded_from": patient.superseded_from.digits if patient.superseded_from else None,
        "notices": list(patient.notices),
    }


if __name__ == "__main__":
    sys.exit(main())

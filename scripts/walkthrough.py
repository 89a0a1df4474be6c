#!/usr/bin/env python3
"""A scripted walk-through of the desktop app in training mode, saving a PNG of every screen at 100% and 200% text.

    .venv/bin/python scripts/walkthrough.py [--out screenshots] [--scale 1.0 --scale 2.0]

It runs the real app (sandbox Spine, software smartcards, the real controller and widgets) on a 1366 x 768 screen:
the display in $DISPLAY, or an Xvfb it starts on a free display number and ends by PID. As a receptionist would, it
signs in, searches, opens a patient, records an opt-out and sees "Saved on Spine" with what to record in the GP
system, prints the slip, looks at the history, takes the training card out to lock and puts it back; then the
other screens: a GP's role choice, a new search closing the patient on screen, a patient at another practice, a
restricted and a deceased patient, a failed search, Spine unavailable, the settings page and a role that cannot
change choices. Each text size gets its own training folder in a temporary directory; nothing touches your own
settings. File names end in the text size: ``05-saved-result-200.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCREEN = (1366, 768)  # the commonest clinical workstation screen
X_SOCKETS = Path("/tmp/.X11-unix")  # noqa: S108 - where X servers put their sockets and lock files
X_LOCKS = Path("/tmp")  # noqa: S108


def free_display() -> int:
    """A display number no X server (or lock file) is using."""
    for number in range(90, 200):
        if not (X_LOCKS / f".X{number}-lock").exists() and not (X_SOCKETS / f"X{number}").exists():
            return number
    raise RuntimeError("no free X display number between :90 and :199")


@contextmanager
def display() -> Iterator[str]:
    """$DISPLAY if there is one; otherwise an Xvfb of our own, ended by its PID when done."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("No display and no Xvfb: install the Debian package xvfb (scripts/bootstrap.sh does).")
    number = free_display()
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [xvfb, f":{number}", "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not (X_SOCKETS / f"X{number}").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"Xvfb did not start on :{number}")
            time.sleep(0.05)
        os.environ["DISPLAY"] = f":{number}"
        print(f"started Xvfb on :{number} (PID {server.pid})")
        yield f":{number}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def walk(out: Path, scale: float, scratch: Path) -> list[Path]:
    # Qt is imported only now, once $DISPLAY is set.
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QDialog, QWidget

    from consent_desktop.app import application, start_app
    from consent_desktop.auth.session import SessionState
    from consent_desktop.domain.consent import ConsentChoice, ExpressedBy
    from consent_desktop.sandbox.patients import (
        DECEASED_EXAMPLE,
        README_EXAMPLE,
        RESTRICTED_EXAMPLE,
        UNKNOWN_EXAMPLE,
    )
    from consent_desktop.sandbox.users import ADMIN_NO_B0020, GP, RECEPTIONIST, TRAINING_PIN
    from consent_desktop.training import TrainingRun
    from consent_desktop.ui import consent_panel, wording
    from consent_desktop.ui.change_dialogs import ChangeConsentDialog, ConfirmChangeDialog
    from consent_desktop.ui.history_dialog import HistoryDialog
    from consent_desktop.ui.text import apply_text_scale

    app = application()
    apply_text_scale(scale)
    suffix = f"-{round(scale * 100)}"
    saved: list[Path] = []
    opted_out, other_practice = "9990000018", "9990000034"

    def wait_until(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit(f"walk-through stuck: waited {timeout:.0f} s for {what}")
            app.processEvents()
            time.sleep(0.02)

    def settle() -> None:
        for _ in range(15):
            app.processEvents()
            time.sleep(0.02)

    def shot(name: str) -> None:
        """The whole screen, as the user sees it: the window and any dialog open over it."""
        settle()
        path = out / f"{len(saved) + 1:02d}-{name}{suffix}.png"
        screen = QGuiApplication.primaryScreen()
        if not screen.grabWindow(0).save(str(path), "PNG", 0):  # 0: the smallest file (PNG loses nothing)
            raise SystemExit(f"could not save {path}")
        saved.append(path)
        print(f"  {path}")

    def dialog_of(kind: type[QDialog]) -> QDialog:
        def visible() -> list[QWidget]:
            return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]

        wait_until(lambda: bool(visible()), f"a {kind.__name__}")
        found = visible()[0]
        assert isinstance(found, QDialog)
        return found

    def sign_in_with(token_label: str) -> None:
        panel = window.sign_in.training
        assert panel is not None
        panel.cards.setCurrentIndex(panel.cards.findData(token_label))
        panel.insert.click()
        wait_until(
            lambda: controller.card_in_reader == token_label and window.sign_in.pin.field.isEnabled(), "the card"
        )
        window.sign_in.pin.field.setText(TRAINING_PIN)
        window.sign_in.pin.button.click()

    def open_patient(nhs_number: str, *, confirm: bool = True) -> None:
        window.look_up(nhs_number)
        wait_until(
            lambda: (p := window.work.banner.patient) is not None
            and nhs_number in (p.nhs_number.digits, p.superseded_from.digits if p.superseded_from else "")
            and (window.work.consent.record is not None or window.work.consent.read_problem.isVisible()),
            f"patient {nhs_number}",
        )
        if confirm:
            window.work.banner.confirm.click()

    # Training mode as a new user meets it: NHS CIS2, the default route, whose sign-in opens in the system browser.
    with TrainingRun(scratch / "training-cis2") as run:
        settings = dataclasses.replace(run.settings, ui=dataclasses.replace(run.settings.ui, text_scale=scale))
        running = start_app(settings, training=run.kit, preferences_path=scratch / "preferences.toml")
        window = running.window
        window.setGeometry(0, 0, *SCREEN)
        window.show()
        window.activateWindow()
        try:
            wait_until(window.sign_in.browser_sign_in.isVisible, "the CIS2 sign-in button")
            shot("sign-in-cis2-default")
        finally:
            window.hide()
            running.controller.shutdown()
            window.deleteLater()
            settle()

    # The legacy route: its screens (passcode, role choice, lock) are the ones a screenshot can show; the default
    # CIS2 sign-in happens in the system browser.
    with TrainingRun(scratch / "training", provider="cis") as run:
        settings = dataclasses.replace(run.settings, ui=dataclasses.replace(run.settings.ui, text_scale=scale))
        running = start_app(settings, training=run.kit, preferences_path=scratch / "preferences.toml")
        controller, window = running.controller, running.window
        window.setGeometry(0, 0, *SCREEN)
        window.show()
        window.activateWindow()
        store = run.sandbox.store
        assert store is not None
        try:
            # A receptionist's day: sign in, find the patient, confirm, record an opt-out, print the slip.
            panel = window.sign_in.training
            assert panel is not None
            panel.cards.setCurrentIndex(panel.cards.findData(RECEPTIONIST.token_label))
            panel.insert.click()
            wait_until(lambda: window.focusWidget() is window.sign_in.pin.field, "the passcode box to be ready")
            shot("sign-in-card-ready")
            window.sign_in.pin.field.setText("000000")
            window.sign_in.pin.button.click()
            wait_until(lambda: "not correct" in window.sign_in.message.text, "the wrong passcode message")
            shot("sign-in-wrong-passcode")
            window.sign_in.pin.field.setText(TRAINING_PIN)
            window.sign_in.pin.button.click()
            wait_until(lambda: window.page is window.work, "the patient screen")
            shot("find-a-patient")

            open_patient(README_EXAMPLE, confirm=False)
            shot("patient-banner-and-choice")
            window.work.banner.confirm.click()
            window.work.consent.change.click()
            change = dialog_of(ChangeConsentDialog)
            assert isinstance(change, ChangeConsentDialog)
            shot("change-dialog")
            change.choose(ConsentChoice.OPTED_OUT, ExpressedBy.SIGNED_FORM, "Form scanned into the GP record.")
            shot("change-dialog-filled")
            change.reject()
            wait_until(lambda: change.question is not None and change.question.isVisible(), "the question")
            shot("close-with-unsaved-choices")
            question = change.question
            assert question is not None
            next(b for b in question.buttons() if b.text() == wording.KEEP_EDITING).click()
            wait_until(lambda: change.question is None, "the question to close")
            change.go.click()
            confirm = dialog_of(ConfirmChangeDialog)
            assert isinstance(confirm, ConfirmChangeDialog)
            shot("check-before-saving")
            confirm.save.click()
            consent = window.work.consent
            wait_until(lambda: consent.result is not None and consent.record is not None, "the saved result")
            shot("saved-on-spine-and-gp-system-entry")

            consent.print_button.click()
            printing = dialog_of(consent_panel.QPrintDialog)
            shot("print-dialog")
            printing.reject()

            consent.history.click()
            history = dialog_of(HistoryDialog)
            assert isinstance(history, HistoryDialog)
            wait_until(lambda: history.table.rowCount() > 0, "the history")
            shot("history")
            history.reject()

            banner = window.training_banner
            assert banner is not None
            banner.remove.click()  # the training card comes out while signed in: the lock, as with a real card
            wait_until(lambda: window.page is window.lock, "the lock screen")
            shot("lock-screen")
            lock_panel = window.lock.training
            assert lock_panel is not None
            lock_panel.insert.click()
            wait_until(lambda: window.focusWidget() is window.lock.pin.field, "the card back in")
            window.lock.pin.field.setText(TRAINING_PIN)
            window.lock.pin.button.click()
            wait_until(lambda: window.page is window.work and window.work.consent.record is not None, "the unlock")
            shot("unlocked-confirm-again")

            # A new search closes the patient on screen at once, before Spine answers.
            store.set_fault("latency", "2.0", scope="pds", times=1)
            window.look_up(opted_out)
            wait_until(lambda: window.work.banner.patient is None, "the patient to close")
            shot("new-search-closes-the-patient")
            open_patient(opted_out, confirm=False)
            shot("opted-out-patient")
            open_patient(other_practice, confirm=False)
            shot("patient-at-another-practice")
            open_patient(RESTRICTED_EXAMPLE)
            shot("restricted-patient")
            open_patient(DECEASED_EXAMPLE)
            shot("deceased-patient")

            window.look_up(UNKNOWN_EXAMPLE)
            wait_until(window.work.search.result.isVisible, "the failed search")
            shot("failed-search-no-patient")
            store.set_fault("http-503", scope="pds")
            window.look_up(README_EXAMPLE)
            wait_until(window.work.search.result.isVisible, "Spine unavailable")
            window.work.search.result.toggle.click()
            shot("spine-unavailable-with-help-desk-details")
            store.clear_faults()

            search = window.work.search
            search.family.setText("Hollowquay")
            search.gender.setCurrentIndex(search.gender.findData("Female"))
            search.birth.setText("30-Sep-2019")
            search.search()
            wait_until(lambda: "More than one" in search.result.text, "the trace result")
            shot("search-by-details-too-many")

            settings_page = window.open_settings()
            shot("settings")
            settings_page.reject()

            controller.sign_out()
            wait_until(lambda: controller.session_state is SessionState.SIGNED_OUT, "signing out")
            sign_in_with(GP.token_label)
            wait_until(lambda: window.page is window.role, "the role choice")
            shot("role-choice")
            window.role.choices.buttons()[0].click()
            window.role.go.click()
            wait_until(lambda: window.page is window.work, "the GP's session")
            controller.sign_out()
            wait_until(lambda: controller.session_state is SessionState.SIGNED_OUT, "signing out")
            sign_in_with(ADMIN_NO_B0020.token_label)
            wait_until(lambda: window.page is window.work, "the secretary's session")
            open_patient(README_EXAMPLE)
            shot("role-that-cannot-change")
        finally:
            window.hide()
            controller.shutdown()
            window.deleteLater()
            settle()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="folder for the PNGs")
    parser.add_argument("--scale", type=float, action="append", help="text size (1.0 is 100%%); repeatable")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    os.environ.pop("QT_QPA_PLATFORM", None)  # a real (or virtual) X display, not offscreen
    saved: list[Path] = []
    with display(), tempfile.TemporaryDirectory(prefix="consent-walkthrough-") as scratch:
        for number, scale in enumerate(args.scale or [1.0, 2.0]):
            saved += walk(out, scale, Path(scratch) / f"run-{number}")
    print(f"{len(saved)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())

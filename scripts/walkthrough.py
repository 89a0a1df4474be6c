#!/usr/bin/env python3
"""A scripted walk-through of the desktop app in training mode, saving a PNG of every screen.

    .venv/bin/python scripts/walkthrough.py [--out screenshots]

It runs the real app (sandbox Spine, software smartcards, the real controller and widgets) under a display: the
one in $DISPLAY, or an Xvfb it starts on a free display number and ends by PID. It signs in with the GP's card
(two roles), searches, opens a patient, changes their consent, shows the history, locks by removing the card,
unlocks, opens a restricted and a deceased patient, the settings view and an error with its details, then a user
whose role cannot change consent. Everything happens in a temporary folder; nothing touches your own settings.
"""

from __future__ import annotations

import argparse
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
SCREEN = (1280, 900)


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


def walk(out: Path) -> list[Path]:
    # Qt is imported only now, once $DISPLAY is set.
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QDialog, QWidget

    from consent_desktop.app import application, start_app
    from consent_desktop.auth.session import SessionState
    from consent_desktop.sandbox.patients import DECEASED_EXAMPLE, README_EXAMPLE, RESTRICTED_EXAMPLE
    from consent_desktop.sandbox.users import ADMIN_NO_B0020, GP, TRAINING_PIN
    from consent_desktop.training import TrainingRun

    app = application()
    saved: list[Path] = []

    def wait_until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit(f"walk-through stuck: waited {timeout:.0f} s for {what}")
            app.processEvents()
            time.sleep(0.02)

    def settle() -> None:
        for _ in range(10):
            app.processEvents()
            time.sleep(0.02)

    def shot(name: str, target: QWidget | None = None) -> None:
        """The window as a user sees it (with any dialog open over it), or one widget."""
        settle()
        path = out / f"{len(saved) + 1:02d}-{name}.png"
        if target is not None:
            image = target.grab()
        else:
            screen = QGuiApplication.primaryScreen()
            frame = window.frameGeometry()
            image = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
        if not image.save(str(path)):
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

    with (
        tempfile.TemporaryDirectory(prefix="consent-walkthrough-") as scratch,
        # The legacy route: its screens (passcode, role choice, lock) are the ones a screenshot can show; the
        # default CIS2 sign-in happens in the system browser.
        TrainingRun(Path(scratch) / "training", provider="cis") as run,
    ):
        running = start_app(run.settings, training=run.kit, preferences_path=Path(scratch) / "preferences.toml")
        controller, window = running.controller, running.window
        window.move(QPoint(0, 0))
        window.resize(1240, 860)
        window.show()
        try:
            from consent_desktop.ui.change_dialogs import ChangeConsentDialog, ConfirmChangeDialog
            from consent_desktop.ui.history_dialog import HistoryDialog

            wait_until(window.sign_in.pin.field.isEnabled, "the card to be ready")
            shot("sign-in")
            window.sign_in.pin.field.setText("000000")
            window.sign_in.pin.button.click()
            wait_until(lambda: "not correct" in window.sign_in.message.text, "the wrong passcode message")
            shot("sign-in-wrong-passcode")

            sign_in_with(GP.token_label)
            wait_until(lambda: window.page is window.role, "the role choice")
            shot("role-choice")
            window.role.choices.buttons()[0].click()
            window.role.go.click()
            wait_until(lambda: window.page is window.work, "the patient screen")

            search = window.work.search
            search.family.setText("Hollowquay")
            search.gender.setCurrentIndex(search.gender.findData("Female"))
            search.birth.setText("30-Sep-2019")
            search.search()
            wait_until(lambda: "More than one" in search.result.text, "the trace result")
            search.nhs.set_number_text("943476")
            shot("search")

            window.look_up(README_EXAMPLE)
            wait_until(lambda: window.work.consent.record is not None, "the patient's consent")
            shot("patient-banner-and-consent")
            window.work.banner.confirm.click()
            shot("identity-confirmed")

            window.work.consent.change.click()
            change = dialog_of(ChangeConsentDialog)
            assert isinstance(change, ChangeConsentDialog)
            from consent_desktop.domain.consent import ConsentChoice, ExpressedBy

            change.choose(ConsentChoice.OPTED_OUT, ExpressedBy.SIGNED_FORM, "Form scanned into the GP record.")
            shot("change-dialog")
            change.go.click()
            confirm = dialog_of(ConfirmChangeDialog)
            assert isinstance(confirm, ConfirmChangeDialog)
            shot("confirmation")
            confirm.save.click()
            wait_until(lambda: window.work.consent.result is not None, "the saved result")
            shot("saved-result")

            window.work.consent.history.click()
            history = dialog_of(HistoryDialog)
            assert isinstance(history, HistoryDialog)
            wait_until(lambda: history.table.rowCount() > 0, "the history")
            shot("history")
            history.reject()

            reader = controller.training_card
            assert reader is not None
            reader.remove()
            wait_until(lambda: window.page is window.lock, "the lock screen")
            shot("lock-screen")
            reader.insert(GP.token_label)
            wait_until(window.lock.pin.field.isEnabled, "the card back in")
            window.lock.pin.field.setText(TRAINING_PIN)
            window.lock.pin.button.click()
            wait_until(lambda: window.page is window.work and window.work.consent.record is not None, "the unlock")

            window.look_up(RESTRICTED_EXAMPLE)
            wait_until(
                lambda: (
                    window.work.consent.record is not None
                    and window.work.banner.patient is not None
                    and window.work.banner.patient.restricted
                ),
                "the restricted patient",
            )
            shot("restricted-patient")

            window.look_up(DECEASED_EXAMPLE)
            wait_until(
                lambda: (
                    window.work.consent.record is not None
                    and window.work.banner.patient is not None
                    and window.work.banner.patient.is_deceased
                ),
                "the deceased patient",
            )
            window.work.banner.confirm.click()
            shot("deceased-patient")

            settings = window.open_settings()
            shot("settings")
            settings.reject()

            assert run.sandbox.store is not None
            run.sandbox.store.set_fault("http-503", scope="get")
            window.look_up("999 000 0018")
            wait_until(window.work.consent.read_problem.isVisible, "the error")
            window.work.consent.read_problem.toggle.click()
            shot("error-with-details")
            run.sandbox.store.clear_faults()

            window.controller.sign_out()
            wait_until(lambda: controller.session_state is SessionState.SIGNED_OUT, "signing out")
            sign_in_with(ADMIN_NO_B0020.token_label)
            wait_until(lambda: window.page is window.work, "the secretary's session")
            window.look_up(README_EXAMPLE)
            wait_until(lambda: window.work.consent.record is not None, "the patient's consent")
            window.work.banner.confirm.click()
            shot("role-without-b0020")
        finally:
            window.hide()
            controller.shutdown()
            window.deleteLater()
            settle()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    os.environ.pop("QT_QPA_PLATFORM", None)  # a real (or virtual) X display, not offscreen
    with display():
        saved = walk(out)
    print(f"{len(saved)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())

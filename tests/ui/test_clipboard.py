"""The clipboard is emptied at lock and sign-out when, and only when, this app filled it.

Who owns the clipboard is a question for a real display server: the offscreen platform the other GUI tests use
cannot answer it. So this runs a small program under Xvfb, with a second program as "another application".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.gui

OTHER_PROGRAM = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    app.clipboard().setText("copied in another program")
    QTimer.singleShot(0, lambda: print("ready", flush=True))
    QTimer.singleShot(30_000, app.quit)  # ended by the test long before this
    app.exec()
    """
)

THIS_APP = textwrap.dedent(
    """
    import subprocess, sys, time
    from PySide6.QtGui import QClipboard
    from PySide6.QtWidgets import QApplication, QLineEdit
    from consent_desktop.ui.forget import forget_session

    app = QApplication([])
    clipboard = app.clipboard()

    def settle(until):
        deadline = time.monotonic() + 5
        while not until() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)

    box = QLineEdit("943 476 5919")
    box.selectAll()
    box.copy()  # as Ctrl+C in the NHS number box would
    settle(lambda: clipboard.ownsClipboard())
    print("ours before:", clipboard.text())
    forget_session()
    print("ours after:", clipboard.text())

    other = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True)
    try:
        other.stdout.readline()
        settle(lambda: not clipboard.ownsClipboard() and clipboard.text())
        print("theirs before:", clipboard.text())
        forget_session()
        print("theirs after:", clipboard.text())
    finally:
        other.kill()
        other.wait()
    """
)


@pytest.mark.hazard("HAZ-007")
def test_what_this_app_copied_is_cleared_and_what_another_program_copied_is_not() -> None:
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.fail("xvfb-run is missing: install the Debian package xvfb (scripts/bootstrap.sh does)")
    environment = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    done = subprocess.run(
        [xvfb_run, "-a", sys.executable, "-c", THIS_APP, OTHER_PROGRAM],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "ours before: 943 476 5919",
        "ours after: ",
        "theirs before: copied in another program",
        "theirs after: copied in another program",
    ]

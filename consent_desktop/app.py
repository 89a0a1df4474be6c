"""``consent-desktop``: the desktop app.

consent-desktop [--config FILE]    against the Spine the settings name
consent-desktop --sandbox          training mode: a local practice Spine and software smartcards
consent-desktop --selftest         check this installation and exit
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from consent_desktop import logs
from consent_desktop.config import Settings, default_sources, load_settings
from consent_desktop.controller.controller import Controller, WorkstationRecipe
from consent_desktop.controller.presence_choice import choose_presence
from consent_desktop.controller.settings_check import check_settings
from consent_desktop.domain.errors import ConsentDesktopError
from consent_desktop.ui.errors import CrashHandler, startup_error_dialog
from consent_desktop.ui.main_window import MainWindow, build_main_window
from consent_desktop.ui.training_panel import TrainingKit

if TYPE_CHECKING:
    from consent_desktop.auth.card import CardPresence
    from consent_desktop.controller.workstation import Workstation

log = logging.getLogger(__name__)
EXIT_CANNOT_START = 2


@dataclass(frozen=True)
class RunningApp:
    controller: Controller
    window: MainWindow


def start_app(
    settings: Settings, *, training: TrainingKit | None = None, preferences_path: Path | None = None
) -> RunningApp:
    """The window and its controller; the workstation behind them is built on the card lane meanwhile, so the
    window is on screen without waiting for the network, card and XML libraries to load. Settings are checked
    here first, so a misconfigured workstation never opens. The caller shows the window, and calls
    ``controller.shutdown()`` at the end; a failure to build arrives as ``controller.failed(error, "start")``."""
    check_settings(settings)
    presence = choose_presence(settings)  # the screen's training reader must be the workstation's own
    recipe = WorkstationRecipe(settings, presence, lambda: _assemble(settings, presence))
    controller = Controller(recipe)
    window = build_main_window(controller, settings, training=training, preferences_path=preferences_path)
    controller.start()
    return RunningApp(controller, window)


def _assemble(settings: Settings, presence: CardPresence) -> Workstation:
    from consent_desktop.controller.assembly import assemble  # on the card lane, not while the window opens

    return assemble(settings, presence=presence)


def _cannot_start(app: QApplication, error: ConsentDesktopError, action: str) -> None:
    """The workstation could not be built (for example the smartcard middleware is missing): say so, then stop."""
    if action != "start":
        return
    log.error("could not start: %s", error.details or type(error).__name__)
    startup_error_dialog(error).exec()
    app.exit(EXIT_CANNOT_START)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="consent-desktop", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--config", type=Path, help="settings over the machine's (security ones in training only)")
    mode.add_argument("--sandbox", action="store_true", help="training mode: no real patient data is involved")
    mode.add_argument("--selftest", action="store_true", help="check this installation and exit")
    parser.add_argument(
        "--provider", choices=("cis", "cis2"), help="with --sandbox: which sign-in to demonstrate (default: cis)"
    )
    return parser


def application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication([sys.argv[0] if sys.argv else "consent-desktop"])
    app.setApplicationName("consent-desktop")
    app.setApplicationDisplayName("Consent Desktop")
    app.setOrganizationName("NHS")
    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.provider and not args.sandbox:
        parser.error("--provider is for training mode (--sandbox); elsewhere the setting auth.provider decides")
    if args.selftest:
        from consent_desktop import selftest

        return selftest.run()
    log_path = logs.configure()
    app = application()
    crashes = CrashHandler(log_path)
    crashes.install()
    try:
        with ExitStack() as stack:
            if args.sandbox:
                from consent_desktop.training import TrainingRun  # the only route from the app to the sandbox

                run = stack.enter_context(TrainingRun(provider=args.provider))
                settings, training = run.settings, run.kit
            else:
                settings, training = load_settings(default_sources(args.config)), None
            logs.configure(settings.app.log_level)
            running = start_app(settings, training=training)
            stack.callback(running.controller.shutdown)  # before the sandbox stops
            running.controller.crashed.connect(crashes.report)
            running.controller.failed.connect(lambda error, action: _cannot_start(app, error, action))
            running.window.show()
            log.info("started%s", " in training mode" if training else "")
            return app.exec()
    except ConsentDesktopError as error:
        log.error("could not start: %s", error.details or type(error).__name__)
        startup_error_dialog(error).exec()
        return EXIT_CANNOT_START
    finally:
        crashes.uninstall()

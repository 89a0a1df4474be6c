"""``consent-desktop-sandbox``: run the local Spine, and switch its faults while it runs."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from consent_desktop.domain.errors import MiddlewareError
from consent_desktop.sandbox import faults, softcard
from consent_desktop.sandbox.datadir import SandboxData
from consent_desktop.sandbox.runtime import Sandbox
from consent_desktop.sandbox.store import Store
from consent_desktop.sandbox.users import TRAINING_PIN


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="consent-desktop-sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the sandbox until interrupted")
    serve.add_argument("--data", type=Path, required=True, help="folder for its state (created on first run)")
    serve.add_argument("--port", type=int, default=0, help="Spine port (default: any free port)")
    serve.add_argument("--identity-port", type=int, default=0, help="sign-in service port (default: any free port)")
    fault = commands.add_parser(
        "fault",
        help="switch a fault on (or 'clear' them all) in a sandbox's data folder",
        description="Faults:\n" + "\n".join(f"  {k.name:20} {k.help}" for k in faults.KINDS.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fault.add_argument("--data", type=Path, required=True)
    fault.add_argument("name", help="a fault name, 'clear' or 'list'")
    fault.add_argument("value", nargs="?", default="", help="seconds, for latency")
    fault.add_argument("--only", default="all", choices=faults.SCOPES, help="which requests it applies to")
    fault.add_argument("--times", type=int, default=None, help="apply to this many requests, then switch off")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args.data, args.port, args.identity_port)
    return _fault(args.data, args.name, args.value, args.only, args.times)


def _serve(data_dir: Path, port: int, identity_port: int) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    cards = _softhsm_installed()
    sandbox = Sandbox(data_dir, port=port, identity_port=identity_port, software_cards=cards).start()
    print(f"listening on {sandbox.spine_url}", flush=True)
    print(f"sign-in service on {sandbox.identity_url}", flush=True)
    print(f"client configuration: {sandbox.data.client_config}", flush=True)
    if cards:
        print(
            f"software smartcards ready (passcode {TRAINING_PIN}); the receptionist's card is in the reader", flush=True
        )
    else:
        print("SoftHSM2 is not installed, so there are no software smartcards to sign in with", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


def _softhsm_installed() -> bool:
    try:
        softcard.softhsm_module()
    except MiddlewareError:
        return False
    return True


def _fault(data_dir: Path, name: str, value: str, scope: str, times: int | None) -> int:
    data = SandboxData(data_dir)
    if not data.database.exists():
        print(
            f"no sandbox data in {data_dir}: start one with 'consent-desktop-sandbox serve --data {data_dir}'",
            file=sys.stderr,
        )
        return 2
    store = Store(data.database)
    try:
        if name == "clear":
            store.clear_faults()
            print("all faults cleared")
            return 0
        if name == "list":
            for f in store.faults():
                left = "until cleared" if f.remaining is None else f"{f.remaining} more"
                print(f"{f.name} {f.value} (only {f.scope}, {left})".replace("  ", " "))
            return 0
        problem = faults.check(name, scope, value)
        if problem:
            print(problem, file=sys.stderr)
            return 2
        store.set_fault(name, value, scope, times)
        print(f"fault {name} on for {scope} requests" + (f", {times} time(s)" if times else ", until cleared"))
        return 0
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())

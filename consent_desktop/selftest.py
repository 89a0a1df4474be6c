"""Checks that this installation, above all a frozen build, has everything the app loads at run time.

``ConsentDesktop --selftest`` runs it: every module of the app imports, the libraries loaded only when a feature
is used import, Spine's XSDs compile from the packaged files, packaged resources load, Qt starts offscreen with
its plugins, and a PDF can be printed. It prints one line per check and returns 0 only when all passed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TextIO

import consent_desktop

# Loaded lazily (card sign-in, printing, icons) or through C extensions that PyInstaller cannot see by itself.
RUNTIME_LIBRARIES = (
    "lxml.etree",
    "httpx",
    "cryptography.x509",
    "platformdirs",
    "pkcs11",
    "smartcard.System",
    "smartcard.scard",
    "PySide6.QtWidgets",
    "PySide6.QtPrintSupport",
    "PySide6.QtSvg",
)
IMAGE_SUFFIXES = frozenset({".png", ".svg", ".ico", ".jpg", ".jpeg", ".bmp", ".gif"})
NATIVE_PLATFORM_PLUGINS = {"win32": "qwindows.dll", "darwin": "libqcocoa.dylib"}  # anything else: X11
X11_PLATFORM_PLUGIN = "libqxcb.so"


class CheckFailed(Exception):
    """A check found problems; each problem is one line of the report."""

    def __init__(self, summary: str, problems: list[str]) -> None:
        super().__init__(summary)
        self.summary = summary
        self.problems = problems


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    summary: str
    problems: list[str] = field(default_factory=list)


def _app_modules() -> Iterator[str]:
    """Every module and package of the app, named, without importing the ``__main__`` scripts (they run)."""
    yield consent_desktop.__name__
    for info in pkgutil.walk_packages(consent_desktop.__path__, f"{consent_desktop.__name__}."):
        if not info.name.endswith(".__main__"):
            yield info.name


def _import_all(names: Iterator[str] | tuple[str, ...], what: str) -> str:
    imported, problems = 0, []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # reported, and the check fails
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
        else:
            imported += 1
    if problems:
        raise CheckFailed(f"{len(problems)} of {imported + len(problems)} {what} failed to import", problems)
    return f"{imported} imported"


def check_modules() -> str:
    return _import_all(_app_modules(), "modules")


def check_libraries() -> str:
    return _import_all(RUNTIME_LIBRARIES, "libraries")


def check_schemas() -> str:
    from consent_desktop.spine import schemas

    problems = []
    names = sorted(schemas.message_names())
    for name in names:
        try:
            schemas.schema(name)
        except Exception as exc:  # reported, and the check fails
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
    if problems:
        raise CheckFailed(f"{len(problems)} of {len(names)} Spine schemas failed to compile", problems)
    return f"{len(names)} Spine schemas compiled"


def _qt_application() -> object:
    from PySide6.QtWidgets import QApplication

    # -platform offscreen: the self-test never shows a window, with or without a display.
    return QApplication.instance() or QApplication(["consent-desktop-selftest", "-platform", "offscreen"])


def check_qt() -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QGuiApplication

    _qt_application()
    native = NATIVE_PLATFORM_PLUGINS.get(sys.platform, X11_PLATFORM_PLUGIN)
    searched = [Path(folder) / "platforms" for folder in QCoreApplication.libraryPaths()]
    if not any((folder / native).is_file() for folder in searched):
        raise CheckFailed(
            f"the native platform plugin {native} is missing",
            [f"looked in {', '.join(str(folder) for folder in searched) or 'no plugin folders'}"],
        )
    return f"PySide6 {pyside_version}, platform {QGuiApplication.platformName()}, {native} present"


def _files_under(folder: Traversable) -> Iterator[Traversable]:
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from _files_under(entry)
        else:
            yield entry


def check_resources() -> str:
    from PySide6.QtGui import QImageReader

    folder = files(consent_desktop.__name__) / "resources"
    if not folder.is_dir():
        return "none packaged"
    _qt_application()  # image plugins (SVG, ICO) come with Qt
    loaded, problems = 0, []
    for resource in _files_under(folder):
        suffix = Path(resource.name).suffix.lower()
        try:
            if suffix in IMAGE_SUFFIXES:
                with as_file(resource) as path:
                    reader = QImageReader(str(path))
                    if reader.read().isNull():
                        problems.append(f"{resource.name}: {reader.errorString()}")
                        continue
            else:
                resource.read_bytes()
        except OSError as exc:
            problems.append(f"{resource.name}: {exc}")
            continue
        loaded += 1
    if problems:
        raise CheckFailed(f"{len(problems)} of {loaded + len(problems)} resources failed to load", problems)
    return f"{loaded} loaded"


def check_pdf() -> str:
    from PySide6.QtGui import QPainter
    from PySide6.QtPrintSupport import QPrinter

    _qt_application()
    with tempfile.TemporaryDirectory(prefix="consent-desktop-selftest-") as folder:
        target = Path(folder) / "selftest.pdf"
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        painter = QPainter()
        if not painter.begin(printer):
            raise CheckFailed("the PDF printer could not start", [])
        painter.drawText(100, 100, "Consent Desktop self-test")
        painter.end()
        content = target.read_bytes() if target.is_file() else b""
    if not content.startswith(b"%PDF-"):
        raise CheckFailed("printing to PDF produced no PDF", [])
    return f"printed a {len(content)}-byte PDF"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("modules", check_modules),
    ("libraries", check_libraries),
    ("schemas", check_schemas),
    ("qt", check_qt),
    ("resources", check_resources),
    ("pdf", check_pdf),
)


def _run_check(name: str, check: Callable[[], str]) -> CheckResult:
    try:
        return CheckResult(name, True, check())
    except CheckFailed as failed:
        return CheckResult(name, False, failed.summary, failed.problems)
    except Exception as exc:  # an unexpected failure is still a failed check, reported below
        return CheckResult(name, False, f"{type(exc).__name__}: {exc}")


def run(out: TextIO | None = None) -> int:
    """Run every check, print a summary to ``out`` (standard output by default), return 0 only if all passed."""
    stream = out if out is not None else sys.stdout
    build = "frozen build" if getattr(sys, "frozen", False) else "from source"
    lines = [f"Consent Desktop self-test ({build}, Python {sys.version.split()[0]})"]
    results = [_run_check(name, check) for name, check in CHECKS]
    for result in results:
        lines.append(f"{'ok  ' if result.passed else 'FAIL'}  {result.name:<10} {result.summary}")
        lines.extend(f"      {problem}" for problem in result.problems)
    failed = [result.name for result in results if not result.passed]
    if failed:
        lines.append(f"self-test FAILED: {', '.join(failed)}")
    else:
        lines.append(f"self-test passed: {len(results)} checks")
    if stream is not None:  # a windowed Windows build has no standard output
        print("\n".join(lines), file=stream, flush=True)
    return 1 if failed else 0

# Replaces PyInstaller's own hook for PySide6.QtGui (hooks from hookspath take precedence) to leave out the GTK
# platform theme: it needs libgtk-3, which is not on every Linux machine, and collecting it drags in the GTK stack.
# Qt falls back to its own theme without it. Windows and macOS have no such plugin, so nothing changes there.
from pathlib import Path

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(source, dest) for source, dest in binaries if Path(source).name != "libqgtk3.so"]

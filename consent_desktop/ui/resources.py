"""The one way to the packaged icons and style sheet (``consent_desktop/resources``).

Read through :mod:`importlib.resources`, never a path next to a source file, so the same code works from a source
checkout, an installed wheel and a frozen build.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

ICON_SIZES = (16, 24, 32, 48, 64)


def resource_bytes(relative: str) -> bytes:
    """The bytes of ``resources/<relative>`` (``/``-separated)."""
    return files("consent_desktop").joinpath("resources", *relative.split("/")).read_bytes()


@cache
def _svg(name: str) -> bytes:
    return resource_bytes(f"icons/{name}.svg")


def load_icons() -> None:
    """Read every icon once, while the window is being built: afterwards showing one reads no file, so the GUI
    thread never touches the disk while someone works."""
    for entry in files("consent_desktop").joinpath("resources", "icons").iterdir():
        if entry.name.endswith(".svg"):
            _svg(entry.name.removesuffix(".svg"))


def pixmap(name: str, size: int, device_pixel_ratio: float = 1.0) -> QPixmap:
    """The icon ``name`` drawn crisply at ``size`` logical pixels."""
    renderer = QSvgRenderer(QByteArray(_svg(name)))
    if not renderer.isValid():
        raise ValueError(f"icon {name!r} is not a valid SVG image")
    physical = max(1, round(size * device_pixel_ratio))
    image = QPixmap(physical, physical)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, physical, physical))
    painter.end()
    image.setDevicePixelRatio(device_pixel_ratio)
    return image


@cache
def icon(name: str) -> QIcon:
    result = QIcon()
    for size in ICON_SIZES:
        result.addPixmap(pixmap(name, size))
    return result


def style_sheet() -> str:
    return resource_bytes("style.qss").decode("utf-8")

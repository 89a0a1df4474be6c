"""Every setting, its value and where it came from; Group Policy settings shown as locked. Only the text size,
a per-user preference, can be changed here."""

from __future__ import annotations

from pathlib import Path

import tomli_w
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from consent_desktop.config import SPECS, Settings, describe, locked_by_policy
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.text import label, named

TEXT_SCALE = "ui.text_scale"
SCALES = (1.0, 1.25, 1.5, 1.75, 2.0)
COLUMNS = ("Setting", "Value", "Where it came from", "Can it be changed here?")
USER_FILE = "per-user file"


def shown_value(value: object) -> str:
    if value is None or value == "":
        return "(not set)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


def who_may_change(settings: Settings, key: str) -> str:
    if locked_by_policy(settings, key):
        return "No \N{EM DASH} locked by Group Policy"
    if key == TEXT_SCALE:
        source = settings.source_of(key)
        if source == "default" or source.startswith(USER_FILE):
            return "Yes \N{EM DASH} your own preference"
        return "No \N{EM DASH} set for this computer"
    return "No \N{EM DASH} a machine setting, changed by IT"


def preferences_file(settings: Settings, text_scale: float) -> bytes:
    """The per-user file with the new text size, keeping any other preference already set there."""
    kept = {
        key.split(".", 1)[1]: settings.value(key)
        for key, spec in SPECS.items()
        if spec.user and key != TEXT_SCALE and settings.source_of(key).startswith(USER_FILE)
    }
    header = "# Your Consent Desktop preferences, written by the app's settings view.\n"
    return (header + tomli_w.dumps({"ui": {**kept, "text_scale": text_scale}})).encode("utf-8")


class SettingsDialog(QDialog):
    text_scale_chosen = Signal(float)

    def __init__(self, settings: Settings, preferences_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        named(self, "Settings")
        self.resize(980, 560)
        self.settings = settings
        intro = label(
            "These are the settings this computer uses. Most are set by your IT team and can only be read here. "
            f"Your text size preference is kept in {preferences_path}."
        )
        self.table = named(QTableWidget(0, len(COLUMNS)), "Settings")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long paths keep both ends; tooltips hold all
        self._fill()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnsToContents()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(2, min(header.sectionSize(2), 320))

        self.scale = named(QComboBox(), "Text size", "Makes all text in the app larger")
        for scale in SCALES:
            self.scale.addItem(f"{round(scale * 100)}%", scale)
        current = settings.ui.text_scale
        if self.scale.findData(current) < 0:
            self.scale.addItem(f"{round(current * 100)}%", current)
        self.scale.setCurrentIndex(self.scale.findData(current))
        caption = QLabel("&Text size")
        caption.setBuddy(self.scale)
        self.apply = named(QPushButton("&Apply"), "Apply the text size")
        self.apply.clicked.connect(self._apply)
        editable = who_may_change(settings, TEXT_SCALE).startswith("Yes")
        self.scale.setEnabled(editable)
        self.apply.setEnabled(editable)
        self.locked = label("" if editable else f"Text size: {who_may_change(settings, TEXT_SCALE)}.")
        row = QHBoxLayout()
        row.addWidget(caption)
        row.addWidget(self.scale)
        row.addWidget(self.apply)
        row.addWidget(self.locked, 1)
        self.message = MessagePanel("Settings message")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        named(buttons.button(QDialogButtonBox.StandardButton.Close), "Close")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def row_for(self, key: str) -> tuple[str, ...]:
        for row in range(self.table.rowCount()):
            cells = tuple(item.text() if (item := self.table.item(row, c)) else "" for c in range(len(COLUMNS)))
            if cells[0] == key:
                return cells
        raise KeyError(key)

    def _fill(self) -> None:
        rows = describe(self.settings)
        self.table.setRowCount(len(rows))
        for row, (key, value, source) in enumerate(rows):
            for column, text in enumerate((key, shown_value(value), source, who_may_change(self.settings, key))):
                item = QTableWidgetItem(text)
                item.setToolTip(SPECS[key].help if column == 0 else text)
                self.table.setItem(row, column, item)

    def _apply(self) -> None:
        scale = self.scale.currentData()
        if isinstance(scale, float):
            self.text_scale_chosen.emit(scale)

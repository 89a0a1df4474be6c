"""Settings as a readable page: each setting in words, its value, where it comes from (default, a file, the
installation, Group Policy), a lock for values Group Policy sets, and overrides that were not used. Nothing secret
is shown. Only the text size, a per-user preference, can be changed here.
"""

from __future__ import annotations

from pathlib import Path, PurePath

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

from consent_desktop.config import SPECS, Settings, locked_by_policy, setting_states
from consent_desktop.ui import wording as w
from consent_desktop.ui.errors import MessagePanel
from consent_desktop.ui.resources import icon
from consent_desktop.ui.text import fit_to_screen, label, named

TEXT_SCALE = "ui.text_scale"
SCALES = (1.0, 1.25, 1.5, 1.75, 2.0)
COLUMNS = w.SETTINGS_COLUMNS
USER_FILE = "per-user file"
_KEY = Qt.ItemDataRole.UserRole  # each row keeps its setting's key, for the help desk and for code


def shown_value(key: str, value: object) -> str:
    if value is None or value == "":
        return w.NOT_SET
    if key in w.HIDDEN_SETTINGS:
        return w.HIDDEN_VALUE
    if isinstance(value, bool):
        return w.YES if value else w.NO
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or w.NONE_SET
    if isinstance(value, str) and value in w.VALUE_WORDS.get(key, {}):
        return w.VALUE_WORDS[key][value]
    if isinstance(value, float) and key == TEXT_SCALE:
        return f"{round(value * 100)}%"
    if isinstance(value, PurePath):
        return str(value).replace("/", "/\N{ZERO WIDTH SPACE}").replace("\\", "\\\N{ZERO WIDTH SPACE}")  # wraps
    return str(value)


def source_words(source: str) -> str:
    """Where a value comes from, in words; the full source (a file's path) stays in the tooltip."""
    return next((words for start, words in w.SOURCE_WORDS if source.startswith(start)), w.SOURCE_OTHER)


def text_size_editable(settings: Settings) -> bool:
    """Only the user's own preference, or the default, may be changed from here."""
    source = settings.source_of(TEXT_SCALE)
    return not locked_by_policy(settings, TEXT_SCALE) and (source == "default" or source.startswith(USER_FILE))


def preferences_file(settings: Settings, text_scale: float) -> bytes:
    """The per-user file with the new text size, keeping any other preference already set there."""
    kept = {
        key.split(".", 1)[1]: settings.value(key)
        for key, spec in SPECS.items()
        if spec.user and key != TEXT_SCALE and settings.source_of(key).startswith(USER_FILE)
    }
    return (w.PREFERENCES_HEADER + tomli_w.dumps({"ui": {**kept, "text_scale": text_scale}})).encode("utf-8")


class SettingsDialog(QDialog):
    text_scale_chosen = Signal(float)

    def __init__(self, settings: Settings, preferences_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(w.SETTINGS_TITLE)
        named(self, w.SETTINGS_TITLE)
        self.settings = settings
        intro = label(w.SETTINGS_INTRO.format(path=preferences_path))
        self.table = named(QTableWidget(0, len(COLUMNS)), w.SETTINGS_TABLE)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self._fill()
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)

        self.scale = named(QComboBox(), w.TEXT_SIZE_NAME, w.TEXT_SIZE_DESCRIPTION)
        for scale in SCALES:
            self.scale.addItem(f"{round(scale * 100)}%", scale)
        current = settings.ui.text_scale
        if self.scale.findData(current) < 0:
            self.scale.addItem(f"{round(current * 100)}%", current)
        self.scale.setCurrentIndex(self.scale.findData(current))
        caption = QLabel(w.TEXT_SIZE)
        caption.setBuddy(self.scale)
        caption.setMinimumWidth(caption.sizeHint().width())
        self.apply = named(QPushButton(w.APPLY), w.APPLY_NAME)
        self.apply.clicked.connect(self._apply)
        editable = text_size_editable(settings)
        self.scale.setEnabled(editable)
        self.apply.setEnabled(editable)
        why = w.TEXT_SIZE_POLICY if locked_by_policy(settings, TEXT_SCALE) else w.TEXT_SIZE_SET_FOR_COMPUTER
        self.locked = label("" if editable else w.TEXT_SIZE_LOCKED.format(why=why))
        row = QHBoxLayout()
        row.setSpacing(self.fontMetrics().horizontalAdvance("M"))
        row.addWidget(caption)
        row.addWidget(self.scale)
        row.addWidget(self.apply)
        row.addWidget(self.locked, 1)
        self.message = MessagePanel(w.SETTINGS_MESSAGE)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        close = named(buttons.button(QDialogButtonBox.StandardButton.Close), w.CLOSE)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        close.setDefault(True)
        (self.scale if editable else close).setFocus()  # the one thing that can be done here
        fit_to_screen(self, 130)
        self.resize(self.width(), self.maximumHeight())

    def row_for(self, key: str) -> tuple[str, ...]:
        """What the row for setting ``key`` says, column by column."""
        for row in range(self.table.rowCount()):
            first = self.table.item(row, 0)
            if first is not None and first.data(_KEY) == key:
                return tuple(item.text() if (item := self.table.item(row, c)) else "" for c in range(len(COLUMNS)))
        raise KeyError(key)

    def is_locked(self, key: str) -> bool:
        """Whether the row for ``key`` shows the Group Policy lock."""
        for row in range(self.table.rowCount()):
            first = self.table.item(row, 0)
            if first is not None and first.data(_KEY) == key:
                return not first.icon().isNull()
        raise KeyError(key)

    def _fill(self) -> None:
        states = setting_states(self.settings)
        self.table.setRowCount(len(states))
        for row, state in enumerate(states):
            key = state.key
            name = QTableWidgetItem(w.SETTING_WORDS.get(key, SPECS[key].help))
            name.setData(_KEY, key)
            name.setToolTip(f"{SPECS[key].help}\n{w.HELP_DESK}: {key}")
            if state.locked_by_policy:
                name.setIcon(icon("lock"))
                name.setToolTip(f"{w.LOCKED_BY_POLICY}\n{name.toolTip()}")
            shown = QTableWidgetItem(shown_value(key, state.value))
            shown.setToolTip(shown.text().replace("\N{ZERO WIDTH SPACE}", ""))
            words = source_words(state.source)
            where = QTableWidgetItem(w.OVERRIDE_NOT_USED.format(where=words) if state.ignored else words)
            where.setToolTip(
                "\n".join(
                    [state.source]
                    + [w.OVERRIDE_NOT_USED_TIP.format(source=o.source, reason=o.reason) for o in state.ignored]
                )
            )
            for column, item in enumerate((name, shown, where)):
                self.table.setItem(row, column, item)

    def _apply(self) -> None:
        scale = self.scale.currentData()
        if isinstance(scale, float):
            self.text_scale_chosen.emit(scale)

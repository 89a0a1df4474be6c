"""The patient banner (NHS CUI): name, born and age, gender, NHS No., then address or the restricted notice, GP
practice and the deceased state; the record's notices; and the "this is the right patient" step."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from consent_desktop.domain.patient import Patient
from consent_desktop.ui.resources import pixmap
from consent_desktop.ui.text import KEYBOARD_SELECTABLE, label, named
from consent_desktop.ui.wording import now

CHECK_IDENTITY = "Check the name, date of birth and address with the patient before changing anything."
CHECK_RESTRICTED = (
    "Check the name and date of birth with the patient before changing anything. The address is not shown."
)


class PatientBanner(QFrame):
    identity_confirmed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientBanner")
        named(self, "Patient banner")
        self.patient: Patient | None = None
        self.name = label(factor=1.5, bold=True, selectable=True)
        self.deceased = QLabel("DECEASED")
        self.deceased.setObjectName("deceasedMarker")
        named(self.deceased, "Deceased")
        top = QHBoxLayout()
        top.addWidget(self.name, 1)
        top.addWidget(self.deceased, 0, Qt.AlignmentFlag.AlignTop)
        self.values: dict[str, QLabel] = {}
        self._captions: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        # CUI: labels without colons; the NHS No. on one line, never cut short, and copyable. One pair per row, so
        # nothing is pushed out of sight however large the text is made.
        for row, caption_text in enumerate(("Born", "Gender", "NHS No.", "Died", "Address", "GP practice")):
            caption = QLabel(caption_text)
            value = label(selectable=True, bold=caption_text in ("NHS No.", "Born", "Died"))
            if caption_text == "NHS No.":
                value.setWordWrap(False)
                value.setTextInteractionFlags(KEYBOARD_SELECTABLE)  # copyable from the keyboard too (CUI)
            grid.addWidget(caption, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, row, 1)
            self._captions[caption_text] = caption
            self.values[caption_text] = value
        grid.setColumnStretch(1, 1)
        self.notices = QVBoxLayout()
        self._notice_labels: list[QWidget] = []
        self.check = label(CHECK_IDENTITY)
        self.confirm = named(
            QPushButton("&This is the right patient"),
            "Confirm this is the right patient",
            "Needed before the patient's consent can be changed",
        )
        self.confirm.clicked.connect(self._confirm)
        self.confirmed = label()
        confirm_row = QHBoxLayout()
        confirm_row.addWidget(self.confirm)
        confirm_row.addWidget(self.confirmed, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addLayout(self.notices)
        layout.addWidget(self.check)
        layout.addLayout(confirm_row)
        self.clear()

    def show_patient(self, patient: Patient, today: date) -> None:
        self.clear()
        self.patient = patient
        rows = dict(patient.banner(today))
        if patient.restricted:
            rows["Address"] = "Not shown (restricted record)"  # the notice below says why, once
        self.name.setText(rows.pop("Name"))
        self.name.setAccessibleName(f"Patient name {self.name.text()}")
        for caption, value in rows.items():
            self.values[caption].setText(value)
            self.values[caption].setAccessibleName(f"{caption} {value}")
            self.values[caption].show()
            self._captions[caption].show()
        self.deceased.setVisible(patient.is_deceased)
        self.setProperty("deceased", patient.is_deceased)
        self.style().unpolish(self)
        self.style().polish(self)
        for notice in patient.notices:
            self._add_notice(notice)
        self.check.setText(CHECK_RESTRICTED if patient.restricted else CHECK_IDENTITY)
        self.check.show()
        self.confirm.setEnabled(True)
        self.confirm.show()
        self.show()

    def clear(self) -> None:
        """Empty every label, not just hide them: a locked screen must hold no patient detail."""
        self.patient = None
        self.name.clear()
        self.name.setAccessibleName("")
        for caption, value in self.values.items():
            value.clear()
            value.setAccessibleName("")
            value.hide()
            self._captions[caption].hide()
        for notice in self._notice_labels:
            self.notices.removeWidget(notice)
            notice.deleteLater()
            for child in notice.findChildren(QLabel):
                child.clear()
        self._notice_labels = []
        self.deceased.hide()
        self.setProperty("deceased", False)
        self.confirmed.clear()
        self.confirm.setEnabled(False)
        self.hide()

    def _add_notice(self, text: str) -> None:
        row = QWidget()
        icon = QLabel()
        icon.setPixmap(pixmap("warning", 20, self.devicePixelRatioF()))
        icon.setAccessibleName("Notice")
        message = label(text, bold=True)
        message.setAccessibleName(f"Notice: {text}")
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(message, 1)
        self.notices.addWidget(row)
        self._notice_labels.append(row)

    def _confirm(self) -> None:
        self.confirm.setEnabled(False)
        self.confirmed.setText(f"You confirmed this is the right patient at {now()}.")
        self.identity_confirmed.emit()

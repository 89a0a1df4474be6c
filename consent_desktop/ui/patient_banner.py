"""The patient banner (NHS CUI): name, born and age, gender, NHS No., then address or the restricted notice, GP
practice and the deceased state; the record's notices; and the "this is the right patient" step.

The registered practice is compared with this workstation's practice (``auth.ods_code``) and the user's role's
organisation. PDS gives the practice's code only, so a name is shown only for our own practice; another practice
is said plainly, with its code, as a notice the user cannot miss.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from consent_desktop.domain.patient import Patient
from consent_desktop.ui import wording as w
from consent_desktop.ui.text import KEYBOARD_SELECTABLE, icon_label, label, named


def practice_words(patient: Patient, ours: Mapping[str, str]) -> tuple[str, str | None]:
    """The banner's GP practice value, and the notice to add when the patient is registered elsewhere.

    ``ours`` maps our practices' codes to their names (a name may be empty when only the code is known)."""
    code = patient.gp_practice
    if patient.restricted:
        return patient.gp_practice_display, None
    if code is None:
        return w.NOT_KNOWN, None
    if code in ours:
        name = ours[code]
        if name:
            return w.THIS_PRACTICE.format(name=name, code=code, dash=w.DASH), None
        return w.THIS_PRACTICE_NO_NAME.format(code=code), None
    if not ours:
        return code, None  # nothing to compare with: the code as PDS gives it
    named_ours = next((name for name in ours.values() if name), w.OUR_PRACTICE)
    return w.OTHER_PRACTICE.format(code=code), w.OTHER_PRACTICE_NOTICE.format(code=code, ours=named_ours)


class PatientBanner(QFrame):
    identity_confirmed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientBanner")
        named(self, w.BANNER)
        self.patient: Patient | None = None
        self.registered_elsewhere = False
        self.name = label(factor=1.5, bold=True, selectable=True)
        self.deceased = QLabel(w.DECEASED)
        self.deceased.setObjectName("deceasedMarker")
        named(self.deceased, w.DECEASED)
        top = QHBoxLayout()
        top.addWidget(self.name, 1)
        top.addWidget(self.deceased, 0, Qt.AlignmentFlag.AlignTop)
        self.values: dict[str, QLabel] = {}
        self._captions: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        # CUI: labels without colons; the NHS No. on one line, never cut short, and copyable. One pair per row, so
        # nothing is pushed out of sight however large the text is made.
        for row, caption_text in enumerate(w.BANNER_CAPTIONS):
            caption = QLabel(caption_text)
            value = label(selectable=True, bold=caption_text in (w.NHS_NO, w.BORN, w.DIED))
            if caption_text == w.NHS_NO:
                value.setWordWrap(False)
                value.setTextInteractionFlags(KEYBOARD_SELECTABLE)  # copyable from the keyboard too (CUI)
            grid.addWidget(caption, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, row, 1)
            self._captions[caption_text] = caption
            self.values[caption_text] = value
        grid.setColumnStretch(1, 1)
        self.notices = QVBoxLayout()
        self._notice_labels: list[QWidget] = []
        self.check = label(w.CHECK_IDENTITY)
        self.confirm = named(QPushButton(w.RIGHT_PATIENT), w.RIGHT_PATIENT_NAME, w.RIGHT_PATIENT_DESCRIPTION)
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

    def show_patient(self, patient: Patient, today: date, ours: Mapping[str, str] | None = None) -> None:
        """``ours``: our practices' codes and names, to say when the patient is registered elsewhere."""
        self.clear()
        self.patient = patient
        rows = dict(patient.banner(today))
        if patient.restricted:
            rows[w.ADDRESS] = w.NOT_SHOWN_RESTRICTED  # the notice below says why, once
        rows[w.GP_PRACTICE], elsewhere = practice_words(patient, ours or {})
        self.registered_elsewhere = elsewhere is not None
        self.name.setText(rows.pop("Name"))
        self.name.setAccessibleName(w.PATIENT_NAME.format(name=self.name.text()))
        for caption, value in rows.items():
            self.values[caption].setText(value)
            self.values[caption].setAccessibleName(f"{caption} {value}")
            self.values[caption].show()
            self._captions[caption].show()
        self.deceased.setVisible(patient.is_deceased)
        self.setProperty("deceased", patient.is_deceased)
        self.style().unpolish(self)
        self.style().polish(self)
        for notice in (*patient.notices, *([elsewhere] if elsewhere else [])):
            self._add_notice(notice)
        self.check.setText(w.CHECK_RESTRICTED if patient.restricted else w.CHECK_IDENTITY)
        self.check.show()
        self.confirm.setEnabled(True)
        self.confirm.show()
        self.show()

    def clear(self) -> None:
        """Empty every label, not just hide them: a locked screen must hold no patient detail."""
        self.patient = None
        self.registered_elsewhere = False
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

    @property
    def notice_texts(self) -> list[str]:
        """The notices as the user reads them, most important first."""
        return [
            text.text() for row in self._notice_labels for text in row.findChildren(QLabel) if text.text()
        ]

    def _add_notice(self, text: str) -> None:
        row = QWidget()
        message = label(text, bold=True)
        message.setAccessibleName(w.NOTICE_PREFIX.format(text=text))
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(icon_label("warning", 20, w.NOTICE), 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(message, 1)
        self.notices.addWidget(row)
        self._notice_labels.append(row)

    def _confirm(self) -> None:
        self.confirm.setEnabled(False)
        self.confirmed.setText(w.CONFIRMED_AT.format(time=w.now()))
        self.identity_confirmed.emit()

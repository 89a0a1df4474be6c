"""The confirmation slip a patient takes away: their name, NHS number, date of birth, the choice now on Spine in
plain English, when, which organisation recorded it, and what the practice records in its GP system. Never an
address, for anyone. In training mode every page carries a TRAINING mark.

Laid out as a QTextDocument and painted page by page (so each page can carry the mark) onto whatever Qt paints
pages on: a printer chosen in Qt's print dialog, or a PDF in memory, which the controller then writes to disk off
the GUI thread.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QPagedPaintDevice, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

from consent_desktop.auth.session import SessionChange
from consent_desktop.domain.consent import SaveResult
from consent_desktop.domain.patient import Patient
from consent_desktop.domain.uk_time import uk_clock_time
from consent_desktop.ui import wording as w

BODY_POINTS = 12  # the slip's own size: what the patient reads does not follow the screen's text size
MARGINS_MM = QMarginsF(20, 20, 20, 20)


@dataclass(frozen=True)
class Slip:
    patient_name: str
    nhs_number: str
    born: str
    choice: str
    consequence: str
    recorded: str
    organisation: str
    gp_entry: str
    training: bool


def slip_for(patient: Patient, result: SaveResult, user: SessionChange, *, training: bool = False) -> Slip:
    role = user.role
    organisation = f"{role.org_name} ({role.org_code})" if role else w.NOT_KNOWN
    recorded_by = user.user_name or w.NOT_KNOWN
    if role is not None:
        recorded_by += f", {role.job_role_name}"
    entry = w.GP_SYSTEM_ENTRY[result.requested]
    return Slip(
        patient_name=patient.display_name,
        nhs_number=patient.nhs_number.formatted,
        born=w.long_date(patient.birth_date) if patient.birth_date else w.NOT_KNOWN,
        choice=w.SLIP_CHOICE[result.requested],
        consequence=w.TO_THE_PATIENT[result.requested],
        recorded=w.SLIP_RECORDED.format(time=uk_clock_time(result.at), date=w.long_date(result.at), who=recorded_by),
        organisation=organisation,
        gp_entry=w.GP_RECORD_ENTRY.format(term=entry.term, concept_id=entry.concept_id),
        training=training,
    )


def slip_html(slip: Slip) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td style='padding:4px 16px 4px 0'>{e(k)}</td><td style='padding:4px 0'><b>{e(v)}</b></td></tr>"
        for k, v in ((w.SLIP_NAME, slip.patient_name), (w.SLIP_NHS_NUMBER, slip.nhs_number), (w.SLIP_BORN, slip.born))
    )
    training = f"<p><b>{e(w.SLIP_TRAINING_LINE)}</b></p>" if slip.training else ""
    return (
        f"{training}<h1>{e(w.SLIP_TITLE)}</h1>"
        f"<p>{e(slip.organisation)}</p>"
        f"<table>{rows}</table>"
        f"<h2>{e(w.SLIP_CHOICE_HEADING)}</h2>"
        f"<p style='font-size:large'><b>{e(slip.choice)}</b></p>"
        f"<p>{e(slip.consequence)}</p>"
        f"<p>{e(slip.recorded)}</p>"
        f"<p>{e(w.SLIP_CORE_ONLY)}</p>"
        f"<p>{e(w.SLIP_CHANGE_ANY_TIME)}</p>"
        f"<p>{e(w.SLIP_FOR_PRACTICE.format(entry=slip.gp_entry))}</p>"
    )


def slip_document(slip: Slip) -> QTextDocument:
    document = QTextDocument()
    document.setDocumentMargin(0)
    font = QFont()
    font.setPointSizeF(BODY_POINTS)
    document.setDefaultFont(font)
    document.setHtml(slip_html(slip))
    return document


def paint_slip(slip: Slip, device: QPagedPaintDevice) -> int:
    """Lay the slip out for ``device``'s page and paint every page, each with the training mark when in training
    mode. Returns the number of pages painted: none when the device could not be opened."""
    document = slip_document(slip)
    document.documentLayout().setPaintDevice(device)  # fonts measured at the page's own resolution
    page = device.pageLayout().paintRectPixels(device.logicalDpiX())
    document.setPageSize(QSizeF(page.width(), page.height()))
    pages = document.pageCount()
    painter = QPainter()
    if not painter.begin(device):
        return 0  # no page could be painted: the printer could not be opened
    try:
        for number in range(pages):
            if number:
                device.newPage()
            if slip.training:  # under the words, so they stay readable
                _training_mark(painter, QRectF(0, 0, page.width(), page.height()))
            top = number * page.height()
            painter.save()
            painter.translate(0, -top)
            document.drawContents(painter, QRectF(0, top, page.width(), page.height()))
            painter.restore()
    finally:
        painter.end()
    return pages


def _training_mark(painter: QPainter, page: QRectF) -> None:
    """TRAINING across the middle of the page, large, pale and slanted, so no one takes it for a real record."""
    painter.save()
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(1, round(page.width() / 6)))
    painter.setFont(font)
    painter.setPen(QColor(215, 215, 215))
    painter.translate(page.center())
    painter.rotate(-35)
    box = QRectF(QPointF(-page.width(), -page.height() / 4), QPointF(page.width(), page.height() / 4))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, w.SLIP_TRAINING)
    painter.restore()


def render_pdf(slip: Slip) -> bytes:
    """An A4 PDF of the slip, in memory."""
    content = QByteArray()
    buffer = QBuffer(content)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle(w.SLIP_TITLE)
    writer.setCreator(w.APP)
    writer.setPageLayout(
        QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, MARGINS_MM)
    )
    paint_slip(slip, writer)
    del writer  # ends the PDF
    buffer.close()
    return bytes(content.data())

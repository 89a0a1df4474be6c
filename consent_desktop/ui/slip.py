"""The confirmation slip a patient takes away: their name, NHS number, date of birth, the choice now on Spine in
plain English, when, and which organisation recorded it. Never an address, for anyone.

Laid out as a QTextDocument and printed to PDF in memory here (quick, on the GUI thread); writing the file is the
controller's job, off the GUI thread.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from consent_desktop.auth.session import SessionChange
from consent_desktop.domain.consent import SaveResult
from consent_desktop.domain.patient import Patient, cui_date
from consent_desktop.ui.wording import TO_THE_PATIENT, when

TITLE = "Your Summary Care Record choice"
DEFAULT_FILE_NAME = "SCR consent confirmation.pdf"


@dataclass(frozen=True)
class Slip:
    patient_name: str
    nhs_number: str
    born: str
    choice: str
    consequence: str
    recorded_at: str
    organisation: str
    recorded_by: str


def slip_for(patient: Patient, result: SaveResult, user: SessionChange) -> Slip:
    role = user.role
    organisation = f"{role.org_name} ({role.org_code})" if role else "Not known"
    recorded_by = user.user_name or "Not known"
    if role is not None:
        recorded_by += f", {role.job_role_name}"
    return Slip(
        patient_name=patient.display_name,
        nhs_number=patient.nhs_number.formatted,
        born=cui_date(patient.birth_date) if patient.birth_date else "Not known",
        choice=result.requested.plain_english,
        consequence=TO_THE_PATIENT[result.requested],
        recorded_at=when(result.at),
        organisation=organisation,
        recorded_by=recorded_by,
    )


def slip_html(slip: Slip) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td style='padding:4px 16px 4px 0'>{e(k)}</td><td style='padding:4px 0'><b>{e(v)}</b></td></tr>"
        for k, v in (
            ("Name", slip.patient_name),
            ("NHS number", slip.nhs_number),
            ("Date of birth", slip.born),
        )
    )
    return (
        f"<h1>{e(TITLE)}</h1>"
        f"<p>{e(slip.organisation)}</p>"
        f"<table>{rows}</table>"
        f"<h2>Your choice, as now recorded on the NHS Spine</h2>"
        f"<p style='font-size:large'><b>{e(slip.choice)}</b></p>"
        f"<p>{e(slip.consequence)}</p>"
        f"<p>Recorded at {e(slip.recorded_at)} by {e(slip.recorded_by)}.</p>"
        "<p>Whether you agreed to share core information only, or core and additional information, is recorded "
        "separately by your GP practice.</p>"
        "<p>You can change your choice at any time: ask your GP practice.</p>"
    )


def slip_document(slip: Slip) -> QTextDocument:
    document = QTextDocument()
    document.setDocumentMargin(0)
    document.setHtml(slip_html(slip))
    return document


def render_pdf(slip: Slip) -> bytes:
    """An A4 PDF of the slip, in memory."""
    content = QByteArray()
    buffer = QBuffer(content)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle(TITLE)
    writer.setCreator("Consent Desktop")
    writer.setPageLayout(
        QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF(20, 20, 20, 20))
    )
    document = slip_document(slip)
    document.print_(writer)
    del writer  # ends the PDF
    buffer.close()
    return bytes(content.data())

"""The slip for the patient: printed through Qt's print dialog (stubbed at its seam: no test machine has a printer
to choose, so the stub picks Qt's own PDF printer) and saved as a PDF; in training mode every page carries the
TRAINING mark, and a live slip never does."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from PySide6.QtCore import QMarginsF, QTimer
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from consent_desktop.ui import consent_panel
from consent_desktop.ui.slip import paint_slip, slip_for
from tests.ui.conftest import Desk
from tests.ui.test_consent import open_patient, save_change

pytestmark = pytest.mark.gui


def pages_of(pdf: bytes) -> list[str]:
    """The words on each page, spaced as a reader sees them."""
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


class PrintDialogStub:
    """Stands where Qt's print dialog would: sends the printer to a PDF file, then answers as the user would."""

    def __init__(self, target: Path, *, accept: bool) -> None:
        self.target, self.accept, self.printers = target, accept, []

    def __call__(self, printer: QPrinter, parent: QWidget) -> QDialog:
        self.printers.append(printer)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(self.target))
        dialog = QDialog(parent)
        QTimer.singleShot(0, dialog.accept if self.accept else dialog.reject)
        return dialog


@pytest.mark.hazard("HAZ-008", "HAZ-010", "HAZ-021")
def test_the_slip_prints_through_the_print_dialog_with_the_training_mark_on_every_page(
    signed_in: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = PrintDialogStub(tmp_path / "printed.pdf", accept=True)
    monkeypatch.setattr(consent_panel, "print_dialog", stub)
    open_patient(signed_in)
    consent = signed_in.window.work.consent
    assert not consent.print_button.isEnabled()  # nothing to confirm yet
    save_change(signed_in)

    consent.print_button.click()

    signed_in.wait(lambda: consent.slip_saved.text == "The slip was sent to the printer.")
    assert len(stub.printers) == 1
    pages = pages_of(stub.target.read_bytes())
    assert pages and all("TRAINING" in page for page in pages)
    text = " ".join(pages)
    for expected in (
        "AMBERLOCK, Winifred (Mrs)",
        "943 476 5919",
        "Opted out of sharing your Summary Care Record",
        "Refused consent for upload to national shared electronic record (SNOMED CT 416308001)",
        "Training mode: this is not a real record.",
    ):
        assert expected in text
    assert "Tallowfield" not in text and "QQ1" not in text  # never an address


def test_cancelling_the_print_dialog_prints_nothing(
    signed_in: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub = PrintDialogStub(tmp_path / "printed.pdf", accept=False)
    monkeypatch.setattr(consent_panel, "print_dialog", stub)
    open_patient(signed_in)
    save_change(signed_in)
    consent = signed_in.window.work.consent

    consent.print_button.click()
    signed_in.wait(lambda: not consent.dialogs)

    assert not stub.target.exists()
    assert not consent.slip_saved.isVisible()


def test_the_seam_is_qt_print_dialog_for_the_printer(qtbot: object) -> None:
    printer = QPrinter()
    parent = QWidget()
    dialog = consent_panel.print_dialog(printer, parent)
    assert isinstance(dialog, QPrintDialog)
    assert dialog.printer() is printer
    parent.deleteLater()


@pytest.mark.hazard("HAZ-010")
def test_every_page_of_a_training_slip_is_marked_and_a_live_slip_never(signed_in: Desk, tmp_path: Path) -> None:
    open_patient(signed_in)
    save_change(signed_in)
    consent = signed_in.window.work.consent
    assert consent.patient is not None and consent.result is not None and consent.user is not None
    saved = tmp_path / "slip.pdf"
    consent.save_slip_to(saved)  # the saved PDF, as the user saves it
    signed_in.wait(lambda: consent.slip_saved.text.startswith("Saved as slip.pdf"))
    assert all("TRAINING" in page for page in pages_of(saved.read_bytes()))

    for training in (True, False):  # a small page: the slip runs over several
        slip = slip_for(consent.patient, consent.result, consent.user, training=training)
        target = tmp_path / f"small-{training}.pdf"
        writer = QPdfWriter(str(target))
        writer.setPageLayout(
            QPageLayout(QPageSize(QPageSize.PageSizeId.A7), QPageLayout.Orientation.Portrait, QMarginsF(5, 5, 5, 5))
        )
        assert paint_slip(slip, writer) >= 2
        del writer
        marked = ["TRAINING" in page for page in pages_of(target.read_bytes())]
        assert len(marked) >= 2
        assert marked == [training] * len(marked)

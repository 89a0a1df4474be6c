"""Text size: 100% to 200% applies to every window and dialog, also when changed in Settings while they are open;
at 200% on a 1366 x 768 screen nothing is cut short, and the result of a save is in view without scrolling."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QWidget

from consent_desktop.domain.consent import ConsentChoice, ExpressedBy
from tests.ui.conftest import Desk
from tests.ui.screen import clipped
from tests.ui.test_consent import open_patient, start_change

pytestmark = pytest.mark.gui

SCREEN = (1366, 768)


def size_of(widget: QWidget) -> float:
    return widget.font().pointSizeF()


def cut_short(desk: Desk, root: QWidget) -> list[str]:
    """What is cut short under ``root`` once its layouts have settled (they settle a moment after new text)."""
    found = clipped(root)
    deadline = 20
    while found and deadline:
        desk.qtbot.wait(50)
        found, deadline = clipped(root), deadline - 1
    return found


def in_view(widget: QWidget, viewport: QWidget) -> bool:
    """Whether all of ``widget`` can be seen in ``viewport`` as things stand (without scrolling)."""
    where = QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size())
    return viewport.rect().contains(where)


def test_text_size_chosen_in_settings_applies_to_every_window_and_dialog(signed_in: Desk) -> None:
    window = signed_in.window
    open_patient(signed_in)
    work = window.work
    banner = window.training_banner
    assert banner is not None
    parts = {
        "NHS number box": work.search.nhs,
        "search group": work.search.findChildren(QWidget)[0],
        "banner value": work.banner.values["Address"],
        "patient name": work.banner.name,
        "consent panel": work.consent,
        "state in words": work.consent.value,
        "status strip": window.status.user,
        "training banner": banner.in_reader,
        "menu": window.menuBar(),
    }
    before = {name: size_of(widget) for name, widget in parts.items()}
    settings = window.open_settings()
    table_before = size_of(settings.table)

    settings.scale.setCurrentIndex(settings.scale.findData(2.0))
    settings.apply.click()
    signed_in.wait(lambda: "saved" in settings.message.text)

    for name, widget in parts.items():
        assert size_of(widget) == pytest.approx(before[name] * 2), name
    assert size_of(settings.table) == pytest.approx(table_before * 2)  # the dialog that was open
    settings.reject()
    work.banner.confirm.click()
    change = start_change(signed_in)  # and a dialog opened afterwards
    assert size_of(change.hint) == pytest.approx(before["NHS number box"] * 2)


@pytest.mark.hazard("HAZ-003")
def test_at_200_percent_on_1366_by_768_nothing_is_cut_short_and_the_result_is_in_view(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(**{"ui.text_scale": 2.0})
    window = desk.window
    window.resize(*SCREEN)
    assert (window.width(), window.height()) == SCREEN
    desk.sign_in()
    assert cut_short(desk, window) == []

    open_patient(desk, confirm=False)
    assert cut_short(desk, window) == []
    window.work.banner.confirm.click()
    change = start_change(desk)
    assert cut_short(desk, change) == []
    change.choose(ConsentChoice.OPTED_OUT, ExpressedBy.SIGNED_FORM, "Signed the form at the desk")
    assert change.go in _in_dialog_view(change)
    change.go.click()
    check = window.work.consent.dialogs[-1]
    assert cut_short(desk, check) == []
    check.save.click()  # type: ignore[attr-defined]
    consent = window.work.consent
    desk.wait(lambda: consent.result is not None and consent.record is not None)
    QApplication.processEvents()  # the page brings the result into view once its layout has settled
    desk.qtbot.wait(50)

    area = window.work.patient_area
    assert consent.outcome.headline.text().startswith("Saved on Spine at ")
    assert in_view(consent.outcome, area.viewport())
    assert not area.horizontalScrollBar().isVisible()  # nothing wider than the screen
    assert not window.work.search_area.horizontalScrollBar().isVisible()
    assert cut_short(desk, window) == []

    consent.history.click()  # the other dialogs, at the same size
    history = consent.history_dialog
    assert history is not None
    desk.wait(lambda: history.table.rowCount() == 1)
    assert cut_short(desk, history) == []
    history.reject()
    settings = window.open_settings()
    assert cut_short(desk, settings) == []


def _in_dialog_view(dialog: QWidget) -> list[QWidget]:
    """The dialog's buttons that can be seen inside it, and inside the screen it is on."""
    screen = dialog.screen().availableGeometry()
    frame = dialog.frameGeometry()
    assert screen.contains(frame) or frame.height() <= screen.height()
    return [b for b in dialog.findChildren(QWidget) if b.isVisible() and dialog.rect().contains(
        QRect(b.mapTo(dialog, QPoint(0, 0)), b.size()))]

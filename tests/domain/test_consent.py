from __future__ import annotations

from datetime import UTC, datetime

import pytest

from consent_desktop.domain.consent import (
    ConsentAssertion,
    ConsentChoice,
    ConsentFunction,
    ConsentRecord,
    Permission,
    SaveOutcome,
    SaveResult,
    SetPermission,
)
from consent_desktop.domain.nhs_number import NhsNumber

NHS = NhsNumber.parse("9434765919")
NOW = datetime(2026, 11, 25, 10, 42, tzinfo=UTC)


def record(*assertions: tuple[ConsentFunction, Permission]) -> ConsentRecord:
    return ConsentRecord(NHS, tuple(ConsentAssertion(f, p) for f, p in assertions), NOW)


@pytest.mark.hazard("HAZ-002")
def test_no_assertion_is_the_default_ask_permission() -> None:
    assert record().choice is ConsentChoice.ASK_PERMISSION
    assert record().plain_english == "No preference recorded \u2014 staff must ask permission to view"
    assert record().notes == ()


@pytest.mark.hazard("HAZ-002")
def test_no_means_opted_out() -> None:
    opted_out = record((ConsentFunction.VIEW, Permission.NO), (ConsentFunction.STORE, Permission.NO))
    assert opted_out.choice is ConsentChoice.OPTED_OUT
    assert opted_out.plain_english == "Opted out of the Summary Care Record"


@pytest.mark.hazard("HAZ-002")
def test_legacy_yes_is_shown_as_ask_with_an_explanation() -> None:
    legacy = record((ConsentFunction.VIEW, Permission.YES))
    assert legacy.choice is ConsentChoice.ASK_PERMISSION
    assert any("older value" in note for note in legacy.notes)


@pytest.mark.hazard("HAZ-002")
def test_view_and_store_disagreeing_is_opted_out_and_explained() -> None:
    mixed = record((ConsentFunction.STORE, Permission.NO))
    assert mixed.choice is ConsentChoice.OPTED_OUT
    assert any("differently" in note for note in mixed.notes)


@pytest.mark.hazard("HAZ-015")
def test_choices_map_to_the_values_spine_accepts_in_a_set() -> None:
    assert ConsentChoice.OPTED_OUT.wire_value is SetPermission.NO
    assert ConsentChoice.ASK_PERMISSION.wire_value is SetPermission.CLEAR
    assert ConsentChoice.from_cli("No") is ConsentChoice.OPTED_OUT
    assert ConsentChoice.from_cli("ask") is ConsentChoice.ASK_PERMISSION


@pytest.mark.hazard("HAZ-003", "HAZ-004")
def test_headlines_are_unmistakable() -> None:
    saved = SaveResult(SaveOutcome.SAVED, NHS, ConsentChoice.OPTED_OUT, NOW, None, confirmed_by_reread=True)
    assert saved.headline.startswith("Saved on Spine at ")
    not_saved = SaveResult(SaveOutcome.NOT_SAVED, NHS, ConsentChoice.OPTED_OUT, NOW, None, "Spine is not available")
    assert not_saved.headline == "NOT saved \u2014 Spine is not available \u2014 nothing changed"
    unknown = SaveResult(SaveOutcome.UNCONFIRMED, NHS, ConsentChoice.OPTED_OUT, NOW, None, "the connection was lost")
    assert unknown.headline.startswith("Could not confirm") and unknown.headline.endswith("check again")

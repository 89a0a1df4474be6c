"""Provisioning the sandbox users' SoftHSM2 software cards."""

from __future__ import annotations

from pathlib import Path

import pytest

from consent_desktop.domain.errors import MiddlewareError
from consent_desktop.sandbox import softcard
from consent_desktop.sandbox.softcard import SoftCards, provision
from consent_desktop.sandbox.users import USERS


@pytest.mark.smartcard
def test_every_sandbox_user_has_a_card_and_the_launcher_gets_what_it_needs(soft_cards: SoftCards) -> None:
    assert soft_cards.token_labels == {user.user_id: user.token_label for user in USERS}
    assert soft_cards.module_path.is_file()
    assert f"directories.tokendir = {soft_cards.conf_path.parent / 'tokens'}" in soft_cards.conf_path.read_text()
    assert soft_cards.card_ca_bundle.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


@pytest.mark.smartcard
def test_provisioning_again_reuses_the_cards(soft_cards: SoftCards) -> None:
    data_dir = soft_cards.conf_path.parent.parent
    tokens = sorted(p.name for p in (data_dir / "cards" / "tokens").iterdir())

    again = provision(data_dir)

    assert again == soft_cards
    # SoftHSM2 names each token's folder with a fresh UUID: the same names mean the same tokens.
    assert sorted(p.name for p in (data_dir / "cards" / "tokens").iterdir()) == tokens


def test_without_softhsm2_provisioning_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(softcard, "_MODULE_DIRS", (str(tmp_path / "nowhere"),))

    with pytest.raises(MiddlewareError) as missing:
        provision(tmp_path / "sandbox")

    assert "SoftHSM2 is not installed" in missing.value.details
    assert "softhsm2" in missing.value.details

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent_desktop.domain.errors import InvalidNhsNumber
from consent_desktop.domain.nhs_number import NhsNumber, check_digit, partial_format


@pytest.mark.parametrize(
    "typed",
    [
        "9434765919",
        "943 476 5919",
        "943-476-5919",
        " 943 476 5919 ",
        "943\u00a0476\u00a05919",
        "943\u2013476\u20135919",
    ],
)
def test_accepts_what_a_receptionist_pastes(typed: str) -> None:
    number = NhsNumber.parse(typed)
    assert number.digits == "9434765919"
    assert number.formatted == "943 476 5919"
    assert str(number) == "943 476 5919"


@pytest.mark.hazard("HAZ-001")
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an NHS number."),
        ("   ", "Enter an NHS number."),
        ("943476591", "An NHS number has 10 digits; this has 9."),
        ("94347659190", "An NHS number has 10 digits; this has 11."),
        ("9434765918", "the last digit does not match"),
        ("94347659l9", "contains only digits"),
        ("943.476.5919", "contains only digits"),
        ("\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19", "contains only digits"),  # full-width
        ("1000000010", "the last digit does not match"),  # check digit would be 10: never valid
    ],
)
def test_rejects_with_a_message_that_says_what_is_wrong(typed: str, message: str) -> None:
    with pytest.raises(InvalidNhsNumber) as raised:
        NhsNumber.parse(typed)
    assert message in raised.value.user_message
    assert raised.value.field == "nhs_number"


@pytest.mark.hazard("HAZ-001")
def test_check_digit_examples_from_nhs_documentation() -> None:
    for number in ("9000000009", "9995000180", "9999999484", "9434765919"):
        assert check_digit(number[:9]) == int(number[9])


def test_test_range_is_recognised() -> None:
    assert NhsNumber.parse("999 000 0018").is_test_range
    assert not NhsNumber.parse("943 476 5919").is_test_range


@pytest.mark.hazard("HAZ-001")
@pytest.mark.parametrize(
    ("typed", "shown"),
    [("9", "9"), ("943", "943"), ("9434", "943 4"), ("943476591", "943 476 591"), ("94347659199", "943 476 5919")],
)
def test_formats_as_typed(typed: str, shown: str) -> None:
    assert partial_format(typed) == shown


@pytest.mark.hazard("HAZ-001")
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_nine_digits_either_complete_to_a_valid_number_or_cannot(first_nine: str) -> None:
    digit = check_digit(first_nine)
    if digit is None:
        for last in "0123456789":
            with pytest.raises(InvalidNhsNumber):
                NhsNumber.parse(first_nine + last)
    else:
        assert NhsNumber.parse(first_nine + str(digit)).digits == first_nine + str(digit)
        wrong = str((digit + 1) % 10)
        with pytest.raises(InvalidNhsNumber):
            NhsNumber.parse(first_nine + wrong)


@pytest.mark.hazard("HAZ-001")
@given(st.text(max_size=30))
def test_arbitrary_text_is_either_a_valid_number_or_a_plain_refusal(text: str) -> None:
    try:
        number = NhsNumber.parse(text)
    except InvalidNhsNumber as refused:
        assert refused.user_message
    else:
        assert len(number.digits) == 10 and number.digits.isdigit()

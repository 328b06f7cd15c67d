"""Fødselsnummer and D-nummer, checked with python-stdnum."""

import datetime as dt

import pytest
from stdnum.no import fodselsnummer

from samhandling.intake.services.identity import IdentityNumberError, identity_number_parse


def make_number(day: int, month: int, year: int, individual: int) -> str:
    """A number with valid check digits for a birth date (synthetic, computed here)."""
    base = f"{day:02d}{month:02d}{year % 100:02d}{individual:03d}"
    first = fodselsnummer.calc_check_digit1(base)
    second = fodselsnummer.calc_check_digit2(base + first)
    return base + first + second


def valid_number(day: int, month: int, year: int, *, d_number: bool = False) -> str:
    start = 500 if year >= 2000 else 100
    for individual in range(start, start + 100):
        number = make_number(day + (40 if d_number else 0), month, year, individual)
        if fodselsnummer.is_valid(number):
            return number
    raise AssertionError("no valid number found")


TODAY = dt.date(2026, 12, 1)


def test_a_fodselsnummer_gives_the_birth_date_and_age():
    parsed = identity_number_parse(valid_number(15, 6, 2011), today=TODAY)
    assert parsed.birth_date == dt.date(2011, 6, 15)
    assert not parsed.is_d_number
    assert parsed.age_on(TODAY) == 15
    assert parsed.age_on(dt.date(2026, 6, 14)) == 14


def test_a_d_number_is_recognised_and_gives_the_birth_date():
    parsed = identity_number_parse(valid_number(3, 2, 1990, d_number=True), today=TODAY)
    assert parsed.is_d_number
    assert parsed.birth_date == dt.date(1990, 2, 3)


def test_spaces_are_allowed():
    number = valid_number(1, 1, 2010)
    assert identity_number_parse(f"{number[:6]} {number[6:]}", today=TODAY).number == number


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter the identity number"),
        ("1234", "11 digits"),
        ("0101105008x", "11 digits"),
        ("123456789012", "11 digits"),
    ],
)
def test_malformed_numbers_get_a_clear_message(value, message):
    with pytest.raises(IdentityNumberError, match=message):
        identity_number_parse(value, today=TODAY)


def test_a_wrong_check_digit_is_refused_without_repeating_the_number():
    number = valid_number(15, 6, 2011)
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(IdentityNumberError) as caught:
        identity_number_parse(wrong, today=TODAY)
    assert "check the digits" in str(caught.value)
    assert wrong not in str(caught.value)


def checksummed(day: int, month: int, year: int) -> str:
    """Right check digits for a date that stdnum refuses (in the future, or impossible)."""
    for individual in range(500, 600):
        number = make_number(day, month, year, individual)
        if number.isdigit():
            return number
    raise AssertionError("no number with digit check digits found")


@pytest.mark.parametrize(("day", "month", "year"), [(1, 1, 2030), (31, 2, 2010)])
def test_a_birth_date_in_the_future_or_impossible_is_refused(day, month, year):
    with pytest.raises(IdentityNumberError, match="not valid or lies in the future"):
        identity_number_parse(checksummed(day, month, year), today=TODAY)


def test_a_birth_date_after_the_given_day_is_refused():
    number = valid_number(1, 6, 2026)
    with pytest.raises(IdentityNumberError, match="future"):
        identity_number_parse(number, today=dt.date(2026, 5, 31))
    assert identity_number_parse(number, today=dt.date(2026, 6, 1)).age_on(TODAY) == 0

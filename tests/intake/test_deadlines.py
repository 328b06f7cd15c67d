"""The statutory assessment deadline: 10 working days, weekends and public holidays excluded."""

import datetime as dt

import pytest

from samhandling.intake.services.deadlines import (
    deadline_state,
    is_working_day,
    working_days_after,
    working_days_between,
)

D = dt.date


@pytest.mark.parametrize(
    ("received", "deadline", "why"),
    [
        # Maundy Thursday, Good Friday and Easter Monday 2026 (2, 3 and 6 April).
        (D(2026, 4, 1), D(2026, 4, 20), "Easter 2026"),
        # Easter 2027: 25, 26 and 29 March.
        (D(2027, 3, 23), D(2027, 4, 9), "Easter 2027"),
        # 17 May 2027 is a Monday (and Whit Monday the same day); Ascension is 6 May.
        (D(2027, 5, 7), D(2027, 5, 24), "17 May 2027"),
        # 17 May 2026 is a Sunday, but Ascension Day (14 May) and Whit Monday (25 May) fall in.
        (D(2026, 5, 12), D(2026, 5, 28), "Ascension and Whitsun 2026"),
        # Christmas Day and New Year's Day; Christmas Eve and New Year's Eve are working days.
        (D(2026, 12, 21), D(2027, 1, 6), "Christmas and New Year 2026"),
        # Received on a Saturday: counting starts on Monday.
        (D(2026, 11, 28), D(2026, 12, 11), "received on a weekend"),
    ],
)
def test_the_assessment_deadline_skips_weekends_and_public_holidays(received, deadline, why):
    assert working_days_after(received, 10) == deadline, why
    assert working_days_between(received, deadline) == 10


@pytest.mark.parametrize(
    "holiday",
    [D(2026, 4, 2), D(2026, 4, 3), D(2026, 4, 6), D(2026, 5, 1), D(2027, 5, 17), D(2026, 12, 25)],
)
def test_public_holidays_are_not_working_days(holiday):
    assert not is_working_day(holiday)


def test_christmas_eve_is_a_working_day_unless_the_program_closes():
    christmas_eve = D(2026, 12, 24)
    assert is_working_day(christmas_eve)
    assert not is_working_day(christmas_eve, closed=[christmas_eve])
    assert working_days_after(D(2026, 12, 21), 10, closed=[christmas_eve]) == D(2027, 1, 7)


def test_zero_days_is_the_day_itself_and_negative_days_are_refused():
    assert working_days_after(D(2026, 4, 1), 0) == D(2026, 4, 1)
    with pytest.raises(ValueError, match="negative"):
        working_days_after(D(2026, 4, 1), -1)


def test_working_days_between_counts_backwards_as_negative():
    assert working_days_between(D(2026, 4, 20), D(2026, 4, 1)) == -10


def test_a_deadline_warns_three_working_days_before_and_is_breached_the_day_after():
    deadline = D(2026, 4, 20)  # a Monday
    assert not deadline_state(deadline=deadline, today=D(2026, 4, 14)).is_warning
    warned = deadline_state(deadline=deadline, today=D(2026, 4, 15))
    assert (warned.is_warning, warned.working_days_left) == (True, 3)
    on_the_day = deadline_state(deadline=deadline, today=deadline)
    assert (on_the_day.is_warning, on_the_day.is_breached) == (True, False)
    late = deadline_state(deadline=deadline, today=D(2026, 4, 21))
    assert (late.is_breached, late.is_warning, late.working_days_left) == (True, False, -1)

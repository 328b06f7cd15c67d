"""Working-day deadlines: the statutory assessment deadline and answers to advice requests.

A working day is Monday to Friday and not a Norwegian public holiday (from the `holidays`
package, as the directory's opening hours use). Christmas Eve and New Year's Eve are not
public holidays in Norway; a program that closes on them lists them as extra closed days.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from samhandling.directory.services.opening import is_public_holiday

ASSESSMENT_WORKING_DAYS = 10
WARNING_WORKING_DAYS = 3


def is_working_day(day: dt.date, *, closed: Iterable[dt.date] = ()) -> bool:
    return day.weekday() < 5 and not is_public_holiday(day) and day not in set(closed)


def working_days_after(start: dt.date, days: int, *, closed: Iterable[dt.date] = ()) -> dt.date:
    """The date `days` working days after `start` (the day of receipt does not count)."""
    if days < 0:
        raise ValueError("days must not be negative")
    closed = set(closed)
    day, counted = start, 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day, closed=closed):
            counted += 1
    return day


def working_days_between(start: dt.date, end: dt.date, *, closed: Iterable[dt.date] = ()) -> int:
    """Working days after `start` up to and including `end`; negative if `end` is earlier."""
    if end < start:
        return -working_days_between(end, start, closed=closed)
    closed = set(closed)
    return sum(
        is_working_day(start + dt.timedelta(days=n), closed=closed)
        for n in range(1, (end - start).days + 1)
    )


@dataclass(frozen=True)
class DeadlineState:
    deadline: dt.date
    working_days_left: int
    is_breached: bool
    is_warning: bool


def deadline_state(
    *,
    deadline: dt.date,
    today: dt.date,
    warning_days: int = WARNING_WORKING_DAYS,
    closed: Iterable[dt.date] = (),
) -> DeadlineState:
    """How a deadline stands today: breached after the day itself, warned `warning_days`
    working days before."""
    left = working_days_between(today, deadline, closed=closed)
    breached = today > deadline
    return DeadlineState(
        deadline=deadline,
        working_days_left=left,
        is_breached=breached,
        is_warning=not breached and left <= warning_days,
    )

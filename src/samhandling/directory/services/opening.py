"""Opening hours: the weekly pattern, dated exceptions, Norwegian public holidays.

The rules, in order, all in Europe/Oslo local time:
1. `always_open` services are open at every moment.
2. If the service has OpeningException rows for the date, they replace the weekly pattern
   that day: the service is open only inside the intervals of its non-closed rows (a date
   with only `closed` rows is closed all day).
3. Otherwise, on a Norwegian public holiday the service is closed unless `open_on_holidays`.
4. Otherwise the weekly OpeningHours intervals of that weekday apply.
An interval includes its opening time and excludes its closing time (opens <= t < closes).

`service_is_open` (Python, one service) and `services_open_at` (SQL, a queryset) implement
the same rules and are tested against the same fixtures.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from samhandling.directory.models import OpeningException, OpeningHours, Service, Weekday

OSLO = ZoneInfo("Europe/Oslo")
NEXT_OPENING_DAYS = 14
UPCOMING_DAYS = 60

Interval = tuple[dt.time, dt.time]


# --- time and holidays ------------------------------------------------------------------


def local_moment(at: dt.datetime) -> dt.datetime:
    """`at` in Oslo time, to whole seconds (SQL and Python then compare the same value)."""
    if timezone.is_naive(at):
        at = at.replace(tzinfo=OSLO)
    return at.astimezone(OSLO).replace(microsecond=0)


@lru_cache(maxsize=64)
def _norway(year: int, language: str) -> holidays.HolidayBase:
    return holidays.Norway(years=year, include_sundays=False, language=language)


def _holiday_language() -> str:
    # The package names Norwegian holidays in bokmål ("no") or English only.
    return "en_US" if (get_language() or "nb")[:2] == "en" else "no"


def public_holiday_name(day: dt.date) -> str | None:
    """The name of the Norwegian public holiday on `day`, or None on an ordinary day."""
    return _norway(day.year, _holiday_language()).get(day)


def is_public_holiday(day: dt.date) -> bool:
    """Whether `day` is a Norwegian public holiday (ordinary Sundays are not)."""
    return day in _norway(day.year, "no")


def public_holidays_between(start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    """Public holidays from `start` to `end`, both included, with their names."""
    language = _holiday_language()
    found: list[tuple[dt.date, str]] = []
    for year in range(start.year, end.year + 1):
        found.extend(
            (day, name) for day, name in _norway(year, language).items() if start <= day <= end
        )
    return sorted(found)


# --- one service, in Python -------------------------------------------------------------


def _merged(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted intervals with overlapping and touching ones joined."""
    merged: list[list[dt.time]] = []
    for opens, closes in sorted(intervals):
        if merged and opens <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], closes)
        else:
            merged.append([opens, closes])
    return [(opens, closes) for opens, closes in merged]


def _exception_rows(service: Service) -> Iterable[Any]:
    # The search attaches the rows as tuples (search.attach_links); others prefetch them.
    linked = getattr(service, "linked_exceptions", None)
    return linked if linked is not None else service.exceptions.all()


def _hours_rows(service: Service) -> Iterable[Any]:
    linked = getattr(service, "linked_hours", None)
    return linked if linked is not None else service.hours.all()


def _exceptions_by_date(service: Service) -> dict[dt.date, list[OpeningException]]:
    by_date: dict[dt.date, list[OpeningException]] = {}
    for row in _exception_rows(service):
        by_date.setdefault(row.date, []).append(row)
    return by_date


def _weekly_by_day(service: Service) -> dict[int, list[Interval]]:
    by_day: dict[int, list[Interval]] = {}
    for row in _hours_rows(service):
        by_day.setdefault(row.weekday, []).append((row.opens, row.closes))
    return by_day


def _intervals_on(
    service: Service,
    day: dt.date,
    weekly: dict[int, list[Interval]],
    exceptions: dict[dt.date, list[OpeningException]],
) -> list[Interval]:
    """The opening intervals of `day` once exceptions and holidays are applied."""
    if day in exceptions:
        return _merged((e.opens, e.closes) for e in exceptions[day] if not e.closed)
    if is_public_holiday(day) and not service.open_on_holidays:
        return []
    return _merged(weekly.get(day.weekday(), []))


def service_intervals_on(*, service: Service, day: dt.date) -> list[Interval]:
    """The opening intervals of one date for a service that is not `always_open`."""
    return _intervals_on(service, day, _weekly_by_day(service), _exceptions_by_date(service))


def service_is_open(*, service: Service, at: dt.datetime) -> bool:
    """Whether the service is open at the moment `at`."""
    if service.always_open:
        return True
    local = local_moment(at)
    now = local.time()
    intervals = service_intervals_on(service=service, day=local.date())
    return any(opens <= now < closes for opens, closes in intervals)


@dataclass(frozen=True)
class OpeningStatus:
    is_open: bool
    always_open: bool = False
    closes_at: dt.datetime | None = None
    next_opening: dt.datetime | None = None


def _aware(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=OSLO)


def service_opening_status(*, service: Service, at: dt.datetime) -> OpeningStatus:
    """Open now and until when, or when it opens next (within two weeks)."""
    if service.always_open:
        return OpeningStatus(is_open=True, always_open=True)
    local = local_moment(at)
    now = local.time()
    weekly, exceptions = _weekly_by_day(service), _exceptions_by_date(service)
    for offset in range(NEXT_OPENING_DAYS + 1):
        day = local.date() + dt.timedelta(days=offset)
        for opens, closes in _intervals_on(service, day, weekly, exceptions):
            if offset == 0 and opens <= now < closes:
                return OpeningStatus(is_open=True, closes_at=_aware(day, closes))
            if offset > 0 or opens > now:
                return OpeningStatus(is_open=False, next_opening=_aware(day, opens))
    return OpeningStatus(is_open=False)


def service_next_opening(*, service: Service, at: dt.datetime) -> dt.datetime | None:
    """When the service next opens after `at`; `at` itself if open; None if not in 14 days."""
    status = service_opening_status(service=service, at=at)
    if status.is_open:
        return local_moment(at)
    return status.next_opening


# --- many services, in SQL --------------------------------------------------------------


def open_at_q(*, at: dt.datetime, per_row: bool = False) -> Q:
    """A Q on Service that holds when the service is open at `at` (same rules as above).

    The weekly hours of a weekday are many rows. `per_row=False` reads the services open by
    them once, as a list: best when most services are candidates. `per_row=True` looks up
    each candidate's own hours through the service index: best when other filters (a
    municipality) leave only a few hundred candidates. Exceptions of one date are few rows:
    always read once.
    """
    local = local_moment(at)
    day, now = local.date(), local.time()
    excepted = OpeningException.objects.filter(date=day).values("service_id")
    open_by_exception = OpeningException.objects.filter(
        date=day, closed=False, opens__lte=now, closes__gt=now
    ).values("service_id")
    if per_row:
        # "weekday + 0" keeps SQLite (which has no statistics) off the (weekday, opens,
        # closes) index, which would scan a whole weekday for every candidate service.
        open_by_week = OpeningHours.objects.alias(day_of_week=F("weekday") + 0).filter(
            service_id=OuterRef("pk"), day_of_week=day.weekday(), opens__lte=now, closes__gt=now
        )
        usual_day = Q(Exists(open_by_week))
    else:
        open_by_week = OpeningHours.objects.filter(
            weekday=day.weekday(), opens__lte=now, closes__gt=now
        ).values("service_id")
        usual_day = Q(pk__in=open_by_week)
    usual_day &= ~Q(pk__in=excepted)
    if is_public_holiday(day):
        usual_day &= Q(open_on_holidays=True)
    return Q(always_open=True) | Q(pk__in=open_by_exception) | usual_day


def services_open_at(
    queryset: QuerySet[Service], *, at: dt.datetime, per_row: bool = False
) -> QuerySet[Service]:
    """The services of `queryset` that are open at `at`, filtered in SQL."""
    return queryset.filter(open_at_q(at=at, per_row=per_row))


# --- for display ------------------------------------------------------------------------


@dataclass(frozen=True)
class DayHours:
    weekday: int
    label: str
    intervals: list[Interval]


@dataclass(frozen=True)
class SpecialDay:
    """A coming date that departs from the weekly pattern: an exception or a holiday."""

    date: dt.date
    intervals: list[Interval]
    holiday: str | None = None
    notes: list[str] = field(default_factory=list)
    is_exception: bool = False

    @property
    def closed(self) -> bool:
        return not self.intervals


@dataclass(frozen=True)
class ServiceWeek:
    always_open: bool
    open_on_holidays: bool
    days: list[DayHours]
    special_days: list[SpecialDay]

    @property
    def has_hours(self) -> bool:
        return self.always_open or any(d.intervals for d in self.days)


def service_week(*, service: Service, at: dt.datetime, days: int = UPCOMING_DAYS) -> ServiceWeek:
    """The weekly hours Monday to Sunday, and the coming exceptions and holidays."""
    weekly = _weekly_by_day(service)
    week = [DayHours(d.value, str(d.label), _merged(weekly.get(d.value, []))) for d in Weekday]
    start = local_moment(at).date()
    end = start + dt.timedelta(days=days)
    exceptions = {
        day: rows for day, rows in _exceptions_by_date(service).items() if start <= day <= end
    }
    holiday_names = dict(public_holidays_between(start, end))
    special = [
        SpecialDay(
            date=day,
            intervals=_intervals_on(service, day, weekly, exceptions),
            holiday=holiday_names.get(day),
            notes=[row.note for row in exceptions.get(day, []) if row.note],
            is_exception=day in exceptions,
        )
        for day in sorted(set(exceptions) | set(holiday_names))
    ]
    if service.always_open:
        # Open around the clock: exceptions and holidays do not apply.
        special = []
    return ServiceWeek(
        always_open=service.always_open,
        open_on_holidays=service.open_on_holidays,
        days=week,
        special_days=special,
    )

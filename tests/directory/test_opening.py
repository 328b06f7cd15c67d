import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from samhandling.directory.models import Service
from samhandling.directory.services.opening import (
    public_holiday_name,
    service_is_open,
    service_next_opening,
    service_opening_status,
    service_week,
    services_open_at,
)
from tests.directory.factories import ServiceFactory, add_exception

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")


def at(year, month, day, hour=10, minute=0, second=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=OSLO)


def open_in_sql(service: Service, moment: dt.datetime, *, per_row: bool) -> bool:
    candidates = Service.objects.filter(pk=service.pk)
    return services_open_at(candidates, at=moment, per_row=per_row).exists()


def open_both_ways(service: Service, moment: dt.datetime) -> bool:
    """Whether the service is open, asserting that Python and both SQL forms agree."""
    fresh = Service.objects.get(pk=service.pk)
    in_python = service_is_open(service=fresh, at=moment)
    for per_row in (False, True):
        in_sql = open_in_sql(service, moment, per_row=per_row)
        assert in_python == in_sql, f"Python and SQL (per_row={per_row}) disagree at {moment}"
    return in_python


# --- the weekly pattern -----------------------------------------------------------------


def test_weekday_service_is_open_on_a_tuesday_morning():
    service = ServiceFactory()
    assert open_both_ways(service, at(2026, 5, 12, 10))


def test_weekday_service_is_closed_on_saturday_and_sunday():
    service = ServiceFactory()
    assert not open_both_ways(service, at(2026, 5, 9, 10))
    assert not open_both_ways(service, at(2026, 5, 10, 10))


def test_opening_time_is_inclusive():
    service = ServiceFactory()
    assert open_both_ways(service, at(2026, 5, 12, 8, 0, 0))
    assert not open_both_ways(service, at(2026, 5, 12, 7, 59, 59))


def test_closing_time_is_exclusive():
    service = ServiceFactory()
    assert open_both_ways(service, at(2026, 5, 12, 15, 59, 59))
    assert not open_both_ways(service, at(2026, 5, 12, 16, 0, 0))


def test_split_day_is_closed_in_the_gap_between_intervals():
    service = ServiceFactory(weekly_hours=[(1, "08:00", "11:00"), (1, "13:00", "20:00")])
    assert open_both_ways(service, at(2026, 5, 12, 10, 59))
    assert not open_both_ways(service, at(2026, 5, 12, 12))
    assert open_both_ways(service, at(2026, 5, 12, 19, 30))


def test_moment_in_utc_is_judged_in_oslo_time():
    service = ServiceFactory()
    # 06:30 UTC is 08:30 in Oslo in summer time, 05:30 UTC is 07:30.
    assert open_both_ways(service, dt.datetime(2026, 5, 12, 6, 30, tzinfo=dt.UTC))
    assert not open_both_ways(service, dt.datetime(2026, 5, 12, 5, 30, tzinfo=dt.UTC))


def test_service_without_hours_is_never_open():
    service = ServiceFactory(weekly_hours=[])
    assert not open_both_ways(service, at(2026, 5, 12, 10))


# --- public holidays --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (dt.date(2026, 4, 2), "Maundy Thursday"),
        (dt.date(2026, 4, 3), "Good Friday"),
        (dt.date(2026, 4, 6), "Easter Monday"),
        (dt.date(2026, 5, 1), "Labor Day"),
        (dt.date(2026, 5, 14), "Ascension Day"),
        (dt.date(2026, 5, 25), "Pentecost Monday"),
        (dt.date(2026, 12, 25), "Christmas Day"),
    ],
)
def test_weekday_service_is_closed_on_a_weekday_public_holiday(day, holiday):
    service = ServiceFactory()
    assert not open_both_ways(service, dt.datetime.combine(day, dt.time(10), tzinfo=OSLO))
    # The same weekday a week earlier is an ordinary working day.
    assert open_both_ways(
        service, dt.datetime.combine(day, dt.time(10), tzinfo=OSLO) - dt.timedelta(days=7)
    )


def test_days_around_easter_are_ordinary_working_days():
    service = ServiceFactory()
    assert open_both_ways(service, at(2026, 4, 1, 10))  # Wednesday before Maundy Thursday
    assert open_both_ways(service, at(2026, 4, 7, 10))  # Tuesday after Easter Monday


def test_sunday_service_is_closed_on_17_may_but_open_the_sunday_before():
    service = ServiceFactory(weekly_hours=[(6, "10:00", "14:00")])
    assert open_both_ways(service, at(2026, 5, 10, 12))
    assert not open_both_ways(service, at(2026, 5, 17, 12))


def test_service_open_on_holidays_keeps_its_weekly_hours_on_holidays():
    weekday = ServiceFactory(open_on_holidays=True)
    sunday = ServiceFactory(open_on_holidays=True, weekly_hours=[(6, "10:00", "14:00")])
    assert open_both_ways(weekday, at(2026, 5, 14, 10))  # Ascension Day
    assert open_both_ways(weekday, at(2026, 4, 3, 10))  # Good Friday
    assert open_both_ways(sunday, at(2026, 5, 17, 12))  # Constitution Day
    assert not open_both_ways(weekday, at(2026, 5, 14, 17))  # still only within its hours


def test_holiday_names_come_from_the_holidays_package():
    assert public_holiday_name(dt.date(2026, 5, 17))
    assert public_holiday_name(dt.date(2026, 5, 14))
    assert public_holiday_name(dt.date(2026, 5, 12)) is None
    # An ordinary Sunday is not a public holiday.
    assert public_holiday_name(dt.date(2026, 5, 10)) is None


# --- exceptions -------------------------------------------------------------------------


def test_closed_exception_closes_a_normal_working_day():
    service = ServiceFactory()
    add_exception(service, dt.date(2026, 5, 13), note="Fagdag")
    assert not open_both_ways(service, at(2026, 5, 13, 10))
    assert open_both_ways(service, at(2026, 5, 12, 10))


def test_interval_exception_opens_a_public_holiday():
    service = ServiceFactory()
    add_exception(service, dt.date(2026, 5, 14), "10:00", "14:00")
    assert open_both_ways(service, at(2026, 5, 14, 10))
    assert open_both_ways(service, at(2026, 5, 14, 13, 59))
    # The exception replaces the weekly hours: not open 08–10 or 14–16 that day.
    assert not open_both_ways(service, at(2026, 5, 14, 9))
    assert not open_both_ways(service, at(2026, 5, 14, 14))


def test_interval_exception_opens_a_day_without_weekly_hours():
    service = ServiceFactory()
    add_exception(service, dt.date(2026, 5, 16), "11:00", "15:00")  # a Saturday
    assert open_both_ways(service, at(2026, 5, 16, 12))


def test_interval_exception_replaces_the_weekly_hours_of_a_normal_day():
    service = ServiceFactory()
    add_exception(service, dt.date(2026, 5, 12), "12:00", "14:00")
    assert not open_both_ways(service, at(2026, 5, 12, 10))
    assert open_both_ways(service, at(2026, 5, 12, 12))


def test_several_exception_intervals_on_one_date_all_count():
    service = ServiceFactory()
    add_exception(service, dt.date(2026, 5, 12), "09:00", "11:00")
    add_exception(service, dt.date(2026, 5, 12), "13:00", "15:00")
    assert open_both_ways(service, at(2026, 5, 12, 10))
    assert not open_both_ways(service, at(2026, 5, 12, 12))
    assert open_both_ways(service, at(2026, 5, 12, 14))


def test_exception_on_another_date_changes_nothing():
    service = ServiceFactory()
    add_exception(service, dt.date(2026, 5, 13))
    assert open_both_ways(service, at(2026, 5, 12, 10))


# --- around the clock -------------------------------------------------------------------


def test_always_open_service_is_open_at_night_on_a_holiday_and_despite_exceptions():
    service = ServiceFactory(always_open=True, weekly_hours=[])
    add_exception(service, dt.date(2026, 12, 24))
    assert open_both_ways(service, at(2026, 12, 25, 3))
    assert open_both_ways(service, at(2026, 12, 24, 12))
    assert open_both_ways(service, at(2026, 5, 17, 23, 59, 59))


# --- Python and SQL agree on many moments -----------------------------------------------


@pytest.mark.parametrize("per_row", [False, True])
def test_sql_filter_and_python_agree_on_every_fixture_through_a_holiday_week(per_row):
    services = [
        ServiceFactory(),
        ServiceFactory(open_on_holidays=True),
        ServiceFactory(always_open=True, weekly_hours=[]),
        ServiceFactory(weekly_hours=[(d, "16:00", "22:00") for d in range(7)]),
        ServiceFactory(weekly_hours=[(6, "10:00", "14:00")]),
        ServiceFactory(weekly_hours=[]),
    ]
    add_exception(services[0], dt.date(2026, 5, 14), "10:00", "12:00")
    add_exception(services[1], dt.date(2026, 5, 12))
    add_exception(services[3], dt.date(2026, 5, 17), "12:00", "13:00")
    add_exception(services[3], dt.date(2026, 5, 17), "18:00", "19:00")
    fresh = list(Service.objects.prefetch_related("hours", "exceptions"))
    moment = at(2026, 5, 11, 0, 30)
    while moment < at(2026, 5, 19, 0, 0):
        in_python = {s.pk for s in fresh if service_is_open(service=s, at=moment)}
        open_now = services_open_at(Service.objects.all(), at=moment, per_row=per_row)
        in_sql = set(open_now.values_list("pk", flat=True))
        assert in_python == in_sql, moment
        moment += dt.timedelta(minutes=90)


@pytest.mark.parametrize("per_row", [False, True])
def test_sql_filter_is_one_query(django_assert_num_queries, per_row):
    ServiceFactory.create_batch(3)
    with django_assert_num_queries(1):
        found = services_open_at(Service.objects.all(), at=at(2026, 5, 17, 12), per_row=per_row)
        assert len(found) == 0


# --- next opening -----------------------------------------------------------------------


def test_next_opening_after_friday_afternoon_is_monday_morning():
    service = ServiceFactory()
    assert service_next_opening(service=service, at=at(2026, 5, 8, 17)) == at(2026, 5, 11, 8)


def test_next_opening_skips_easter_holidays():
    service = ServiceFactory()
    assert service_next_opening(service=service, at=at(2026, 4, 1, 17)) == at(2026, 4, 7, 8)


def test_next_opening_skips_ascension_day_and_finds_later_same_day_interval():
    service = ServiceFactory()
    assert service_next_opening(service=service, at=at(2026, 5, 13, 17)) == at(2026, 5, 15, 8)
    assert service_next_opening(service=service, at=at(2026, 5, 12, 6)) == at(2026, 5, 12, 8)


def test_next_opening_uses_an_exception_that_opens_a_holiday():
    service = ServiceFactory()
    add_exception(service, dt.date(2026, 5, 14), "12:00", "14:00")
    assert service_next_opening(service=service, at=at(2026, 5, 14, 9)) == at(2026, 5, 14, 12)


def test_next_opening_of_an_open_service_is_now():
    service = ServiceFactory()
    moment = at(2026, 5, 12, 10)
    assert service_next_opening(service=service, at=moment) == moment


def test_next_opening_is_none_without_hours_in_two_weeks():
    service = ServiceFactory(weekly_hours=[])
    add_exception(service, dt.date(2026, 6, 30), "10:00", "12:00")
    assert service_next_opening(service=service, at=at(2026, 5, 12, 10)) is None


def test_opening_status_tells_when_an_open_service_closes():
    service = ServiceFactory(weekly_hours=[(1, "08:00", "12:00"), (1, "12:00", "15:00")])
    status = service_opening_status(service=service, at=at(2026, 5, 12, 10))
    assert status.is_open
    assert status.closes_at == at(2026, 5, 12, 15)


# --- the week for display ---------------------------------------------------------------


def test_service_week_lists_every_weekday_and_coming_holidays_and_exceptions():
    service = ServiceFactory(weekly_hours=[(0, "08:00", "12:00"), (0, "13:00", "16:00")])
    add_exception(service, dt.date(2026, 5, 13), note="Fagdag")
    add_exception(service, dt.date(2026, 3, 1))  # in the past: not listed
    week = service_week(service=service, at=at(2026, 5, 11, 10))
    assert [d.weekday for d in week.days] == list(range(7))
    assert week.days[0].intervals == [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(16))]
    assert week.days[6].intervals == []
    special = {d.date: d for d in week.special_days}
    assert special[dt.date(2026, 5, 13)].closed
    assert special[dt.date(2026, 5, 13)].notes == ["Fagdag"]
    assert special[dt.date(2026, 5, 14)].holiday  # Ascension Day
    assert special[dt.date(2026, 5, 17)].holiday
    assert special[dt.date(2026, 5, 25)].holiday  # Whit Monday: closed, a Monday
    assert special[dt.date(2026, 5, 25)].closed
    assert dt.date(2026, 3, 1) not in special


def test_service_week_of_an_always_open_service_has_no_special_days():
    service = ServiceFactory(always_open=True, weekly_hours=[])
    week = service_week(service=service, at=at(2026, 5, 11, 10))
    assert week.always_open
    assert week.special_days == []

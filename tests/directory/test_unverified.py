"""The owners' list of entries not verified for 12 months, at a fixed date."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from samhandling.directory.services.editing import (
    months_before,
    services_unverified,
    verify_cutoff,
)
from tests.directory.factories import ServiceFactory

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
TODAY = dt.date(2026, 3, 10)


@pytest.fixture
def cast(horten_unit, larvik_unit):
    """Services at TODAY: the cut-off is 2025-03-10, so 2025-03-09 is due and 2025-03-10 not."""
    return {
        "never": ServiceFactory(unit=horten_unit, name_nb="Aldri sjekket", last_verified=None),
        "old": ServiceFactory(
            unit=horten_unit, name_nb="Gammel", last_verified=dt.date(2024, 11, 1)
        ),
        "day_over": ServiceFactory(
            unit=horten_unit, name_nb="En dag over", last_verified=dt.date(2025, 3, 9)
        ),
        "on_the_day": ServiceFactory(
            unit=horten_unit, name_nb="Akkurat tolv", last_verified=dt.date(2025, 3, 10)
        ),
        "fresh": ServiceFactory(
            unit=horten_unit, name_nb="Fersk", last_verified=dt.date(2026, 1, 5)
        ),
        "inactive": ServiceFactory(
            unit=horten_unit, name_nb="Nedlagt", last_verified=None, is_active=False
        ),
        "larvik": ServiceFactory(
            unit=larvik_unit,
            municipalities=["3909"],
            name_nb="Larvik gammel",
            last_verified=dt.date(2023, 5, 5),
        ),
    }


def names(queryset):
    return [s.name_nb for s in queryset]


def test_clinician_gets_own_units_due_services_oldest_first(horten_clinician, cast):
    due = services_unverified(user=horten_clinician, today=TODAY)
    assert names(due) == ["Aldri sjekket", "Gammel", "En dag over"]


def test_other_unit_gets_only_its_own(larvik_clinician, cast):
    assert names(services_unverified(user=larvik_clinician, today=TODAY)) == ["Larvik gammel"]


def test_editor_gets_every_units_due_services(editor, cast):
    due = names(services_unverified(user=editor, today=TODAY))
    assert due == ["Aldri sjekket", "Larvik gammel", "Gammel", "En dag over"]


def test_users_who_may_not_edit_get_nothing(referrer, cast):
    assert not services_unverified(user=referrer, today=TODAY).exists()
    assert not services_unverified(user=AnonymousUser(), today=TODAY).exists()


def test_the_clock_decides_by_default(horten_clinician, cast):
    with time_machine.travel(dt.datetime(2026, 3, 10, 23, 30, tzinfo=OSLO), tick=False):
        assert names(services_unverified(user=horten_clinician)) == [
            "Aldri sjekket",
            "Gammel",
            "En dag over",
        ]
    # Past midnight in Oslo (still the 10th in UTC) the one verified on 2025-03-10 is due too.
    with time_machine.travel(dt.datetime(2026, 3, 11, 0, 30, tzinfo=OSLO), tick=False):
        assert "Akkurat tolv" in names(services_unverified(user=horten_clinician))


def test_the_period_follows_the_setting(settings, horten_clinician, cast):
    settings.SAMHANDLING_VERIFY_MONTHS = 3
    due = names(services_unverified(user=horten_clinician, today=TODAY))
    assert due == ["Aldri sjekket", "Gammel", "En dag over", "Akkurat tolv"]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 3, 10), 12, dt.date(2025, 3, 10)),
        (dt.date(2024, 2, 29), 12, dt.date(2023, 2, 28)),
        (dt.date(2026, 3, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2026, 1, 15), 1, dt.date(2025, 12, 15)),
        (dt.date(2026, 1, 15), 0, dt.date(2026, 1, 15)),
    ],
)
def test_months_before_keeps_the_day_or_the_months_last_day(day, months, expected):
    assert months_before(day, months) == expected


def test_cutoff_is_twelve_months_back(settings):
    assert settings.SAMHANDLING_VERIFY_MONTHS == 12
    assert verify_cutoff(today=TODAY) == dt.date(2025, 3, 10)


def test_my_services_page_lists_exactly_the_due_services_at_the_top(client, horten_clinician, cast):
    client.force_login(horten_clinician)
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 0, tzinfo=OSLO), tick=False):
        response = client.get(reverse("directory:mine"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    due_section = html[html.index('class="due"') : html.index("Services you can edit")]
    assert "3 services need checking" in due_section
    for key in ("never", "old", "day_over"):
        service = cast[key]
        assert service.name_nb in due_section
        assert reverse("directory:service-edit", kwargs={"code": service.code}) in due_section
        assert reverse("directory:service-verify", kwargs={"code": service.code}) in due_section
    for name in ("Akkurat tolv", "Fersk", "Nedlagt", "Larvik gammel"):
        assert name not in due_section
    assert due_section.index("Aldri sjekket") < due_section.index("Gammel")
    assert "Larvik gammel" not in html


def test_still_correct_takes_a_service_off_the_list(client, horten_clinician, cast):
    client.force_login(horten_clinician)
    service = cast["old"]
    url = reverse("directory:service-verify", kwargs={"code": service.code})
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 0, tzinfo=OSLO), tick=False):
        response = client.post(url, {"next": reverse("directory:mine")}, follow=True)
        due = names(services_unverified(user=horten_clinician))
    assert response.redirect_chain[-1][0] == reverse("directory:mine")
    assert due == ["Aldri sjekket", "En dag over"]
    service.refresh_from_db()
    assert service.last_verified == TODAY


def test_when_nothing_is_due_the_page_says_so(client, horten_clinician, horten_unit):
    ServiceFactory(unit=horten_unit, last_verified=dt.date(2026, 3, 1))
    client.force_login(horten_clinician)
    with time_machine.travel(dt.datetime(2026, 3, 10, 9, 0, tzinfo=OSLO), tick=False):
        html = client.get(reverse("directory:mine"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Every service you can edit has been verified in the last 12 months." in html
    assert 'class="due"' not in html

"""The edit, create, verify, version-history and "My services" pages."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from samhandling.core.models import Role
from samhandling.directory.forms import edit_forms
from samhandling.directory.models import Service, ServiceVersion
from samhandling.directory.services.editing import service_snapshot, service_update
from tests.conftest import make_user
from tests.directory.factories import ServiceFactory, add_exception

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def horten_service(horten_unit):
    service = ServiceFactory(unit=horten_unit, name_nb="Helsestasjon for ungdom", needs=["anxiety"])
    add_exception(service, dt.date(2026, 12, 24), note="Julaften")
    return service


@pytest.fixture
def larvik_service(larvik_unit):
    return ServiceFactory(unit=larvik_unit, municipalities=["3909"], name_nb="Ungdomslos Larvik")


def _as_post_value(value):
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value)
    return value


def form_payload(user, service=None, base_version=0, **overrides):
    """What the browser posts when the form is saved as shown, with `overrides` applied."""
    forms = edit_forms(user=user, service=service, base_version=base_version)
    data = {}
    for form in [
        forms[0],
        *forms[1],
        *forms[2],
        forms[1].management_form,
        forms[2].management_form,
    ]:
        for bound in form:
            value = bound.value()
            if bound.widget_type == "checkbox":
                if value:
                    data[bound.html_name] = "on"
                continue
            data[bound.html_name] = _as_post_value(value)
    data.update(overrides)
    return data


def edit_url(service):
    return reverse("directory:service-edit", kwargs={"code": service.code})


def versions_url(service):
    return reverse("directory:service-versions", kwargs={"code": service.code})


# --- access ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_and_nothing_changes(client, horten_clinician, horten_service):
    payload = form_payload(horten_clinician, horten_service, name_nb="Anonym endring")
    before = service_snapshot(service=horten_service)
    get = client.get(edit_url(horten_service))
    post = client.post(edit_url(horten_service), payload)
    for response in (get, post):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("core:login"))
    assert service_snapshot(service=horten_service) == before
    assert not ServiceVersion.objects.exists()


def test_cross_unit_edit_is_refused_and_the_database_is_unchanged(
    client, horten_clinician, larvik_clinician, horten_service
):
    payload = form_payload(horten_clinician, horten_service, name_nb="Endret fra Larvik")
    before = service_snapshot(service=horten_service)
    client.force_login(larvik_clinician)
    assert client.get(edit_url(horten_service)).status_code == 403
    response = client.post(edit_url(horten_service), payload)
    assert response.status_code == 403
    assert service_snapshot(service=horten_service) == before
    assert not ServiceVersion.objects.exists()


def test_referrer_may_not_open_the_edit_form(client, referrer, horten_service):
    client.force_login(referrer)
    assert client.get(edit_url(horten_service)).status_code == 403


def test_unknown_service_is_not_found(client, editor):
    client.force_login(editor)
    url = reverse("directory:service-edit", kwargs={"code": "00000000-0000-0000-0000-000000000000"})
    assert client.get(url).status_code == 404


# --- edit --------------------------------------------------------------------------------


def test_edit_form_shows_the_entry_and_the_version_it_is_based_on(
    client, horten_clinician, horten_service
):
    service_update(
        service=horten_service, by=horten_clinician, data={"city": "Horten"}, base_version=0
    )
    client.force_login(horten_clinician)
    response = client.get(edit_url(horten_service))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="base_version" value="2"' in html
    assert 'value="Helsestasjon for ungdom"' in html
    assert 'name="hours-TOTAL_FORMS" value="6"' in html  # five weekdays + one blank row
    assert "directory/edit.js" in html
    assert "<script>" not in html
    assert 'style="' not in html


def test_own_unit_edit_is_saved_and_the_history_shows_who_when_and_what(
    client, horten_clinician, horten_service
):
    client.force_login(horten_clinician)
    payload = form_payload(
        horten_clinician, horten_service, name_nb="Helsestasjon for ungdom Horten", age_max="23"
    )
    with time_machine.travel(dt.datetime(2026, 3, 10, 14, 30, tzinfo=OSLO), tick=False):
        response = client.post(edit_url(horten_service), payload)
    assert response.status_code == 302
    assert response["Location"] == versions_url(horten_service)
    horten_service.refresh_from_db()
    assert (horten_service.name_nb, horten_service.age_max) == (
        "Helsestasjon for ungdom Horten",
        23,
    )
    version = horten_service.versions.get(number=2)
    assert version.author == horten_clinician
    assert version.changes == {
        "name_nb": ["Helsestasjon for ungdom", "Helsestasjon for ungdom Horten"],
        "age_max": [25, 23],
    }
    page = client.get(versions_url(horten_service), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert "horten-clinician" in html
    assert 'datetime="2026-03-10T14:30:00+01:00"' in html
    assert "March 10, 2026, 2:30 p.m." in html
    assert "Helsestasjon for ungdom</td>" in html
    assert "Helsestasjon for ungdom Horten</td>" in html
    assert "→" in html
    assert '<td class="before">25</td>' in html
    assert '<td class="after">23</td>' in html


def test_editor_may_edit_another_units_service(client, editor, larvik_service):
    client.force_login(editor)
    response = client.post(
        edit_url(larvik_service), form_payload(editor, larvik_service, city="Larvik")
    )
    assert response.status_code == 302
    larvik_service.refresh_from_db()
    assert larvik_service.city == "Larvik"
    assert larvik_service.versions.get(number=2).author == editor


def test_second_edit_based_on_the_same_version_is_refused_and_first_stands(
    client, horten_clinician, editor, horten_service
):
    first = form_payload(horten_clinician, horten_service, city="Horten")
    second = form_payload(editor, horten_service, city="Borre")
    client.force_login(horten_clinician)
    assert client.post(edit_url(horten_service), first).status_code == 302
    client.force_login(editor)
    response = client.post(edit_url(horten_service), second, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert "Someone else saved a change to this service" in response.content.decode()
    horten_service.refresh_from_db()
    assert horten_service.city == "Horten"
    assert horten_service.versions.count() == 2


def test_an_unchanged_save_writes_no_version(client, horten_clinician, horten_service):
    client.force_login(horten_clinician)
    response = client.post(edit_url(horten_service), form_payload(horten_clinician, horten_service))
    assert response.status_code == 302
    assert response["Location"] == edit_url(horten_service)
    assert not ServiceVersion.objects.exists()


def test_ticking_verified_on_save_stamps_today(client, horten_clinician, horten_service):
    client.force_login(horten_clinician)
    payload = form_payload(horten_clinician, horten_service, mark_verified="on")
    with time_machine.travel(dt.datetime(2026, 9, 2, 10, 0, tzinfo=OSLO), tick=False):
        client.post(edit_url(horten_service), payload)
    horten_service.refresh_from_db()
    assert horten_service.last_verified == dt.date(2026, 9, 2)


def test_added_rows_are_saved(client, horten_clinician, horten_service):
    client.force_login(horten_clinician)
    payload = form_payload(horten_clinician, horten_service)
    payload.update(
        {
            "hours-5-weekday": "5",
            "hours-5-opens": "10:00",
            "hours-5-closes": "14:00",
            "hours-6-weekday": "0",
            "hours-6-opens": "17:00",
            "hours-6-closes": "20:00",
            "hours-TOTAL_FORMS": "7",
            "hours-0-DELETE": "on",
        }
    )
    assert client.post(edit_url(horten_service), payload).status_code == 302
    hours = [(h.weekday, h.opens.hour, h.closes.hour) for h in horten_service.hours.all()]
    assert hours == [(0, 17, 20), (1, 8, 16), (2, 8, 16), (3, 8, 16), (4, 8, 16), (5, 10, 14)]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"age_min": "30", "age_max": "20"}, "The oldest age must be the same as or higher"),
        ({"hours-0-opens": "17:00", "hours-0-closes": "09:00"}, "The closing time must be after"),
        (
            {"exceptions-0-opens": "10:00", "exceptions-0-closes": "12:00"},
            "Either tick “closed all day” or give opening times, not both.",
        ),
        ({"description_nb": "x" * 100_000}, "Ensure this value has at most 5000 characters"),
        ({"name_nb": "x" * 5000}, "Ensure this value has at most 200 characters"),
        ({"name_nb": ""}, "This field is required."),
        ({"municipalities": []}, "Choose the municipalities the service covers"),
        ({"referral_required": "on", "referrers": []}, "Say who may refer"),
        ({"latitude": "59.4", "longitude": ""}, "Give both latitude and longitude"),
        ({"postal_code": "31A"}, "A postal code has four digits."),
        ({"hours-TOTAL_FORMS": "5000"}, "Please submit at most 50 forms."),
    ],
)
def test_invalid_data_gets_a_clear_error_and_changes_nothing(
    client, horten_clinician, horten_service, overrides, message
):
    client.force_login(horten_clinician)
    before = service_snapshot(service=horten_service)
    payload = form_payload(horten_clinician, horten_service, city="Horten", **overrides)
    response = client.post(edit_url(horten_service), payload, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Check the form: nothing was saved" in html
    assert service_snapshot(service=horten_service) == before
    assert not ServiceVersion.objects.exists()


def test_overlapping_hours_are_refused(client, horten_clinician, horten_service):
    client.force_login(horten_clinician)
    payload = form_payload(
        horten_clinician,
        horten_service,
        **{"hours-5-weekday": "0", "hours-5-opens": "15:00", "hours-5-closes": "18:00"},
    )
    response = client.post(edit_url(horten_service), payload, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "The opening intervals on Monday overlap." in response.content.decode()
    assert horten_service.hours.count() == 5


# --- create ------------------------------------------------------------------------------


def test_coordinator_adds_a_service_in_own_unit(client, roles, horten_unit):
    coordinator = make_user("coordinator", Role.COORDINATOR, horten_unit)
    client.force_login(coordinator)
    url = reverse("directory:service-create")
    assert client.get(url).status_code == 200
    payload = form_payload(
        coordinator,
        unit=str(horten_unit.pk),
        name_nb="Ny ungdomstjeneste",
        level="early",
        coverage="municipal",
        municipalities=["3901"],
        age_min="12",
        age_max="25",
    )
    response = client.post(url, payload)
    service = Service.objects.get(name_nb="Ny ungdomstjeneste")
    assert response.status_code == 302
    assert response["Location"] == versions_url(service)
    assert service.versions.get().author == coordinator
    assert service.hours.count() == 5


def test_clinician_may_not_add_services(client, horten_clinician):
    client.force_login(horten_clinician)
    assert client.get(reverse("directory:service-create")).status_code == 403


def test_coordinator_may_not_add_a_service_to_another_unit(client, roles, horten_unit, larvik_unit):
    coordinator = make_user("coordinator", Role.COORDINATOR, horten_unit)
    client.force_login(coordinator)
    payload = form_payload(
        coordinator,
        unit=str(larvik_unit.pk),
        name_nb="Snik",
        level="early",
        coverage="municipal",
        municipalities=["3901"],
        age_min="12",
        age_max="25",
    )
    response = client.post(reverse("directory:service-create"), payload)
    assert response.status_code == 400
    assert not Service.objects.filter(name_nb="Snik").exists()


# --- verify ------------------------------------------------------------------------------


def test_verify_is_post_only(client, horten_clinician, horten_service):
    client.force_login(horten_clinician)
    url = reverse("directory:service-verify", kwargs={"code": horten_service.code})
    assert client.get(url).status_code == 405


def test_verify_by_own_unit_stamps_today_and_returns_to_the_list(
    client, horten_clinician, horten_service
):
    client.force_login(horten_clinician)
    url = reverse("directory:service-verify", kwargs={"code": horten_service.code})
    with time_machine.travel(dt.datetime(2026, 9, 2, 10, 0, tzinfo=OSLO), tick=False):
        response = client.post(url, {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("directory:mine")
    horten_service.refresh_from_db()
    assert horten_service.last_verified == dt.date(2026, 9, 2)
    assert horten_service.versions.get(number=2).changes["last_verified"][1] == "2026-09-02"


def test_verify_by_another_unit_is_refused(client, larvik_clinician, horten_service):
    client.force_login(larvik_clinician)
    url = reverse("directory:service-verify", kwargs={"code": horten_service.code})
    assert client.post(url).status_code == 403
    horten_service.refresh_from_db()
    assert horten_service.last_verified == dt.date(2026, 6, 1)
    assert not ServiceVersion.objects.exists()


# --- history -----------------------------------------------------------------------------


def test_history_is_only_for_those_who_may_edit(
    client, larvik_clinician, horten_clinician, horten_service
):
    service_update(
        service=horten_service, by=horten_clinician, data={"city": "Horten"}, base_version=0
    )
    one = reverse("directory:service-version", kwargs={"code": horten_service.code, "number": 2})
    assert client.get(versions_url(horten_service)).status_code == 302
    client.force_login(larvik_clinician)
    assert client.get(versions_url(horten_service)).status_code == 403
    assert client.get(one).status_code == 403


def test_one_version_shows_its_readable_diff_and_the_whole_entry(
    client, horten_clinician, horten_service
):
    service_update(
        service=horten_service,
        by=horten_clinician,
        data={"level": "specialist"},
        hours=[{"weekday": 0, "opens": "09:00", "closes": "15:00"}],
        base_version=0,
    )
    client.force_login(horten_clinician)
    url = reverse("directory:service-version", kwargs={"code": horten_service.code, "number": 2})
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Early help</td>" in html
    assert "Specialist health service</td>" in html
    assert "Monday 09:00–15:00" in html
    assert "Anxiety and worry" in html  # unchanged need, in the whole entry
    missing = reverse(
        "directory:service-version", kwargs={"code": horten_service.code, "number": 9}
    )
    assert client.get(missing).status_code == 404


def test_history_of_an_unversioned_service_has_an_empty_state(
    client, horten_clinician, horten_service
):
    client.force_login(horten_clinician)
    html = client.get(versions_url(horten_service), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No version has been saved yet." in html


# --- my services -------------------------------------------------------------------------


def test_my_services_lists_what_the_user_may_edit(
    client, horten_clinician, horten_service, larvik_service
):
    client.force_login(horten_clinician)
    html = client.get(reverse("directory:mine")).content.decode()
    assert "Helsestasjon for ungdom" in html
    assert "Ungdomslos Larvik" not in html
    assert edit_url(horten_service) in html


def test_my_services_has_an_empty_state(client, referrer):
    client.force_login(referrer)
    response = client.get(reverse("directory:mine"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "You cannot edit any services yet." in response.content.decode()


def test_my_services_needs_login(client):
    response = client.get(reverse("directory:mine"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:login"))


def test_clinician_chooses_among_the_municipalities_of_own_county(
    client, horten_clinician, horten_service
):
    client.force_login(horten_clinician)
    html = client.get(edit_url(horten_service)).content.decode()
    assert 'type="checkbox" name="municipalities" value="3909"' in html
    assert 'value="0301"' not in html  # Oslo is not offered to a Horten clinician


def test_clinician_may_not_pick_a_municipality_outside_the_choices(
    client, horten_clinician, horten_service
):
    client.force_login(horten_clinician)
    payload = form_payload(horten_clinician, horten_service, municipalities=["3901", "0301"])
    response = client.post(edit_url(horten_service), payload)
    assert response.status_code == 400
    assert list(horten_service.municipalities.values_list("number", flat=True)) == ["3901"]


def test_editor_chooses_any_municipality_from_a_grouped_list(client, editor, horten_service):
    client.force_login(editor)
    html = client.get(edit_url(horten_service)).content.decode()
    assert '<select name="municipalities"' in html
    assert "<optgroup" in html
    payload = form_payload(editor, horten_service, municipalities=["3901", "0301"])
    assert client.post(edit_url(horten_service), payload).status_code == 302
    assert set(horten_service.municipalities.values_list("number", flat=True)) == {"0301", "3901"}


def test_anonymous_verify_is_sent_to_login_and_nothing_changes(client, horten_service):
    url = reverse("directory:service-verify", kwargs={"code": horten_service.code})
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:login"))
    horten_service.refresh_from_db()
    assert horten_service.last_verified == dt.date(2026, 6, 1)
    assert not ServiceVersion.objects.exists()

"""The editing services: who may edit, versions per change, conflicts, validation, diffs."""

import datetime as dt
import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from samhandling.core.models import Role
from samhandling.directory.models import Level, Service, ServiceVersion
from samhandling.directory.services.editing import (
    EditConflict,
    service_create,
    service_may_create,
    service_may_edit,
    service_snapshot,
    service_update,
    service_verify,
    service_version_diff,
    services_editable_by,
)
from tests.conftest import make_user
from tests.directory.factories import ServiceFactory, UnitFactory, add_exception

pytestmark = pytest.mark.django_db


@pytest.fixture
def horten_service(horten_unit):
    service = ServiceFactory(unit=horten_unit, name_nb="Helsestasjon for ungdom")
    add_exception(service, dt.date(2026, 7, 1), note="Sommerstengt")
    return service


@pytest.fixture
def larvik_service(larvik_unit):
    return ServiceFactory(unit=larvik_unit, municipalities=["3909"], name_nb="Ungdomslos Larvik")


def new_service_data(unit, **overrides):
    data = {
        "name_nb": "Ny tjeneste",
        "name_nn": "Ny teneste",
        "description_nb": "Hjelp for ungdom.",
        "unit": unit,
        "coverage": "municipal",
        "municipalities": ["3901"],
        "level": Level.EARLY,
        "age_min": 13,
        "age_max": 20,
        "needs": ["anxiety", "sleep"],
        "offers_phone": True,
        "phone": "33 00 00 00",
    }
    return {**data, **overrides}


# --- who may edit ------------------------------------------------------------------------


def test_clinician_may_edit_a_service_of_own_unit(horten_clinician, horten_service):
    assert service_may_edit(user=horten_clinician, service=horten_service)


def test_clinician_may_not_edit_a_service_of_another_unit(larvik_clinician, horten_service):
    assert not service_may_edit(user=larvik_clinician, service=horten_service)


def test_clinician_may_edit_a_service_of_a_unit_below_own(horten_clinician, horten_unit):
    team = UnitFactory(code="horten-ungdomsteam", parent=horten_unit)
    service = ServiceFactory(unit=team)
    assert service_may_edit(user=horten_clinician, service=service)


def test_member_of_a_unit_below_may_not_edit_the_parents_service(roles, horten_unit):
    team = UnitFactory(code="horten-team", parent=horten_unit)
    member = make_user("team-member", Role.CLINICIAN, team)
    assert not service_may_edit(user=member, service=ServiceFactory(unit=horten_unit))


def test_editor_may_edit_any_units_service(editor, horten_service, larvik_service):
    assert service_may_edit(user=editor, service=horten_service)
    assert service_may_edit(user=editor, service=larvik_service)


def test_anonymous_and_referrer_may_not_edit(referrer, horten_service, horten_unit):
    referrer.units.add(horten_unit)
    assert not service_may_edit(user=AnonymousUser(), service=horten_service)
    assert not service_may_edit(user=referrer, service=horten_service)


def test_inactive_account_may_not_edit(horten_clinician, horten_service):
    horten_clinician.is_active = False
    horten_clinician.save()
    assert not service_may_edit(user=horten_clinician, service=horten_service)


def test_editable_services_follow_the_units(
    horten_clinician, editor, referrer, horten_service, larvik_service
):
    assert list(services_editable_by(user=horten_clinician)) == [horten_service]
    assert set(services_editable_by(user=editor)) == {horten_service, larvik_service}
    assert not services_editable_by(user=referrer).exists()
    assert not services_editable_by(user=AnonymousUser()).exists()


def test_clinicians_may_not_create_services_but_coordinators_may(
    roles, horten_clinician, horten_unit, larvik_unit
):
    coordinator = make_user("coordinator", Role.COORDINATOR, horten_unit)
    assert not service_may_create(user=horten_clinician, unit=horten_unit)
    assert service_may_create(user=coordinator, unit=horten_unit)
    assert not service_may_create(user=coordinator, unit=larvik_unit)


# --- snapshot ----------------------------------------------------------------------------


def test_snapshot_holds_every_field_relation_and_hours_as_json(horten_service):
    horten_service.needs.set([])
    horten_service.municipalities.set(["3911", "3901"])
    snap = service_snapshot(service=horten_service)
    assert json.loads(json.dumps(snap)) == snap
    assert snap["municipalities"] == ["3901", "3911"]
    assert snap["unit"] == "horten-kommune"
    assert snap["hours"][0] == {"weekday": 0, "opens": "08:00", "closes": "16:00"}
    assert snap["exceptions"] == [
        {
            "date": "2026-07-01",
            "closed": True,
            "opens": None,
            "closes": None,
            "note": "Sommerstengt",
        }
    ]
    assert snap["last_verified"] == "2026-06-01"
    assert {"name_nb", "description_nn", "referrers", "latitude", "is_active"} <= set(snap)


def test_snapshot_is_stable_between_reads(horten_service):
    assert service_snapshot(service=horten_service) == service_snapshot(service=horten_service)


# --- create ------------------------------------------------------------------------------


def test_create_saves_the_service_and_writes_version_1(editor, horten_unit):
    service = service_create(
        by=editor,
        data=new_service_data(horten_unit),
        hours=[{"weekday": 2, "opens": "12:00", "closes": "18:00"}],
        exceptions=[{"date": "2026-12-24", "closed": True}],
        today=dt.date(2026, 3, 1),
    )
    version = service.versions.get()
    assert (version.number, version.author, version.changes) == (1, editor, {})
    assert version.snapshot == service_snapshot(service=service)
    assert version.snapshot["needs"] == ["anxiety", "sleep"]
    assert service.last_verified == dt.date(2026, 3, 1)
    assert service.hours.get().weekday == 2


def test_create_in_a_unit_the_user_does_not_belong_to_is_refused(roles, horten_unit, larvik_unit):
    coordinator = make_user("coordinator", Role.COORDINATOR, horten_unit)
    with pytest.raises(PermissionDenied):
        service_create(by=coordinator, data=new_service_data(larvik_unit))
    assert not Service.objects.filter(name_nb="Ny tjeneste").exists()


def test_create_with_invalid_ages_saves_nothing(editor, horten_unit):
    with pytest.raises(ValidationError) as caught:
        service_create(by=editor, data=new_service_data(horten_unit, age_min=30, age_max=20))
    assert "age_max" in caught.value.message_dict
    assert not Service.objects.filter(name_nb="Ny tjeneste").exists()
    assert not ServiceVersion.objects.exists()


# --- update ------------------------------------------------------------------------------


def test_update_writes_the_next_version_with_only_the_changed_fields(
    horten_clinician, horten_service
):
    v1 = service_update(
        service=horten_service, by=horten_clinician, data={"age_max": 25}, base_version=0
    )
    assert v1 is None  # nothing changed, nothing written
    version = service_update(
        service=horten_service,
        by=horten_clinician,
        data={"name_nb": "Helsestasjon for ungdom (HFU)", "age_max": 24},
        base_version=0,
    )
    assert version.number == 2
    assert version.author == horten_clinician
    assert version.changes == {
        "name_nb": ["Helsestasjon for ungdom", "Helsestasjon for ungdom (HFU)"],
        "age_max": [25, 24],
    }
    horten_service.refresh_from_db()
    assert horten_service.name_nb == "Helsestasjon for ungdom (HFU)"


def test_first_update_keeps_the_unversioned_entry_as_version_1(horten_clinician, horten_service):
    before = service_snapshot(service=horten_service)
    service_update(
        service=horten_service, by=horten_clinician, data={"city": "Horten"}, base_version=0
    )
    first, second = horten_service.versions.order_by("number")
    assert (first.number, first.author, first.snapshot, first.changes) == (1, None, before, {})
    assert second.changes == {"city": ["", "Horten"]}


def test_update_of_hours_records_them_before_and_after(horten_clinician, horten_service):
    version = service_update(
        service=horten_service,
        by=horten_clinician,
        data={},
        hours=[{"weekday": 0, "opens": "09:00", "closes": "15:00"}],
        base_version=0,
    )
    before, after = version.changes["hours"]
    assert len(before) == 5
    assert after == [{"weekday": 0, "opens": "09:00", "closes": "15:00"}]
    assert horten_service.hours.count() == 1


def test_an_unchanged_save_writes_no_version_and_keeps_the_timestamp(
    horten_clinician, horten_service
):
    service_update(
        service=horten_service, by=horten_clinician, data={"city": "Horten"}, base_version=0
    )
    horten_service.refresh_from_db()
    stamp = horten_service.updated_at
    hours = [{"weekday": d, "opens": "08:00", "closes": "16:00"} for d in range(5)]
    result = service_update(
        service=horten_service,
        by=horten_clinician,
        data={"city": "Horten", "name_nb": "Helsestasjon for ungdom", "needs": []},
        hours=hours,
        exceptions=[{"date": dt.date(2026, 7, 1), "closed": True, "note": "Sommerstengt"}],
        base_version=2,
    )
    assert result is None
    assert horten_service.versions.count() == 2
    horten_service.refresh_from_db()
    assert horten_service.updated_at == stamp


def test_second_edit_based_on_the_same_version_is_refused_and_first_stands(
    horten_clinician, editor, horten_service
):
    service_update(
        service=horten_service, by=horten_clinician, data={"city": "Horten"}, base_version=0
    )
    service_update(service=horten_service, by=editor, data={"city": "Åsgårdstrand"}, base_version=2)
    with pytest.raises(EditConflict) as caught:
        service_update(
            service=horten_service, by=horten_clinician, data={"city": "Borre"}, base_version=2
        )
    assert "Someone else saved a change" in caught.value.messages[0]
    horten_service.refresh_from_db()
    assert horten_service.city == "Åsgårdstrand"
    assert horten_service.versions.count() == 3


def test_a_verification_in_between_is_no_conflict(horten_clinician, editor, horten_service):
    service_update(
        service=horten_service, by=horten_clinician, data={"city": "Horten"}, base_version=0
    )
    service_verify(service=horten_service, by=editor, today=dt.date(2026, 9, 1))
    version = service_update(
        service=horten_service, by=horten_clinician, data={"city": "Borre"}, base_version=2
    )
    assert version.number == 4
    horten_service.refresh_from_db()
    assert (horten_service.city, horten_service.last_verified) == ("Borre", dt.date(2026, 9, 1))


def test_a_base_version_from_the_future_is_refused(horten_clinician, horten_service):
    with pytest.raises(EditConflict):
        service_update(
            service=horten_service, by=horten_clinician, data={"city": "X"}, base_version=7
        )
    assert not horten_service.versions.exists()


def test_update_by_another_units_clinician_is_refused_and_changes_nothing(
    larvik_clinician, horten_service
):
    before = service_snapshot(service=horten_service)
    with pytest.raises(PermissionDenied):
        service_update(
            service=horten_service, by=larvik_clinician, data={"name_nb": "Kapret"}, base_version=0
        )
    assert service_snapshot(service=horten_service) == before
    assert not horten_service.versions.exists()


def test_clinician_may_not_move_a_service_to_another_unit(
    horten_clinician, horten_service, larvik_unit
):
    with pytest.raises(PermissionDenied):
        service_update(
            service=horten_service, by=horten_clinician, data={"unit": larvik_unit}, base_version=0
        )
    horten_service.refresh_from_db()
    assert horten_service.unit.code == "horten-kommune"


def test_editor_may_move_a_service_to_another_unit(editor, horten_service, larvik_unit):
    version = service_update(
        service=horten_service, by=editor, data={"unit": larvik_unit}, base_version=0
    )
    assert version.changes["unit"] == ["horten-kommune", "larvik-kommune"]


@pytest.mark.parametrize(
    ("data", "hours", "exceptions", "key"),
    [
        ({"age_min": 26}, None, None, "age_max"),
        ({"description_nb": "x" * 5001}, None, None, "description_nb"),
        ({"name_nb": "x" * 201}, None, None, "name_nb"),
        ({"name_nb": ""}, None, None, "name_nb"),
        ({"email": "not an address"}, None, None, "email"),
        ({"level": "top"}, None, None, "level"),
        ({"municipalities": ["9999"]}, None, None, "municipalities"),
        ({"municipalities": []}, None, None, "municipalities"),
        ({"referrers": ["neighbour"]}, None, None, "referrers"),
        ({}, [{"weekday": 0, "opens": "16:00", "closes": "08:00"}], None, "hours"),
        ({}, [{"weekday": 9, "opens": "08:00", "closes": "10:00"}], None, "hours"),
        (
            {},
            [
                {"weekday": 0, "opens": "08:00", "closes": "12:00"},
                {"weekday": 0, "opens": "11:00", "closes": "15:00"},
            ],
            None,
            "hours",
        ),
        (
            {},
            None,
            [{"date": "2026-12-24", "closed": True, "opens": "10:00", "closes": "12:00"}],
            "exceptions",
        ),
        ({}, None, [{"date": "2026-12-24", "closed": False, "opens": "10:00"}], "exceptions"),
        (
            {},
            None,
            [
                {"date": "2026-12-24", "closed": True},
                {"date": "2026-12-24", "opens": "10:00", "closes": "12:00"},
            ],
            "exceptions",
        ),
    ],
)
def test_invalid_edit_is_refused_with_a_clear_error_and_changes_nothing(
    horten_clinician, horten_service, data, hours, exceptions, key
):
    before = service_snapshot(service=horten_service)
    with pytest.raises(ValidationError) as caught:
        service_update(
            service=horten_service,
            by=horten_clinician,
            data=data,
            hours=hours,
            exceptions=exceptions,
            base_version=0,
        )
    assert key in caught.value.message_dict
    assert all(caught.value.message_dict[key])
    assert service_snapshot(service=horten_service) == before
    assert not horten_service.versions.exists()


def test_national_service_needs_no_municipalities(editor, horten_service):
    version = service_update(
        service=horten_service,
        by=editor,
        data={"coverage": "national", "municipalities": []},
        base_version=0,
    )
    assert version.changes["municipalities"] == [["3901"], []]


def test_a_field_that_is_not_editable_is_a_programming_error(editor, horten_service):
    with pytest.raises(ValueError, match="is_demo"):
        service_update(service=horten_service, by=editor, data={"is_demo": True}, base_version=0)


# --- verify ------------------------------------------------------------------------------


def test_verify_sets_last_verified_and_records_a_version(horten_clinician, horten_service):
    version = service_verify(service=horten_service, by=horten_clinician, today=dt.date(2026, 9, 1))
    assert horten_service.last_verified == dt.date(2026, 9, 1)
    assert version.number == 2
    assert version.changes == {"last_verified": ["2026-06-01", "2026-09-01"]}


def test_verifying_twice_on_one_day_writes_one_version(horten_clinician, horten_service):
    service_verify(service=horten_service, by=horten_clinician, today=dt.date(2026, 9, 1))
    again = service_verify(service=horten_service, by=horten_clinician, today=dt.date(2026, 9, 1))
    assert again is None
    assert horten_service.versions.count() == 2


def test_verify_by_another_unit_is_refused(larvik_clinician, horten_service):
    with pytest.raises(PermissionDenied):
        service_verify(service=horten_service, by=larvik_clinician, today=dt.date(2026, 9, 1))
    horten_service.refresh_from_db()
    assert horten_service.last_verified == dt.date(2026, 6, 1)


# --- readable diff -----------------------------------------------------------------------


def test_version_diff_is_readable(editor, horten_service):
    version = service_update(
        service=horten_service,
        by=editor,
        data={
            "level": Level.SPECIALIST,
            "municipalities": ["3901", "3909"],
            "offers_chat": True,
            "chat_url": "https://chat.example.no",
            "needs": ["anxiety"],
            "referral_required": True,
            "referrers": ["gp", "self"],
        },
        hours=[{"weekday": 0, "opens": "09:00", "closes": "15:00"}],
        base_version=0,
    )
    with translation.override("en"):
        rows = service_version_diff(version=version)
    diff = {label: (before, after) for label, before, after in rows}
    assert diff["Pyramid level"] == ("Early help", "Specialist health service")
    assert diff["Municipalities covered"] == ("3901 Horten", "3901 Horten, 3909 Larvik")
    assert diff["Chat"] == ("No", "Yes")
    assert diff["Needs served"] == ("", "Anxiety and worry")
    assert diff["Who may refer"] == ("", "Self-referral, GP (fastlege)")
    assert diff["Weekly opening hours"][1] == "Monday 09:00–15:00"
    assert list(diff)[:2] == ["Municipalities covered", "Pyramid level"]

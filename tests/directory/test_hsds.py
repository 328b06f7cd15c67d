"""HSDS 3.0 export and import: a lossless round trip, and bad files refused whole."""

import copy
import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from samhandling.core.models import OrganisationUnit, UnitKind
from samhandling.directory.models import Coverage, Level, Service
from samhandling.directory.services.hsds import (
    MAX_BYTES,
    HsdsError,
    hsds_export,
    hsds_import,
    hsds_parse,
)
from tests.directory.factories import ServiceFactory, UnitFactory, add_exception

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied_directory() -> list[Service]:
    """Every level and coverage, nynorsk texts, hours, both kinds of exception, a unit tree."""
    partnership = UnitFactory(
        code="test-helsefellesskap",
        name="Helsefellesskap Test",
        kind=UnitKind.PARTNERSHIP,
        organisation_number="974633574",
    )
    partnership.municipalities.set(["3901", "3903", "3905"])
    trust = UnitFactory(
        code="test-hf", name="Test HF", kind=UnitKind.HEALTH_TRUST, parent=partnership
    )
    clinic = UnitFactory(code="test-bup", name="BUP Test", kind=UnitKind.CLINIC, parent=trust)
    horten = UnitFactory(
        code="test-horten", name="Horten kommune", kind=UnitKind.MUNICIPALITY, parent=partnership
    )
    horten.municipalities.set(["3901"])
    national = UnitFactory(code="test-nasjonal", name="Nasjonal", kind=UnitKind.NATIONAL)

    universal = ServiceFactory(
        unit=horten,
        name_nb="Helsestasjon for ungdom",
        name_nn="Helsestasjon for ungdom (nynorsk)",
        description_nb="Gratis og uten timebestilling.",
        description_nn="Gratis og utan timebestilling.",
        how_to_nb="Kom innom.",
        how_to_nn="Kom innom, du.",
        level=Level.UNIVERSAL,
        offers_drop_in=True,
        offers_sms=True,
        open_on_holidays=True,
        street_address="Storgata 1",
        postal_code="3181",
        city="Horten",
        latitude=Decimal("59.417123"),
        longitude=Decimal("10.483456"),
        phone="+47 33 00 00 00",
        sms_number="+47 400 00 000",
        email="hfu@example.no",
        website="https://example.no/hfu",
        chat_url="https://example.no/chat",
        referrers=["self", "gp"],
        needs=["anxiety", "low-mood", "sexual-health"],
        weekly_hours=[(0, "12:00", "16:00"), (2, "12:00", "16:00"), (4, "09:30", "11:15")],
    )
    add_exception(universal, dt.date(2026, 7, 1), note="Sommerstengt")
    add_exception(universal, dt.date(2026, 7, 2), "10:00", "12:00", note="Kortere dag")
    add_exception(universal, dt.date(2026, 7, 2), "13:00", "14:00")
    early = ServiceFactory(
        unit=horten,
        name_nn="",
        level=Level.EARLY,
        coverage=Coverage.REGIONAL,
        municipalities=["3901", "3903", "3905"],
        referral_required=True,
        referrers=["municipal", "gp", "child_welfare"],
        is_active=False,
        last_verified=None,
        offers_phone=False,
        offers_web_form=True,
    )
    targeted = ServiceFactory(
        unit=horten,
        level=Level.TARGETED,
        age_min=0,
        age_max=120,
        always_open=True,
        is_demo=True,
        weekly_hours=[(d, "00:00", "23:59:30") for d in range(7)],
        needs=["substance-use"],
    )
    add_exception(targeted, dt.date(2026, 12, 24), "08:00", "12:00")
    specialist = ServiceFactory(
        unit=clinic,
        level=Level.SPECIALIST,
        coverage=Coverage.NATIONAL,
        municipalities=[],
        referral_required=True,
        referrers=["gp", "specialist"],
        needs=["psychosis", "trauma"],
        offers_chat=True,
        latitude=Decimal("-12.5"),
        longitude=Decimal("179.999999"),
    )
    add_exception(specialist, dt.date(2026, 5, 17))
    nationwide = ServiceFactory(unit=national, level=Level.EARLY, coverage=Coverage.NATIONAL)
    return [universal, early, targeted, specialist, nationwide]


def model_state(codes: set[str]) -> dict:
    """Every stored value of the services and units involved, keyed by code."""
    services = {}
    for service in Service.objects.filter(code__in=codes):
        values = {
            f.attname: getattr(service, f.attname)
            for f in Service._meta.concrete_fields
            if f.name not in {"id", "created_at", "unit"}
        }
        values["unit"] = service.unit.code
        values["municipalities"] = sorted(service.municipalities.values_list("number", flat=True))
        values["needs"] = sorted(service.needs.values_list("code", flat=True))
        values["hours"] = sorted(service.hours.values_list("weekday", "opens", "closes"))
        values["exceptions"] = sorted(
            service.exceptions.values_list("date", "closed", "opens", "closes", "note"), key=str
        )
        services[str(service.code)] = values
    return services


def unit_state() -> dict:
    return {
        unit.code: (
            unit.name,
            unit.kind,
            unit.parent.code if unit.parent else None,
            sorted(unit.municipalities.values_list("number", flat=True)),
            unit.organisation_number,
        )
        for unit in OrganisationUnit.objects.filter(code__startswith="test-")
    }


def wipe_directory() -> None:
    Service.objects.all().delete()
    while OrganisationUnit.objects.exists():
        OrganisationUnit.objects.filter(children__isnull=True).delete()


def write(tmp_path, content: str | bytes):
    path = tmp_path / "directory.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- round trip -----------------------------------------------------------------------------


def test_round_trip_into_an_empty_directory_gives_identical_document_and_models(
    varied_directory,
):
    codes = {str(s.code) for s in varied_directory}
    services_before, units_before = model_state(codes), unit_state()
    document = hsds_export()
    wire = json.loads(json.dumps(document))

    wipe_directory()
    assert not Service.objects.exists()
    result = hsds_import(document=wire)

    assert (result.services_created, result.services_updated) == (5, 0)
    assert result.units_created == 5
    assert hsds_export() == document
    assert model_state(codes) == services_before
    assert unit_state() == units_before


def test_importing_the_same_document_again_updates_and_changes_nothing(varied_directory):
    codes = {str(s.code) for s in varied_directory}
    before = model_state(codes)
    document = hsds_export()

    result = hsds_import(document=document)

    assert (result.services_created, result.services_updated) == (0, 5)
    assert (result.units_created, result.units_updated) == (0, 5)
    assert model_state(codes) == before


def test_import_updates_a_service_by_id_and_replaces_its_hours(varied_directory):
    service = varied_directory[0]
    document = hsds_export(services=[service])
    entry = document["services"][0]
    entry["name"] = "Nytt navn"
    entry["schedules"] = [
        {
            "id": "only",
            "freq": "WEEKLY",
            "byday": "SA,SU",
            "opens_at": "10:00",
            "closes_at": "14:00",
        }
    ]

    result = hsds_import(document=document)

    service.refresh_from_db()
    assert (result.services_created, result.services_updated) == (0, 1)
    assert service.name_nb == "Nytt navn"
    assert sorted(service.hours.values_list("weekday", flat=True)) == [5, 6]
    assert not service.exceptions.exists()


def test_export_of_a_subset_carries_the_units_ancestors_and_the_hsds_fields(varied_directory):
    specialist = varied_directory[3]

    document = hsds_export(services=Service.objects.filter(pk=specialist.pk))

    names = {o["name"] for o in document["organizations"]}
    assert names == {"BUP Test", "Test HF", "Helsefellesskap Test"}
    (entry,) = document["services"]
    assert entry["id"] == str(specialist.code)
    assert (entry["minimum_age"], entry["maximum_age"]) == (12, 25)
    assert entry["assured_date"] == "2026-06-01"
    assert entry["service_areas"] == []
    assert entry["schedules"][0] == {
        "id": entry["schedules"][0]["id"],
        "service_id": entry["id"],
        "freq": "WEEKLY",
        "byday": "MO,TU,WE,TH,FR",
        "opens_at": "08:00",
        "closes_at": "16:00",
    }
    closed = entry["schedules"][1]
    assert (closed["valid_from"], closed["valid_to"]) == ("2026-05-17", "2026-05-17")
    assert "opens_at" not in closed


def test_service_areas_carry_the_kommunenummer(varied_directory):
    document = hsds_export(services=[varied_directory[1]])
    terms = {t["id"]: t for t in document["taxonomy_terms"]}

    areas = document["services"][0]["service_areas"]

    numbers = [a["attributes"][0]["value"] for a in areas]
    assert numbers == ["3901", "3903", "3905"]
    assert [a["name"] for a in areas] == ["Horten", "Holmestrand", "Tønsberg"]
    term = terms[areas[0]["attributes"][0]["taxonomy_term_id"]]
    assert (term["taxonomy"], term["code"]) == ("samhandling:property", "kommunenummer")


def test_empty_directory_exports_an_empty_but_valid_document():
    document = hsds_export()

    assert document["services"] == []
    assert document["organizations"] == []
    assert hsds_import(document=document).services_created == 0


# --- refused documents ------------------------------------------------------------------------


@pytest.fixture
def exported(varied_directory) -> dict:
    return json.loads(json.dumps(hsds_export()))


def first_service(document: dict, predicate) -> tuple[int, dict]:
    """The position and entry of the first exported service matching (order is by UUID)."""
    return next((i, s) for i, s in enumerate(document["services"]) if predicate(s))


def assert_refused(document, message: str) -> None:
    before = (Service.objects.count(), OrganisationUnit.objects.count())
    names = sorted(Service.objects.values_list("name_nb", flat=True))
    with pytest.raises(HsdsError) as raised:
        hsds_import(document=document)
    assert message in str(raised.value)
    assert (Service.objects.count(), OrganisationUnit.objects.count()) == before
    assert sorted(Service.objects.values_list("name_nb", flat=True)) == names


def test_text_that_is_not_json_is_refused():
    with pytest.raises(HsdsError, match="not valid JSON"):
        hsds_parse(data=b'{"version": "3.0",')


def test_json_that_is_not_an_object_is_refused():
    with pytest.raises(HsdsError, match="expected a JSON object, got array"):
        hsds_parse(data="[]")


def test_deeply_nested_junk_is_refused_without_crashing():
    with pytest.raises(HsdsError, match="nested too deeply"):
        hsds_parse(data="[" * 200_000 + "]" * 200_000)


def test_nested_junk_within_the_limit_of_the_parser_is_refused(exported):
    junk: list = []
    for _ in range(100):
        junk = [junk]
    exported["services"][0]["description"] = junk

    assert_refused(exported, "services[0].description: expected string, got array")


def test_an_oversized_file_is_refused_before_parsing():
    with pytest.raises(HsdsError, match="larger than 50 MB"):
        hsds_parse(data=b" " * (MAX_BYTES + 1))


def test_nan_is_not_a_number_we_accept():
    with pytest.raises(HsdsError, match="not valid JSON"):
        hsds_parse(data='{"x": NaN}')


def test_a_missing_service_name_is_refused(exported):
    del exported["services"][2]["name"]

    assert_refused(exported, 'services[2]: missing required field "name"')


def test_an_empty_service_name_is_refused(exported):
    exported["services"][0]["name"] = "   "

    assert_refused(exported, "services[0].name: must not be empty")


def test_a_bad_time_is_refused_and_named(exported):
    exported["services"][3]["schedules"][0]["opens_at"] = "25:00"

    assert_refused(exported, 'services[3].schedules[0].opens_at: "25:00" is not a time')


def test_closing_before_opening_is_refused(exported):
    schedule = exported["services"][0]["schedules"][0]
    schedule["opens_at"], schedule["closes_at"] = "16:00", "08:00"

    assert_refused(exported, "services[0].schedules[0].closes_at")


def test_an_unknown_municipality_is_refused(exported):
    index = next(i for i, s in enumerate(exported["services"]) if s["service_areas"])
    exported["services"][index]["service_areas"][0]["attributes"][0]["value"] = "9999"

    assert_refused(
        exported,
        f'services[{index}].service_areas[0].attributes[0].value: unknown municipality "9999"',
    )


def test_a_duplicate_service_id_is_refused(exported):
    exported["services"][1]["id"] = exported["services"][0]["id"]

    assert_refused(exported, 'services[1].id: duplicate id "')


def test_a_service_id_that_is_not_a_uuid_is_refused(exported):
    exported["services"][0]["id"] = "not-a-uuid"

    assert_refused(exported, 'services[0].id: "not-a-uuid" is not a UUID')


def test_a_wrong_top_level_type_is_refused(exported):
    exported["services"] = {"a": 1}

    assert_refused(exported, "services: expected array, got object")


def test_an_unknown_field_is_refused_rather_than_dropped(exported):
    exported["services"][0]["fees_description"] = {"deep": [[[["junk"]]]]}

    assert_refused(exported, 'services[0]: unknown field "fees_description"')


def test_a_huge_name_is_refused(exported):
    exported["services"][0]["name"] = "x" * 1_000_000

    assert_refused(exported, "services[0].name: longer than 200 characters")


def test_too_many_services_are_refused(exported):
    exported["services"] = exported["services"] * 10_001

    assert_refused(exported, "services: more than 50000 entries")


def test_an_unknown_taxonomy_is_refused(exported):
    exported["taxonomies"][0]["name"] = "icarol:ais"

    assert_refused(exported, 'taxonomies[0].name: unknown taxonomy "icarol:ais"')


def test_an_unknown_need_is_refused(exported):
    term = next(t for t in exported["taxonomy_terms"] if t["taxonomy"] == "samhandling:need")
    term["code"] = "astrology"

    assert_refused(exported, 'code: unknown need "astrology"')


def test_an_unknown_level_is_refused(exported):
    term = next(t for t in exported["taxonomy_terms"] if t["code"] == "specialist")
    term["code"] = "tertiary"

    assert_refused(exported, 'unknown samhandling:level code "tertiary"')


def test_a_service_without_a_level_is_refused(exported):
    level_ids = {
        t["id"] for t in exported["taxonomy_terms"] if t["taxonomy"] == "samhandling:level"
    }
    service = exported["services"][1]
    service["attributes"] = [
        a for a in service["attributes"] if a["taxonomy_term_id"] not in level_ids
    ]

    assert_refused(exported, "services[1].attributes: no samhandling:level term")


def test_insane_ages_are_refused(exported):
    exported["services"][0]["minimum_age"] = 30
    exported["services"][0]["maximum_age"] = 20

    assert_refused(exported, "services[0].minimum_age: 30 is above the maximum age 20")


def test_an_age_above_120_is_refused(exported):
    exported["services"][0]["maximum_age"] = 500

    assert_refused(exported, "services[0].maximum_age: 500 is not an age")


def test_a_dangling_organization_reference_is_refused(exported):
    exported["services"][0]["organization_id"] = "nowhere"

    assert_refused(exported, 'services[0].organization_id: no organization with id "nowhere"')


def test_a_parent_cycle_is_refused(exported):
    orgs = exported["organizations"]
    first, second = orgs[0], orgs[1]
    first["parent_organization_id"], second["parent_organization_id"] = second["id"], first["id"]

    assert_refused(exported, "the parent chain loops back")


def test_a_bad_exception_date_is_refused(exported):
    index, service = first_service(
        exported, lambda s: any("valid_from" in x for x in s["schedules"])
    )
    at, exception = next((i, x) for i, x in enumerate(service["schedules"]) if "valid_from" in x)
    exception["valid_from"] = exception["valid_to"] = "2026-02-30"

    assert_refused(
        exported, f'services[{index}].schedules[{at}].valid_from: "2026-02-30" is not a date'
    )


def test_a_bad_web_address_is_refused(exported):
    exported["services"][0]["url"] = "javascript:alert(1)"

    assert_refused(exported, 'services[0].url: "javascript:alert(1)" is not a web address')


def test_a_bad_coordinate_is_refused(exported):
    index, service = first_service(exported, lambda s: "latitude" in str(s))
    location = service["service_at_locations"][0]["location"]
    location["latitude"] = 91

    assert_refused(
        exported,
        f"services[{index}].service_at_locations[0].location.latitude: 91 is outside -90…90",
    )


def test_an_unsupported_version_is_refused(exported):
    exported["version"] = "2.0"

    assert_refused(exported, 'version: "2.0" is not supported')


def test_a_bad_service_late_in_the_file_leaves_earlier_good_ones_unwritten(exported):
    exported["services"][0]["name"] = "Endret navn"
    exported["services"][4]["schedules"][0]["closes_at"] = "morgen"

    assert_refused(exported, 'services[4].schedules[0].closes_at: "morgen" is not a time')
    assert not Service.objects.filter(name_nb="Endret navn").exists()


# --- commands -------------------------------------------------------------------------------


def test_export_command_writes_the_document_to_a_file_and_import_command_reads_it(
    varied_directory, tmp_path
):
    path = tmp_path / "out.json"
    call_command("export_hsds", output=str(path))
    document = json.loads(path.read_text(encoding="utf-8"))
    wipe_directory()

    out = StringIO()
    call_command("import_hsds", str(path), stdout=out)

    assert "Services: 5 created, 0 updated. Units: 5 created, 0 updated." in out.getvalue()
    assert hsds_export() == document


def test_export_command_writes_to_standard_output_by_default(varied_directory):
    out = StringIO()

    call_command("export_hsds", stdout=out)

    assert len(json.loads(out.getvalue())["services"]) == 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "not valid JSON"),
        ('"a string"', "expected a JSON object, got string"),
        (b"\xff\xfe\x00junk", "not UTF-8"),
        ('{"version": "3.0"}', 'missing required field "organizations"'),
    ],
)
def test_import_command_refuses_a_bad_file_with_a_clear_message(tmp_path, content, message):
    path = write(tmp_path, content)

    with pytest.raises(CommandError, match=message):
        call_command("import_hsds", str(path))


def test_import_command_refuses_a_bad_document_and_changes_nothing(exported, tmp_path):
    exported["services"][0]["name"] = "Endret navn"
    exported["services"][1]["schedules"].append(
        {"id": "x", "freq": "WEEKLY", "byday": "MO", "opens_at": "25:00", "closes_at": "26:00"}
    )
    path = write(tmp_path, json.dumps(exported))
    before = model_state({s["id"] for s in exported["services"]})

    with pytest.raises(CommandError, match=r"services\[1\]\.schedules\[\d+\]\.opens_at"):
        call_command("import_hsds", str(path))

    assert model_state({s["id"] for s in exported["services"]}) == before


def test_import_command_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_hsds", str(tmp_path / "missing.json"))


def test_document_survives_a_deep_copy_unchanged_by_import(exported):
    # Import reads the document; it must not rewrite the caller's data.
    original = copy.deepcopy(exported)

    hsds_import(document=exported)

    assert exported == original


def test_an_import_is_kept_in_the_version_history_and_a_repeat_adds_no_version():
    from samhandling.directory.models import ServiceVersion
    from samhandling.directory.services.hsds import hsds_export, hsds_import
    from tests.directory.factories import ServiceFactory

    service = ServiceFactory(name_nb="Før import")
    document = hsds_export()
    document["services"][0]["name"] = "Etter import"
    hsds_import(document=document)
    versions = ServiceVersion.objects.filter(service=service).order_by("number")
    assert [v.number for v in versions] == [1]
    assert versions[0].author is None
    assert versions[0].snapshot["name_nb"] == "Etter import"

    document["services"][0]["name"] = "Andre import"
    hsds_import(document=document)
    hsds_import(document=document)
    latest = ServiceVersion.objects.filter(service=service).order_by("-number").first()
    assert latest.number == 2
    assert latest.changes["name_nb"] == ["Etter import", "Andre import"]

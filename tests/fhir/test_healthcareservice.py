"""FHIR HealthcareService read and search, and Organization read; all parse as R4 (R4B)."""

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization

from samhandling.core.models import UnitKind
from samhandling.directory.models import Coverage, Level, Service
from samhandling.directory.services.hsds import organization_hsds_id
from samhandling.fhir.mapping import (
    SYSTEM_KOMMUNENUMMER,
    SYSTEM_LEVEL,
    SYSTEM_NEED,
    SYSTEM_SERVICE,
)
from tests.directory.factories import ServiceFactory, UnitFactory, add_exception

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
# A Tuesday in May, before Ascension Day (14 May) and Constitution Day (17 May).
NOW = dt.datetime(2026, 5, 5, 12, 0, tzinfo=OSLO)


@pytest.fixture(autouse=True)
def fixed_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def services() -> dict:
    parent = UnitFactory(code="fhir-hf", name="Sykehuset Test HF", kind=UnitKind.HEALTH_TRUST)
    clinic = UnitFactory(
        code="fhir-bup",
        name="BUP Test",
        kind=UnitKind.CLINIC,
        parent=parent,
        organisation_number="974633574",
    )
    horten = ServiceFactory(
        name_nb="Helsestasjon for ungdom",
        name_nn="Helsestasjon for ungdom Horten",
        level=Level.UNIVERSAL,
        description_nb="Gratis.",
        municipalities=["3901"],
        needs=["anxiety", "low-mood"],
        offers_drop_in=True,
        email="hfu@example.no",
        website="https://example.no",
        phone="33000000",
        street_address="Storgata 1",
        postal_code="3181",
        city="Horten",
        latitude=Decimal("59.417000"),
        longitude=Decimal("10.483000"),
        referrers=["self"],
    )
    add_exception(horten, dt.date(2026, 5, 8), note="Planleggingsdag")
    add_exception(horten, dt.date(2026, 5, 11), "10:00", "12:00")
    add_exception(horten, dt.date(2026, 4, 1))  # in the past: not listed
    larvik = ServiceFactory(
        name_nb="Ungdomskontakt Larvik",
        name_nn="Ungdomskontakt Larvik",
        level=Level.EARLY,
        municipalities=["3909"],
    )
    regional = ServiceFactory(
        name_nb="Familievernet",
        name_nn="Familievernkontoret",
        level=Level.TARGETED,
        coverage=Coverage.REGIONAL,
        municipalities=["3901", "3903", "3909"],
        referral_required=True,
        referrers=["gp", "child_welfare"],
    )
    bup = ServiceFactory(
        unit=clinic,
        name_nb="BUP poliklinikk",
        name_nn="BUP poliklinikk",
        level=Level.SPECIALIST,
        municipalities=["3905"],
        referral_required=True,
    )
    national = ServiceFactory(
        name_nb="Nasjonal chat",
        name_nn="Nasjonal nettprat",
        level=Level.EARLY,
        coverage=Coverage.NATIONAL,
        municipalities=[],
        always_open=True,
        open_on_holidays=True,
        offers_chat=True,
        chat_url="https://example.no/chat",
    )
    closed = ServiceFactory(
        name_nb="Nedlagt tilbud",
        name_nn="Nedlagt tilbod",
        level=Level.EARLY,
        municipalities=["3901"],
        is_active=False,
    )
    return {
        "horten": horten,
        "larvik": larvik,
        "regional": regional,
        "bup": bup,
        "national": national,
        "closed": closed,
    }


def search(client, **params):
    response = client.get("/fhir/HealthcareService", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(response.json())
    return bundle, response.json()


def names(document: dict) -> set[str]:
    return {e["resource"]["name"] for e in document.get("entry", [])}


def assert_bad_request(client, params: dict, text: str) -> None:
    response = client.get("/fhir/HealthcareService", params, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/fhir+json")
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].severity == "error"
    assert text in outcome.issue[0].diagnostics


# --- search ---------------------------------------------------------------------------------


def test_search_without_parameters_is_a_searchset_of_every_service(client, services):
    bundle, document = search(client)

    assert bundle.type == "searchset"
    assert bundle.total == 6
    assert len(bundle.entry) == 6
    for entry in document["entry"]:
        HealthcareService.model_validate(entry["resource"])
        assert (
            entry["fullUrl"]
            == f"http://testserver/fhir/HealthcareService/{entry['resource']['id']}"
        )


def test_search_by_municipality_returns_services_covering_it_and_national_ones(client, services):
    _, document = search(client, municipality="3901")

    assert names(document) == {
        "Helsestasjon for ungdom",
        "Familievernet",
        "Nasjonal chat",
        "Nedlagt tilbud",
    }


def test_search_by_several_municipalities_means_any_of_them(client, services):
    _, document = search(client, municipality="3905,3909")

    assert names(document) == {
        "Ungdomskontakt Larvik",
        "Familievernet",
        "BUP poliklinikk",
        "Nasjonal chat",
    }


def test_search_by_municipality_accepts_the_kommunenummer_system(client, services):
    _, plain = search(client, municipality="3909")
    _, with_system = search(client, municipality=f"{SYSTEM_KOMMUNENUMMER}|3909")

    assert names(with_system) == names(plain)
    assert names(plain) == {"Ungdomskontakt Larvik", "Familievernet", "Nasjonal chat"}


def test_search_by_category_returns_exactly_that_level(client, services):
    _, document = search(client, **{"service-category": "early"})

    assert names(document) == {"Ungdomskontakt Larvik", "Nasjonal chat", "Nedlagt tilbud"}


def test_search_by_category_accepts_the_system_and_code_form(client, services):
    _, document = search(client, **{"service-category": f"{SYSTEM_LEVEL}|specialist"})

    assert names(document) == {"BUP poliklinikk"}


def test_search_by_name_is_case_insensitive_and_matches_either_language(client, services):
    _, by_bokmal = search(client, name="UNGDOM")
    _, by_nynorsk = search(client, name="nettprat")

    assert names(by_bokmal) == {"Helsestasjon for ungdom", "Ungdomskontakt Larvik"}
    assert names(by_nynorsk) == {"Nasjonal chat"}


def test_search_by_active_false_returns_only_inactive_services(client, services):
    _, inactive = search(client, active="false")
    _, active = search(client, active="true")

    assert names(inactive) == {"Nedlagt tilbud"}
    assert "Nedlagt tilbud" not in names(active)
    assert len(active["entry"]) == 5


def test_search_by_id_returns_that_service(client, services):
    code = str(services["bup"].code)

    _, document = search(client, _id=code)

    assert [e["resource"]["id"] for e in document["entry"]] == [code]


def test_parameters_combine_as_and(client, services):
    _, document = search(
        client, municipality="3901", active="true", **{"service-category": "early"}
    )

    assert names(document) == {"Nasjonal chat"}


def test_search_with_no_match_is_an_empty_searchset(client, services):
    bundle, document = search(client, name="finnes ikke")

    assert bundle.total == 0
    assert "entry" not in document


def test_paging_gives_total_and_next_and_previous_links(client, services):
    bundle, first = search(client, _count="2")

    assert bundle.total == 6
    assert len(first["entry"]) == 2
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in links
    assert "_offset=2" in links["next"]

    second = client.get(links["next"]).json()
    Bundle.model_validate(second)
    links = {link["relation"]: link["url"] for link in second["link"]}
    assert "_offset=0" in links["previous"]
    assert "_offset=4" in links["next"]
    assert names(first).isdisjoint(names(second))


def test_the_last_page_has_no_next_link(client, services):
    _, document = search(client, _count="4", _offset="4")

    assert len(document["entry"]) == 2
    assert "next" not in {link["relation"] for link in document["link"]}


def test_self_link_keeps_the_search_parameters(client, services):
    _, document = search(client, municipality="3901", _count="1")

    self_link = next(link["url"] for link in document["link"] if link["relation"] == "self")
    assert self_link.startswith("http://testserver/fhir/HealthcareService?")
    assert "municipality=3901" in self_link
    assert "_count=1" in self_link


def test_count_above_the_maximum_is_capped_and_zero_gives_only_the_total(client, services):
    _, capped = search(client, _count="100000")
    bundle, only_total = search(client, _count="0")

    assert "_count=500" in capped["link"][0]["url"]
    assert bundle.total == 6
    assert "entry" not in only_total


def test_an_offset_past_the_end_is_an_empty_page(client, services):
    bundle, document = search(client, _offset="999999999")

    assert bundle.total == 6
    assert "entry" not in document


def test_search_on_an_empty_directory_is_an_empty_searchset(client):
    bundle, _ = search(client)

    assert bundle.total == 0


def test_search_query_count_does_not_grow_with_the_page(
    client, services, django_assert_max_num_queries
):
    for _ in range(20):
        ServiceFactory(municipalities=["3901", "3903"], needs=["anxiety"])

    with django_assert_max_num_queries(10):
        client.get("/fhir/HealthcareService", {"_count": "500"})


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"municipality": "39"}, "4 digits"),
        ({"municipality": "9999"}, "no municipality"),
        ({"service-category": "tertiary"}, "Unknown service-category"),
        ({"service-category": "http://example.org|early"}, "Unknown code system"),
        ({"active": "yes"}, "true or false"),
        ({"_id": "not-a-uuid"}, "UUID"),
        ({"_count": "-1"}, "whole number"),
        ({"_count": "ten"}, "whole number"),
        ({"_offset": "1.5"}, "whole number"),
        ({"colour": "green"}, "Unknown search parameter"),
        ({"name:sounds-like": "x"}, "Unknown search parameter"),
    ],
)
def test_bad_search_parameters_are_a_400_operation_outcome(client, services, params, text):
    assert_bad_request(client, params, text)


def test_an_empty_parameter_is_ignored(client, services):
    bundle, _ = search(client, name="")

    assert bundle.total == 6


# --- read and mapping ----------------------------------------------------------------------


def read(client, service) -> dict:
    response = client.get(f"/fhir/HealthcareService/{service.code}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    HealthcareService.model_validate(response.json())
    return response.json()


def test_read_returns_the_service_mapped_to_r4(client, services):
    service = services["horten"]

    resource = read(client, service)

    assert resource["id"] == str(service.code)
    assert resource["identifier"] == [{"system": SYSTEM_SERVICE, "value": str(service.code)}]
    assert resource["active"] is True
    assert resource["name"] == "Helsestasjon for ungdom"
    assert resource["comment"] == "Gratis."
    assert resource["category"][0]["coding"][0]["system"] == SYSTEM_LEVEL
    assert resource["category"][0]["coding"][0]["code"] == "universal"
    assert resource["category"][0]["coding"][0]["display"]
    assert [c["coding"][0]["code"] for c in resource["specialty"]] == ["anxiety", "low-mood"]
    assert resource["specialty"][0]["coding"][0]["system"] == SYSTEM_NEED
    assert resource["providedBy"]["reference"] == (
        f"Organization/{organization_hsds_id(service.unit.code)}"
    )
    assert {(t["system"], t["value"]) for t in resource["telecom"]} == {
        ("phone", "33000000"),
        ("email", "hfu@example.no"),
        ("url", "https://example.no"),
    }
    assert resource["serviceProvisionCode"][0]["coding"][0]["code"] == "no-referral-required"
    assert resource["eligibility"][0]["code"]["text"] == "12–25"


def test_coverage_area_is_contained_locations_with_the_kommunenummer(client, services):
    resource = read(client, services["regional"])

    contained = {c["id"]: c for c in resource["contained"]}
    references = [area["reference"] for area in resource["coverageArea"]]
    assert references == ["#kommune-3901", "#kommune-3903", "#kommune-3909"]
    horten = contained["kommune-3901"]
    assert horten["identifier"] == [{"system": SYSTEM_KOMMUNENUMMER, "value": "3901"}]
    assert horten["name"] == "Horten"
    assert resource["serviceProvisionCode"][0]["coding"][0]["code"] == "referral-required"
    assert [m["coding"][0]["code"] for m in resource["referralMethod"]] == ["gp", "child_welfare"]


def test_a_national_service_covers_norway(client, services):
    resource = read(client, services["national"])

    assert [area["reference"] for area in resource["coverageArea"]] == ["#norway"]
    assert resource["availableTime"] == [
        {"daysOfWeek": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "allDay": True}
    ]
    assert "notAvailable" not in resource


def test_weekly_hours_become_available_time(client, services):
    resource = read(client, services["larvik"])

    assert resource["availableTime"] == [
        {
            "daysOfWeek": ["mon", "tue", "wed", "thu", "fri"],
            "availableStartTime": "08:00:00",
            "availableEndTime": "16:00:00",
        }
    ]


def test_closed_days_and_public_holidays_ahead_are_not_available(client, services):
    resource = read(client, services["horten"])

    closed = [(n["during"]["start"], n["description"]) for n in resource["notAvailable"]]
    days = [day for day, _ in closed]
    assert days[:3] == ["2026-05-08", "2026-05-14", "2026-05-17"]
    assert closed[0][1] == "Planleggingsdag"
    assert "2026-04-01" not in days
    assert "2026-05-11" not in days  # open at other times, not closed
    assert "2026-12-25" in days


def test_the_address_and_position_are_a_contained_location(client, services):
    resource = read(client, services["horten"])

    assert resource["location"] == [{"reference": "#place"}]
    place = next(c for c in resource["contained"] if c["id"] == "place")
    assert place["address"]["city"] == "Horten"
    assert place["address"]["postalCode"] == "3181"
    assert place["position"] == {"latitude": 59.417, "longitude": 10.483}


def test_every_service_maps_to_a_valid_resource_even_when_sparse(client):
    sparse = ServiceFactory(
        name_nn="",
        description_nb="",
        offers_phone=False,
        weekly_hours=[],
        municipalities=[],
        last_verified=None,
        latitude=Decimal("59.1"),
        longitude=None,
    )

    resource = read(client, sparse)

    assert "comment" not in resource
    assert "availableTime" not in resource
    assert "location" not in resource


def test_reading_an_unknown_id_is_a_404_operation_outcome(client, services):
    response = client.get(f"/fhir/HealthcareService/{uuid.uuid4()}")

    assert response.status_code == 404
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == "not-found"


def test_reading_a_malformed_id_is_a_404_operation_outcome(client, services):
    response = client.get("/fhir/HealthcareService/not-a-uuid")

    assert response.status_code == 404
    OperationOutcome.model_validate(response.json())


def test_post_to_the_search_endpoint_is_refused_and_creates_nothing(client, services):
    response = client.post(
        "/fhir/HealthcareService", {"name": "Ny"}, content_type="application/fhir+json"
    )

    assert response.status_code == 405
    OperationOutcome.model_validate(response.json())
    assert Service.objects.count() == 6


# --- organization ---------------------------------------------------------------------------


def test_the_providing_unit_reads_as_an_organization_with_its_parent(client, services):
    unit = services["bup"].unit
    reference = read(client, services["bup"])["providedBy"]["reference"]

    response = client.get(f"/fhir/{reference}")

    assert response.status_code == 200
    organization = Organization.model_validate(response.json())
    assert organization.name == "BUP Test"
    assert organization.partOf.reference == f"Organization/{organization_hsds_id('fhir-hf')}"
    systems = {i.system: i.value for i in organization.identifier}
    assert systems["urn:samhandling:unit"] == unit.code
    assert systems["urn:oid:2.16.578.1.12.4.1.4.101"] == "974633574"


def test_an_organization_can_also_be_read_by_its_unit_code(client, services):
    response = client.get("/fhir/Organization/fhir-bup")

    assert response.status_code == 200
    assert response.json()["id"] == organization_hsds_id("fhir-bup")


def test_an_unknown_organization_is_a_404_operation_outcome(client, services):
    response = client.get(f"/fhir/Organization/{uuid.uuid4()}")

    assert response.status_code == 404
    OperationOutcome.model_validate(response.json())

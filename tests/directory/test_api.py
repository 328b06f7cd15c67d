import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from samhandling.directory.models import Coverage, Level
from tests.directory.factories import ServiceFactory, add_exception

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
TUESDAY_10 = dt.datetime(2026, 5, 12, 10, 0, tzinfo=OSLO)
LIST = "/api/v1/services"


@pytest.fixture
def tuesday_morning():
    with time_machine.travel(TUESDAY_10, tick=False):
        yield


def names(response) -> set[str]:
    return {item["names"]["nb"] for item in response.json()["items"]}


# --- the list ---------------------------------------------------------------------------


def test_list_applies_municipality_age_need_open_now_and_no_referral(client, tuesday_morning):
    ServiceFactory(name_nb="Horten angst", needs=["anxiety"])
    ServiceFactory(
        name_nb="Nasjonal", coverage=Coverage.NATIONAL, municipalities=[], needs=["anxiety"]
    )
    ServiceFactory(name_nb="Larvik angst", municipalities=["3909"], needs=["anxiety"])
    ServiceFactory(name_nb="Voksen", age_min=18, needs=["anxiety"])
    ServiceFactory(name_nb="Søvn", needs=["sleep"])
    ServiceFactory(name_nb="Henvisning", needs=["anxiety"], referral_required=True)
    ServiceFactory(name_nb="Kveld", needs=["anxiety"], weekly_hours=[(1, "17:00", "21:00")])
    ServiceFactory(name_nb="Inaktiv", needs=["anxiety"], is_active=False)
    response = client.get(
        LIST,
        {
            "municipality": "3901",
            "age": "15",
            "need": "anxiety",
            "open_now": "true",
            "no_referral": "true",
        },
    )
    assert response.status_code == 200
    assert response.json()["total"] == 2
    assert names(response) == {"Horten angst", "Nasjonal"}


def test_list_filters_by_level_channel_and_text(client, tuesday_morning):
    ServiceFactory(name_nb="Chat for unge", level=Level.EARLY, offers_chat=True)
    ServiceFactory(name_nb="Chat spesialist", level=Level.SPECIALIST, offers_chat=True)
    ServiceFactory(name_nb="Telefon for unge", level=Level.EARLY)
    response = client.get(LIST, {"level": "early", "channel": ["chat", "sms"], "q": "unge"})
    assert names(response) == {"Chat for unge"}


def test_list_pages_with_limit_and_offset_and_reports_the_total(client, tuesday_morning):
    for n in range(7):
        ServiceFactory(name_nb=f"Tjeneste {n}")
    body = client.get(LIST, {"limit": "3", "offset": "5"}).json()
    assert body["total"] == 7
    assert (body["limit"], body["offset"]) == (3, 5)
    assert [item["names"]["nb"] for item in body["items"]] == ["Tjeneste 5", "Tjeneste 6"]


def test_list_answers_with_and_without_trailing_slash(client, tuesday_morning):
    ServiceFactory(name_nb="Helsestasjonen")
    assert names(client.get(LIST)) == {"Helsestasjonen"}
    assert names(client.get(LIST + "/")) == {"Helsestasjonen"}


def test_list_item_carries_the_whole_service(client, tuesday_morning):
    service = ServiceFactory(
        name_nb="Ungdomslosen",
        name_nn="Ungdomslosen nn",
        level=Level.TARGETED,
        needs=["anxiety"],
        offers_sms=True,
        sms_number="40000000",
        referral_required=True,
        referrers=["gp"],
        latitude=Decimal("59.417000"),
        longitude=Decimal("10.483000"),
        street_address="Apotekergata 10",
    )
    add_exception(service, dt.date(2026, 5, 13), note="Fagdag")
    add_exception(service, dt.date(2026, 4, 1))  # past: not listed
    item = client.get(LIST).json()["items"][0]
    assert item["code"] == str(service.code)
    assert item["names"] == {"nb": "Ungdomslosen", "nn": "Ungdomslosen nn"}
    assert item["level"]["code"] == "targeted"
    assert item["colour"] == "#f9b97a"
    assert item["coverage"] == "municipal"
    assert item["municipalities"] == [{"number": "3901", "name": "Horten"}]
    assert item["ages"] == {"min": 12, "max": 25}
    assert [n["code"] for n in item["needs"]] == ["anxiety"]
    assert item["channels"] == ["phone", "sms"]
    assert item["referral_required"] is True
    assert item["referrers"] == ["gp"]
    assert item["contact"]["sms"] == "40000000"
    assert item["address"]["street"] == "Apotekergata 10"
    assert item["coordinates"] == {"latitude": "59.417000", "longitude": "10.483000"}
    assert item["opening_hours"]["weekly"][0] == {
        "weekday": 0,
        "opens": "08:00:00",
        "closes": "16:00:00",
    }
    assert [e["date"] for e in item["opening_hours"]["exceptions"]] == ["2026-05-13"]
    assert item["open_now"] is True
    assert item["next_opening"] is None
    assert item["last_verified"] == "2026-06-01"
    assert item["url"] == f"http://testserver/services/{service.code}/"


def test_closed_service_tells_its_next_opening(client):
    ServiceFactory()
    with time_machine.travel(dt.datetime(2026, 5, 13, 17, 0, tzinfo=OSLO), tick=False):
        item = client.get(LIST).json()["items"][0]
    assert item["open_now"] is False
    assert item["next_opening"] == "2026-05-15T08:00:00+02:00"  # after Ascension Day


def test_list_takes_a_fixed_number_of_queries(client, tuesday_morning, django_assert_num_queries):
    for _ in range(10):
        ServiceFactory(needs=["anxiety", "sleep"], municipalities=["3901", "3903"])
    # Checks of municipality and need, count, page, needs, municipalities, hours, exceptions.
    with django_assert_num_queries(8):
        response = client.get(LIST, {"municipality": "3901", "need": "anxiety"})
    assert response.json()["total"] == 10


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"age": "abc"}, "age"),
        ({"age": "200"}, "age"),
        ({"municipality": "9999"}, "municipality"),
        ({"need": "nope"}, "need"),
        ({"level": "top"}, "level"),
        ({"channel": "fax"}, "channel"),
        ({"open_now": "sometimes"}, "open_now"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"q": "x" * 300}, "q"),
    ],
)
def test_bad_query_is_422_naming_the_field(client, query, field):
    response = client.get(LIST, query)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert any(field in [str(part) for part in error["loc"]] for error in detail)
    assert all(error["msg"] for error in detail)


def test_domain_error_message_is_translated_to_the_requested_language(client):
    response = client.get(LIST, {"municipality": "9999"}, headers={"Accept-Language": "en"})
    assert response.json()["detail"] == [
        {
            "loc": ["query", "municipality"],
            "msg": "Unknown municipality. Choose one from the list or give its four-digit number.",
            "type": "value_error",
        }
    ]


# --- one service ------------------------------------------------------------------------


def test_one_service_by_code_with_and_without_trailing_slash(client, tuesday_morning):
    service = ServiceFactory(name_nb="Helsestasjonen")
    for url in [f"{LIST}/{service.code}", f"{LIST}/{service.code}/"]:
        response = client.get(url)
        assert response.status_code == 200
        assert response.json()["names"]["nb"] == "Helsestasjonen"
        assert response.json()["open_now"] is True


@pytest.mark.parametrize("code", [str(uuid.UUID(int=1)), "not-a-uuid", "12345"])
def test_unknown_or_malformed_code_is_404_json(client, code):
    response = client.get(f"{LIST}/{code}")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_inactive_service_is_404(client):
    service = ServiceFactory(is_active=False)
    assert client.get(f"{LIST}/{service.code}").status_code == 404


# --- the schema -------------------------------------------------------------------------


def test_openapi_schema_describes_the_service_endpoints_with_typed_schemas(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/services" in schema["paths"]
    assert "/api/v1/services/{code}" in schema["paths"]
    assert "/api/v1/services/" not in schema["paths"]
    listing = schema["paths"]["/api/v1/services"]["get"]
    params = {p["name"] for p in listing["parameters"]}
    assert {"municipality", "age", "need", "open_now", "no_referral", "limit", "offset"} <= params
    assert set(listing["responses"]) == {"200", "422"}
    assert set(schema["paths"]["/api/v1/services/{code}"]["get"]["responses"]) == {"200", "404"}
    components = schema["components"]["schemas"]
    assert {"ServiceOut", "ServiceList", "OpeningHoursOut"} <= set(components)
    assert "open_now" in components["ServiceOut"]["properties"]


def test_list_output_matches_its_published_schema_exactly(client, tuesday_morning):
    """The list is rendered without re-validation, so the schema is checked here instead."""
    from samhandling.directory.api import ServiceList

    ServiceFactory(
        name_nb="Regional",
        coverage=Coverage.REGIONAL,
        municipalities=["3901", "3903"],
        needs=["anxiety", "sleep"],
        latitude=Decimal("59.4"),
        longitude=Decimal("10.5"),
    )
    ServiceFactory(name_nb="Nasjonal", coverage=Coverage.NATIONAL, municipalities=[])
    body = client.get(LIST).json()
    parsed = ServiceList.model_validate(body)
    assert parsed.model_dump(mode="json") == body
    regional = next(item for item in body["items"] if item["names"]["nb"] == "Regional")
    # By name, as everywhere in the directory: Holmestrand before Horten.
    assert [m["number"] for m in regional["municipalities"]] == ["3903", "3901"]
    assert [n["code"] for n in regional["needs"]] == ["anxiety", "sleep"]
    assert regional["url"].startswith("http://testserver/")

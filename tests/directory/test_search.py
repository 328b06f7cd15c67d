import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict
from django.utils import translation

from samhandling.directory.models import Coverage, Level
from samhandling.directory.services.search import (
    SearchFilters,
    search_page,
    search_widenings,
    service_search,
)
from tests.directory.factories import ServiceFactory, add_exception

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
TUESDAY_10 = dt.datetime(2026, 5, 12, 10, 0, tzinfo=OSLO)


def found(filters: SearchFilters, at: dt.datetime = TUESDAY_10) -> set[str]:
    return {s.name_nb for s in service_search(filters=filters, at=at)}


def parse(query: str) -> SearchFilters:
    return SearchFilters.from_query(QueryDict(query))


# --- the acceptance case ----------------------------------------------------------------


def test_15_year_old_in_horten_with_anxiety_without_referral_open_now_finds_exactly_the_right():
    ServiceFactory(name_nb="Helsestasjon for ungdom Horten", needs=["anxiety", "low-mood"])
    ServiceFactory(
        name_nb="Nasjonal chat",
        coverage=Coverage.NATIONAL,
        municipalities=[],
        needs=["anxiety"],
        always_open=True,
        weekly_hours=[],
    )
    ServiceFactory(
        name_nb="Regionalt lavterskeltilbud",
        coverage=Coverage.REGIONAL,
        municipalities=["3901", "3903", "3905"],
        needs=["anxiety"],
    )
    # Decoys, each failing exactly one filter.
    ServiceFactory(name_nb="Feil kommune", municipalities=["3909"], needs=["anxiety"])
    ServiceFactory(name_nb="For gammel", age_min=18, age_max=25, needs=["anxiety"])
    ServiceFactory(name_nb="For ung", age_min=6, age_max=14, needs=["anxiety"])
    ServiceFactory(name_nb="Feil behov", needs=["low-mood"])
    ServiceFactory(name_nb="Henvisning", referral_required=True, needs=["anxiety"])
    ServiceFactory(name_nb="Stengt nå", needs=["anxiety"], weekly_hours=[(1, "12:00", "16:00")])
    closed_today = ServiceFactory(name_nb="Stengt i dag", needs=["anxiety"])
    add_exception(closed_today, dt.date(2026, 5, 12))
    ServiceFactory(name_nb="Inaktiv", is_active=False, needs=["anxiety"])

    filters = parse("municipality=3901&age=15&need=anxiety&no_referral=on&open_now=on")

    assert filters.is_valid
    assert found(filters) == {
        "Helsestasjon for ungdom Horten",
        "Nasjonal chat",
        "Regionalt lavterskeltilbud",
    }


def test_national_services_match_every_municipality():
    ServiceFactory(name_nb="Nasjonal", coverage=Coverage.NATIONAL, municipalities=[])
    ServiceFactory(name_nb="Horten", municipalities=["3901"])
    assert found(SearchFilters(municipality="3901")) == {"Nasjonal", "Horten"}
    assert found(SearchFilters(municipality="0301")) == {"Nasjonal"}
    assert found(SearchFilters(municipality="5601")) == {"Nasjonal"}


def test_open_now_on_17_may_keeps_only_services_open_on_holidays():
    ServiceFactory(name_nb="Søndag", weekly_hours=[(6, "10:00", "14:00")])
    ServiceFactory(
        name_nb="Søndag og helligdag", open_on_holidays=True, weekly_hours=[(6, "10:00", "14:00")]
    )
    ServiceFactory(name_nb="Døgnåpen", always_open=True, weekly_hours=[])
    constitution_day = dt.datetime(2026, 5, 17, 12, 0, tzinfo=OSLO)
    assert found(SearchFilters(open_now=True), at=constitution_day) == {
        "Søndag og helligdag",
        "Døgnåpen",
    }


# --- one filter at a time ---------------------------------------------------------------


def test_age_limits_are_inclusive():
    ServiceFactory(name_nb="12–25", age_min=12, age_max=25)
    assert found(SearchFilters(age=12)) == {"12–25"}
    assert found(SearchFilters(age=25)) == {"12–25"}
    assert found(SearchFilters(age=11)) == set()
    assert found(SearchFilters(age=26)) == set()


def test_service_matches_when_it_serves_at_least_one_of_the_needs():
    ServiceFactory(name_nb="Angst", needs=["anxiety"])
    ServiceFactory(name_nb="Søvn", needs=["sleep"])
    ServiceFactory(name_nb="Rus", needs=["substance-use"])
    assert found(SearchFilters(needs=["anxiety", "sleep"])) == {"Angst", "Søvn"}


def test_service_matches_when_it_offers_at_least_one_of_the_channels():
    ServiceFactory(name_nb="Chat", offers_phone=False, offers_chat=True)
    ServiceFactory(name_nb="SMS", offers_phone=False, offers_sms=True)
    ServiceFactory(name_nb="Telefon")
    assert found(SearchFilters(channels=["chat", "sms"])) == {"Chat", "SMS"}


def test_levels_filter_keeps_the_chosen_levels():
    ServiceFactory(name_nb="Universell", level=Level.UNIVERSAL)
    ServiceFactory(name_nb="Spesialist", level=Level.SPECIALIST)
    ServiceFactory(name_nb="Tidlig", level=Level.EARLY)
    assert found(SearchFilters(levels=["universal", "specialist"])) == {"Universell", "Spesialist"}


def test_free_text_matches_bokmal_and_nynorsk_names_ignoring_case():
    ServiceFactory(name_nb="Ungdomskontakten", name_nn="Ungdomskontakten")
    ServiceFactory(name_nb="Helsestasjonen", name_nn="Helsestasjonen for unge")
    ServiceFactory(name_nb="Familievernet", name_nn="Familievernet")
    assert found(SearchFilters(q="UNGDOM")) == {"Ungdomskontakten"}
    assert found(SearchFilters(q="for unge")) == {"Helsestasjonen"}


def test_inactive_services_are_never_found():
    ServiceFactory(name_nb="Inaktiv", is_active=False)
    assert found(SearchFilters()) == set()


def test_a_service_matching_several_needs_and_municipalities_appears_once():
    ServiceFactory(
        name_nb="Bred",
        coverage=Coverage.REGIONAL,
        municipalities=["3901", "3903", "3905"],
        needs=["anxiety", "sleep", "low-mood"],
    )
    results = list(
        service_search(
            filters=SearchFilters(municipality="3901", needs=["anxiety", "sleep"]), at=TUESDAY_10
        )
    )
    assert [s.name_nb for s in results] == ["Bred"]


def test_results_are_ordered_by_pyramid_level_then_name():
    ServiceFactory(name_nb="B spesialist", level=Level.SPECIALIST)
    ServiceFactory(name_nb="A spesialist", level=Level.SPECIALIST)
    ServiceFactory(name_nb="Z universell", level=Level.UNIVERSAL)
    ServiceFactory(name_nb="M tidlig", level=Level.EARLY)
    ServiceFactory(name_nb="K målrettet", level=Level.TARGETED)
    names = [s.name_nb for s in service_search(filters=SearchFilters(), at=TUESDAY_10)]
    assert names == ["Z universell", "M tidlig", "K målrettet", "A spesialist", "B spesialist"]


def test_search_and_card_data_take_a_fixed_number_of_queries(django_assert_num_queries):
    for n in range(12):
        service = ServiceFactory(
            needs=["anxiety", "sleep"],
            coverage=Coverage.REGIONAL,
            municipalities=["3901", "3903"],
        )
        add_exception(service, dt.date(2026, 5, 13 + n % 3))
    filters = SearchFilters(municipality="3901", needs=["anxiety"], open_now=True)
    # One for the services with their unit, one each for needs, municipalities, hours, exceptions.
    with django_assert_num_queries(5):
        for service in service_search(filters=filters, at=TUESDAY_10):
            assert service.unit.name
            assert [n.code for n in service.needs.all()]
            assert [m.number for m in service.municipalities.all()]
            assert list(service.hours.all())
            assert len(service.exceptions.all()) <= 1


# --- parsing and checking a query string ------------------------------------------------


def test_query_string_is_parsed_into_filters():
    filters = parse(
        "municipality=3901&age=15&need=anxiety&need=sleep&level=early&channel=chat"
        "&no_referral=on&open_now=true&q=+ung+"
    )
    assert filters == SearchFilters(
        municipality="3901",
        age=15,
        needs=["anxiety", "sleep"],
        levels=["early"],
        channels=["chat"],
        no_referral=True,
        open_now=True,
        q="ung",
    )
    assert filters.errors == {}


def test_empty_fields_from_the_form_do_not_filter():
    filters = parse("municipality=&age=&need=&q=&no_referral=&open_now=")
    assert filters == SearchFilters()
    assert filters.errors == {}
    assert filters.active() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("municipality=9999", "municipality"),
        ("municipality=Horten", "municipality"),
        ("age=abc", "age"),
        ("age=121", "age"),
        ("age=-1", "age"),
        ("age=1e3", "age"),
        ("need=not-a-need", "needs"),
        ("need=anxiety&need=nope", "needs"),
        ("level=top", "levels"),
        ("channel=pigeon", "channels"),
        ("no_referral=maybe", "no_referral"),
        ("open_now=2", "open_now"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_bad_value_gives_a_message_and_is_left_out(query, field):
    filters = parse(query + "&age=15" if field != "age" else query)
    assert set(filters.errors) == {field}
    assert isinstance(filters.errors[field], str)
    assert filters.errors[field]
    assert getattr(filters, field) == getattr(SearchFilters(), field)
    # The refused value is not echoed back in the message.
    assert "not-a-need" not in filters.errors[field]
    assert "Horten" not in filters.errors[field]


def test_messages_follow_the_active_language():
    with translation.override("en"):
        message = parse("age=200").errors["age"]
    assert message == "Age must be a whole number from 0 to 120."


def test_filters_survive_a_round_trip_through_the_query_string():
    filters = SearchFilters(
        municipality="3905",
        age=17,
        needs=["anxiety", "eating"],
        levels=["early", "targeted"],
        channels=["sms"],
        no_referral=True,
        open_now=True,
        q="æøå & co",
    )
    assert parse(filters.to_query()) == filters


def test_from_query_accepts_a_plain_mapping():
    filters = SearchFilters.from_query({"municipality": "3901", "need": ["anxiety"], "age": 15})
    assert filters == SearchFilters(municipality="3901", needs=["anxiety"], age=15)


# --- widening an empty result -----------------------------------------------------------


def test_widenings_count_the_results_without_each_active_filter():
    ServiceFactory(name_nb="Larvik angst", municipalities=["3909"], needs=["anxiety"])
    ServiceFactory(name_nb="Horten søvn", needs=["sleep"])
    ServiceFactory(name_nb="Horten angst henvisning", needs=["anxiety"], referral_required=True)
    filters = SearchFilters(municipality="3901", needs=["anxiety"], no_referral=True)
    assert found(filters) == set()

    widenings = {w.name: w for w in search_widenings(filters=filters, at=TUESDAY_10)}

    assert {name: w.count for name, w in widenings.items()} == {
        "municipality": 1,
        "needs": 1,
        "no_referral": 1,
    }
    assert widenings["municipality"].filters == SearchFilters(needs=["anxiety"], no_referral=True)
    assert "municipality" not in widenings["municipality"].query
    assert "need=anxiety" in widenings["municipality"].query


def test_widening_open_now_counts_services_closed_at_that_moment():
    ServiceFactory(name_nb="Hverdag")
    saturday = dt.datetime(2026, 5, 16, 12, 0, tzinfo=OSLO)
    widenings = search_widenings(filters=SearchFilters(open_now=True), at=saturday)
    assert [(w.name, w.count) for w in widenings] == [("open_now", 1)]


def test_no_widenings_without_active_filters():
    assert search_widenings(filters=SearchFilters(), at=TUESDAY_10) == []


# --- one page with its total ------------------------------------------------------------


@pytest.mark.parametrize("municipality", [None, "3901"])
def test_search_page_matches_the_full_search_page_by_page(municipality):
    for n in range(7):
        ServiceFactory(name_nb=f"Tjeneste {n}", level=[Level.EARLY, Level.UNIVERSAL][n % 2])
    ServiceFactory(name_nb="Nasjonal", coverage=Coverage.NATIONAL, municipalities=[])
    ServiceFactory(name_nb="Larvik", municipalities=["3909"])
    filters = SearchFilters(municipality=municipality)
    everything = [s.name_nb for s in service_search(filters=filters, at=TUESDAY_10)]
    pages = [search_page(filters=filters, at=TUESDAY_10, offset=o, limit=3) for o in (0, 3, 6)]
    assert all(page.total == len(everything) for page in pages)
    assert [s.name_nb for page in pages for s in page.services] == everything


@pytest.mark.parametrize("municipality", [None, "3901"])
def test_search_page_past_the_end_is_empty_but_knows_the_total(municipality):
    ServiceFactory.create_batch(2)
    page = search_page(filters=SearchFilters(municipality=municipality), offset=40, limit=20)
    assert page.services == []
    assert page.total == 2


def test_search_page_of_nothing_has_total_zero():
    page = search_page(filters=SearchFilters(municipality="3909"), at=TUESDAY_10)
    assert (page.total, page.services) == (0, [])


@pytest.mark.parametrize(("municipality", "queries"), [(None, 6), ("3901", 6)])
def test_search_page_takes_a_fixed_number_of_queries(
    django_assert_num_queries, municipality, queries
):
    for _ in range(5):
        ServiceFactory(needs=["anxiety"])
    filters = SearchFilters(municipality=municipality, needs=["anxiety"], open_now=True)
    with django_assert_num_queries(queries):
        page = search_page(filters=filters, at=TUESDAY_10)
        for service in page.services:
            assert [n.code for n in service.linked_needs] == ["anxiety"]
            assert [m.number for m in service.linked_municipalities] == ["3901"]
            assert service.unit.name
            assert service.linked_hours
            assert service.linked_exceptions == []
    assert page.total == 5

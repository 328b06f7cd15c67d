"""The service map as data and as pages: grouping by level, coverage, partnerships, files, 404s."""

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.http import http_date

from samhandling.core.models import Municipality, UnitKind
from samhandling.directory.models import LEVEL_COLOURS, Coverage, Level, Service
from samhandling.directory.services.maps import (
    LEVELS_TOP_DOWN,
    ages_label,
    map_for_municipality,
    map_for_partnership,
    map_municipality_choices,
    service_contact_line,
)
from tests.directory.factories import ServiceFactory, UnitFactory

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
STATIC = Path(__file__).resolve().parents[2] / "src/samhandling/directory/static/directory"


def names_by_level(service_map) -> dict[str, list[str]]:
    return {level.level: [s.name for s in level.services] for level in service_map.levels}


@pytest.fixture
def horten_services() -> dict[str, Service]:
    return {
        "universal": ServiceFactory(name_nb="Helsestasjon for ungdom", level=Level.UNIVERSAL),
        "early": ServiceFactory(name_nb="Ung Arena Horten", level=Level.EARLY),
        "targeted": ServiceFactory(name_nb="Oppfølgingstjenesten", level=Level.TARGETED),
        "specialist": ServiceFactory(
            name_nb="BUP Vestfold",
            level=Level.SPECIALIST,
            coverage=Coverage.REGIONAL,
            municipalities=["3901", "3903", "3905", "3907", "3909", "3911"],
            referral_required=True,
        ),
        "national": ServiceFactory(
            name_nb="Alarmtelefonen for barn og unge",
            level=Level.EARLY,
            coverage=Coverage.NATIONAL,
            municipalities=[],
        ),
    }


# --- the map as data --------------------------------------------------------------------


def test_municipality_map_groups_services_by_level_from_the_top(horten_services):
    service_map = map_for_municipality(number="3901")

    assert [level.level for level in service_map.levels] == [
        "specialist",
        "targeted",
        "early",
        "universal",
    ]
    assert names_by_level(service_map) == {
        "specialist": ["BUP Vestfold"],
        "targeted": ["Oppfølgingstjenesten"],
        "early": ["Ung Arena Horten", "Alarmtelefonen for barn og unge"],
        "universal": ["Helsestasjon for ungdom"],
    }


def test_each_level_carries_its_pyramid_colour(horten_services):
    service_map = map_for_municipality(number="3901")

    assert {level.level: level.colour for level in service_map.levels} == LEVEL_COLOURS
    assert tuple(level.level for level in service_map.levels) == LEVELS_TOP_DOWN


def test_national_services_are_on_every_municipality_map(horten_services):
    for number in ["3901", "5622", "0301"]:
        service_map = map_for_municipality(number=number)
        assert "Alarmtelefonen for barn og unge" in service_map.service_names


def test_regional_service_is_on_the_maps_of_the_municipalities_it_covers(horten_services):
    assert "BUP Vestfold" in map_for_municipality(number="3909").service_names
    assert "BUP Vestfold" not in map_for_municipality(number="3301").service_names


def test_service_of_another_municipality_is_not_on_the_map(horten_services):
    ServiceFactory(name_nb="Larvik ungdomsteam", municipalities=["3909"])

    assert "Larvik ungdomsteam" not in map_for_municipality(number="3901").service_names
    assert "Larvik ungdomsteam" in map_for_municipality(number="3909").service_names


def test_inactive_service_is_left_off_the_map(horten_services):
    ServiceFactory(name_nb="Nedlagt tilbud", is_active=False)

    assert "Nedlagt tilbud" not in map_for_municipality(number="3901").service_names


def test_local_services_come_before_regional_and_national_ones_within_a_level():
    ServiceFactory(name_nb="Aaa nasjonal", coverage=Coverage.NATIONAL, municipalities=[])
    ServiceFactory(name_nb="Aaa regional", coverage=Coverage.REGIONAL)
    ServiceFactory(name_nb="Zzz lokal")
    ServiceFactory(name_nb="Ærlig prat")

    early = names_by_level(map_for_municipality(number="3901"))["early"]

    # Norwegian order: æ after z.
    assert early == ["Zzz lokal", "Ærlig prat", "Aaa regional", "Aaa nasjonal"]


def test_service_entry_says_how_to_get_in_touch_and_for_which_ages():
    ServiceFactory(
        name_nb="Chat og SMS",
        phone="33 00 00 00",
        offers_sms=True,
        sms_number="2222",
        offers_chat=True,
        offers_drop_in=True,
        age_min=13,
        age_max=20,
    )
    with translation.override("en"):
        entry = map_for_municipality(number="3901").levels[2].services[0]

    assert entry.contact == "Phone 33 00 00 00 · SMS 2222 · Chat · Drop-in · No referral needed"
    assert entry.ages == "Ages 13–20"


def test_contact_line_says_when_a_referral_is_needed():
    service = ServiceFactory.build(
        offers_phone=False, referral_required=True, offers_web_form=True, always_open=True
    )
    with translation.override("en"):
        assert service_contact_line(service=service) == (
            "Web form · Open around the clock · Referral needed"
        )


@pytest.mark.parametrize(
    ("age_min", "age_max", "label"),
    [
        (0, 120, "All ages"),
        (16, 120, "Ages 16 and up"),
        (0, 18, "Ages up to 18"),
        (12, 25, "Ages 12–25"),
    ],
)
def test_ages_are_said_in_words(age_min, age_max, label):
    with translation.override("en"):
        assert ages_label(age_min=age_min, age_max=age_max) == label


def test_names_follow_the_language_with_fallback_to_bokmal():
    ServiceFactory(name_nb="Skulehelse bokmål", name_nn="Skulehelsetenesta")
    ServiceFactory(name_nb="Bare bokmål", name_nn="")

    with translation.override("nn"):
        names = map_for_municipality(number="3901").service_names

    assert sorted(names) == ["Bare bokmål", "Skulehelsetenesta"]


def test_municipality_with_no_services_gives_an_empty_map():
    service_map = map_for_municipality(number="5622")

    assert service_map.is_empty
    assert [len(level.services) for level in service_map.levels] == [0, 0, 0, 0]
    assert service_map.last_modified is None


def test_unknown_municipality_raises():
    with pytest.raises(Municipality.DoesNotExist):
        map_for_municipality(number="9999")


def test_map_knows_it_holds_demo_data():
    ServiceFactory(is_demo=True)

    assert map_for_municipality(number="3901").is_demo
    assert not map_for_municipality(number="3909").is_demo


def test_map_date_and_newest_update_are_recorded():
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=OSLO), tick=False):
        ServiceFactory()
    with time_machine.travel(dt.datetime(2026, 3, 5, 23, 30, tzinfo=OSLO), tick=False):
        ServiceFactory()
        service_map = map_for_municipality(number="3901")

    assert service_map.generated == dt.date(2026, 3, 5)
    assert service_map.last_modified == dt.datetime(2026, 3, 5, 23, 30, tzinfo=OSLO)


def test_filename_is_a_safe_slug_with_number_and_name():
    assert map_for_municipality(number="3901").filename_stem == "tjenestekart-3901-horten"
    assert map_for_municipality(number="3911").filename_stem == "tjenestekart-3911-faerder"
    assert map_for_municipality(number="5610").filename_stem == "tjenestekart-5610-karasjok"


def test_municipality_map_takes_two_queries_however_many_services(django_assert_num_queries):
    for index in range(25):
        ServiceFactory(level=Level.values[index % 4])

    with django_assert_num_queries(2):
        service_map = map_for_municipality(number="3901")

    assert service_map.service_count == 25


# --- partnerships -----------------------------------------------------------------------


def test_partnership_map_holds_services_of_any_of_its_municipalities(horten_services):
    ServiceFactory(name_nb="Larvik ungdomsteam", municipalities=["3909"])
    ServiceFactory(name_nb="Oslo tilbud", municipalities=["0301"])

    service_map = map_for_partnership(code="helsefellesskap-vestfold")

    assert "Larvik ungdomsteam" in service_map.service_names
    assert "Helsestasjon for ungdom" in service_map.service_names
    assert "Alarmtelefonen for barn og unge" in service_map.service_names
    assert "Oslo tilbud" not in service_map.service_names
    assert "Helsefellesskapet Vestfold" in service_map.title


def test_partnership_map_lists_which_of_its_municipalities_a_service_covers(horten_services):
    ServiceFactory(name_nb="Felles tilbud", municipalities=["3909", "3901", "0301"])

    with translation.override("en"):
        service_map = map_for_partnership(code="helsefellesskap-vestfold")
    covers = {s.name: s.covers for level in service_map.levels for s in level.services}

    assert covers["Felles tilbud"] == "Horten, Larvik"
    assert covers["BUP Vestfold"] == "All municipalities in the partnership"
    assert covers["Alarmtelefonen for barn og unge"] == "The whole country"


def test_partnership_map_names_its_municipalities():
    with translation.override("en"):
        service_map = map_for_partnership(code="helsefellesskap-vestfold")

    assert service_map.subtitle == (
        "The 6 municipalities: Færder, Holmestrand, Horten, Larvik, Sandefjord, Tønsberg."
    )
    assert service_map.filename_stem == "tjenestekart-helsefellesskap-vestfold"


def test_a_unit_that_is_no_helsefellesskap_has_no_partnership_map(horten_unit):
    from samhandling.core.models import OrganisationUnit

    with pytest.raises(OrganisationUnit.DoesNotExist):
        map_for_partnership(code=horten_unit.code)


def test_partnership_map_takes_four_queries_however_many_services(django_assert_num_queries):
    for index in range(20):
        ServiceFactory(level=Level.values[index % 4], municipalities=["3901", "3909"])

    with django_assert_num_queries(4):
        service_map = map_for_partnership(code="helsefellesskap-vestfold")

    assert service_map.service_count == 20


# --- choosing a map ---------------------------------------------------------------------


def test_choices_hold_all_municipalities_grouped_by_county():
    counties = map_municipality_choices()

    assert sum(len(c.municipalities) for c in counties) == Municipality.objects.count() == 357
    assert len(counties) == len({c.number for c in counties})
    vestfold = next(c for c in counties if c.number == "39")
    assert [m.number for m in vestfold.municipalities] == [
        "3911",
        "3903",
        "3901",
        "3909",
        "3907",
        "3905",
    ]


def test_choices_can_be_narrowed_by_name_number_or_county():
    assert [m.name for c in map_municipality_choices(query="hort") for m in c.municipalities] == [
        "Horten"
    ]
    assert [m.number for c in map_municipality_choices(query="3909") for m in c.municipalities] == [
        "3909"
    ]
    assert (
        len([m for c in map_municipality_choices(query="Vestfold") for m in c.municipalities]) == 6
    )
    assert map_municipality_choices(query="finnes ikke") == []


# --- pages ------------------------------------------------------------------------------


def test_index_offers_every_municipality_grouped_by_county_and_every_partnership(client):
    response = client.get(reverse("directory:map-index"))

    html = response.content.decode()
    assert response.status_code == 200
    assert len(re.findall(r'<option value="\d{4}"', html)) == 357
    assert html.count("<optgroup") == 15
    assert 'value="helsefellesskap-vestfold"' in html
    assert '<label for="map-municipality">' in html
    assert '<label for="map-partnership">' in html


def test_index_filter_without_javascript_narrows_the_list_and_preselects_one_match(client):
    response = client.get(reverse("directory:map-index"), {"q": "Horten"})

    html = response.content.decode()
    assert re.findall(r'<option value="(\d{4})"', html) == ["3901"]
    assert re.search(r'<option value="3901"[^>]* selected>', html)


def test_index_sends_the_chosen_municipality_to_its_map(client):
    response = client.get(reverse("directory:map-index"), {"kommune": "3901", "q": ""})

    assert response.status_code == 302
    assert response["Location"] == reverse("directory:map-municipality", args=["3901"])


def test_index_sends_the_chosen_partnership_to_its_map(client):
    response = client.get(
        reverse("directory:map-index"), {"helsefellesskap": "helsefellesskap-vestfold"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "directory:map-partnership", args=["helsefellesskap-vestfold"]
    )


def test_index_refuses_an_unknown_choice_with_a_message(client):
    response = client.get(reverse("directory:map-index"), {"kommune": "9999"})

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()


def test_map_page_shows_levels_in_pyramid_order_with_links_and_downloads(client, horten_services):
    response = client.get(reverse("directory:map-municipality", args=["3901"]))

    html = response.content.decode()
    assert response.status_code == 200
    positions = [html.index(f'class="map-level map-level-{level}"') for level in LEVELS_TOP_DOWN]
    assert positions == sorted(positions)
    for service in horten_services.values():
        assert reverse("directory:service-detail", args=[service.code]) in html
        assert service.name_nb in html
    assert reverse("directory:map-municipality-file", args=["3901", "pdf"]) in html
    assert reverse("directory:map-municipality-file", args=["3901", "png"]) in html
    assert "map.css" in html


def test_map_page_of_a_municipality_without_services_shows_an_empty_state(client):
    response = client.get(reverse("directory:map-municipality", args=["5622"]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="empty-state"' in html
    assert "map-level-" not in html


def test_map_page_has_no_inline_styles_or_scripts(client, horten_services):
    html = client.get(reverse("directory:map-municipality", args=["3901"])).content.decode()

    assert "style=" not in html
    assert "<script>" not in html
    assert " onclick=" not in html


def test_partnership_page_lists_its_services(client, horten_services):
    ServiceFactory(name_nb="Larvik ungdomsteam", municipalities=["3909"])

    response = client.get(reverse("directory:map-partnership", args=["helsefellesskap-vestfold"]))

    assert response.status_code == 200
    assert "Larvik ungdomsteam" in response.content.decode()
    assert "BUP Vestfold" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("directory:map-municipality", ["9999"]),
        ("directory:map-municipality", ["horten"]),
        ("directory:map-partnership", ["helsefellesskap-atlantis"]),
        ("directory:map-municipality-file", ["9999", "pdf"]),
        ("directory:map-municipality-file", ["3901", "xls"]),
        ("directory:map-municipality-file", ["3901", "PDF"]),
        ("directory:map-partnership-file", ["helsefellesskap-atlantis", "png"]),
        ("directory:map-partnership-file", ["helsefellesskap-vestfold", "svg"]),
    ],
)
def test_unknown_place_or_format_is_not_found(client, name, args):
    assert client.get(reverse(name, args=args)).status_code == 404


def test_a_municipality_unit_has_no_partnership_page(client, horten_unit):
    response = client.get(reverse("directory:map-partnership", args=[horten_unit.code]))

    assert response.status_code == 404


def test_map_page_does_not_grow_in_queries_with_more_services(client):
    url = reverse("directory:map-municipality", args=["3901"])
    ServiceFactory()
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(30):
        ServiceFactory(level=Level.values[index % 4])
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert response.status_code == 200
    assert len(many) == len(few) <= 3


def test_map_page_and_file_tell_when_the_map_last_changed(client):
    with time_machine.travel(dt.datetime(2026, 4, 1, 12, 0, tzinfo=OSLO), tick=False):
        ServiceFactory()
    expected = http_date(dt.datetime(2026, 4, 1, 12, 0, tzinfo=OSLO).timestamp())

    page = client.get(reverse("directory:map-municipality", args=["3901"]))
    pdf = client.get(reverse("directory:map-municipality-file", args=["3901", "pdf"]))

    assert page["Last-Modified"] == expected
    assert pdf["Last-Modified"] == expected
    assert "Accept-Language" in pdf["Vary"]


def test_map_pages_only_answer_reads(client):
    for url in [
        reverse("directory:map-index"),
        reverse("directory:map-municipality", args=["3901"]),
        reverse("directory:map-municipality-file", args=["3901", "pdf"]),
    ]:
        assert client.post(url).status_code == 405


# --- the files, through the views -------------------------------------------------------


def test_pdf_download_is_an_attachment_with_a_safe_filename(client, horten_services):
    response = client.get(reverse("directory:map-municipality-file", args=["3901", "pdf"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="tjenestekart-3901-horten.pdf"'
    assert response.content.startswith(b"%PDF-")


def test_png_download_is_an_attachment_with_a_safe_filename(client, horten_services):
    response = client.get(reverse("directory:map-municipality-file", args=["3911", "png"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="tjenestekart-3911-faerder.png"'
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_partnership_pdf_download_is_named_after_the_partnership(client, horten_services):
    response = client.get(
        reverse("directory:map-partnership-file", args=["helsefellesskap-vestfold", "pdf"])
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="tjenestekart-helsefellesskap-vestfold.pdf"'
    )


def test_map_of_a_new_partnership_unit_works(client):
    unit = UnitFactory(code="helsefellesskap-test", name="Test", kind=UnitKind.PARTNERSHIP)
    unit.municipalities.set(["3901"])
    ServiceFactory(name_nb="Testtjeneste")

    response = client.get(reverse("directory:map-partnership", args=[unit.code]))

    assert response.status_code == 200
    assert "Testtjeneste" in response.content.decode()


# --- the stylesheet ---------------------------------------------------------------------


def test_stylesheet_colours_match_the_level_colours():
    css = (STATIC / "map.css").read_text(encoding="utf-8")

    for level, colour in LEVEL_COLOURS.items():
        assert re.search(rf"\.map-level-{level} \{{ --map-level: {colour}; \}}", css), level

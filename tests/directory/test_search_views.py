import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from samhandling.directory.models import Coverage, Level
from tests.directory.factories import ServiceFactory, add_exception

pytestmark = pytest.mark.django_db

OSLO = ZoneInfo("Europe/Oslo")
TUESDAY_10 = dt.datetime(2026, 5, 12, 10, 0, tzinfo=OSLO)
SEARCH = reverse("directory:search")


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, so assertions can quote the source strings; some tests switch."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def tuesday_morning():
    with time_machine.travel(TUESDAY_10, tick=False):
        yield


def detail_url(service) -> str:
    return reverse("directory:service-detail", args=[service.code])


def card_names(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/services/[0-9a-f-]+/" lang="n[bn]">([^<]+)</a></h3>', html)


# --- the search page --------------------------------------------------------------------


def test_search_page_without_filters_lists_active_services_with_a_plain_get_form(
    client, tuesday_morning
):
    ServiceFactory(name_nb="Helsestasjonen")
    ServiceFactory(name_nb="Nedlagt", is_active=False)
    response = client.get(SEARCH)
    html = response.content.decode()
    assert response.status_code == 200
    assert card_names(html) == ["Helsestasjonen"]
    assert 'method="get"' in html
    assert 'hx-get="/services/"' in html
    assert 'name="municipality"' in html
    assert 'name="need"' in html
    assert "<script>" not in html  # strict CSP: no inline scripts
    assert "style=" not in html


def test_search_page_applies_the_filters_of_the_query_string(client, tuesday_morning):
    ServiceFactory(name_nb="Horten angst", needs=["anxiety"])
    ServiceFactory(name_nb="Larvik angst", needs=["anxiety"], municipalities=["3909"])
    ServiceFactory(name_nb="Horten søvn", needs=["sleep"])
    response = client.get(SEARCH, {"municipality": "3901", "need": "anxiety", "open_now": "on"})
    html = response.content.decode()
    assert response.status_code == 200
    assert card_names(html) == ["Horten angst"]
    # The form shows the choices made.
    assert '<option value="3901" selected>' in html
    assert re.search(r'id="need-anxiety" name="need" value="anxiety" checked', html)
    assert re.search(r'id="field-open_now" name="open_now" value="on" checked', html)


def test_card_shows_level_opening_status_and_referral(client, tuesday_morning):
    ServiceFactory(name_nb="Tidlig hjelp", level=Level.EARLY, needs=["anxiety"])
    html = client.get(SEARCH).content.decode()
    assert 'class="badge level-early"' in html
    assert "is-open" in html
    assert "Open now, until 16:00." in html
    assert "Anxiety and worry" in html


def test_htmx_request_gets_only_the_results_fragment_and_responses_vary_on_it(
    client, tuesday_morning
):
    ServiceFactory(name_nb="Helsestasjonen")
    response = client.get(SEARCH, {"age": "15"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<form" not in html
    assert card_names(html) == ["Helsestasjonen"]
    assert "HX-Request" in response["Vary"]
    full = client.get(SEARCH)
    assert "HX-Request" in full["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client, tuesday_morning):
    response = client.get(
        SEARCH, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_results_come_twenty_to_a_page(client, tuesday_morning):
    for n in range(25):
        ServiceFactory(name_nb=f"Tjeneste {n:02d}")
    first = client.get(SEARCH, {"need": "", "age": "15"}).content.decode()
    second = client.get(SEARCH, {"age": "15", "page": "2"}).content.decode()
    assert len(card_names(first)) == 20
    assert card_names(second) == [f"Tjeneste {n}" for n in range(20, 25)]
    assert "25 services found" in first
    assert 'href="?age=15&amp;page=2"' in first
    assert 'rel="prev"' in second


def test_page_beyond_the_last_or_malformed_shows_a_valid_page(client, tuesday_morning):
    ServiceFactory.create_batch(3)
    for page in ["99", "abc", "-1", "", "99999999999999999999999999"]:
        response = client.get(SEARCH, {"page": page})
        assert response.status_code == 200
        assert len(card_names(response.content.decode())) == 3


def test_search_page_takes_a_bounded_number_of_queries(
    client, tuesday_morning, django_assert_max_num_queries
):
    for _ in range(20):
        ServiceFactory(needs=["anxiety"], municipalities=["3901", "3903"])
    # Session/auth, the checks of the filters, count, page, four prefetches, form lists.
    with django_assert_max_num_queries(12):
        response = client.get(SEARCH, {"municipality": "3901", "need": "anxiety"})
    assert len(card_names(response.content.decode())) == 20


# --- empty results ----------------------------------------------------------------------


def test_empty_result_says_why_and_links_to_wider_searches(client, tuesday_morning):
    ServiceFactory(name_nb="Larvik angst", needs=["anxiety"], municipalities=["3909"])
    ServiceFactory(name_nb="Horten henvisning", needs=["anxiety"], referral_required=True)
    response = client.get(SEARCH, {"municipality": "3901", "need": "anxiety", "no_referral": "on"})
    html = response.content.decode()
    assert response.status_code == 200
    assert card_names(html) == []
    assert "No service matches all your choices at once." in html
    assert '<a href="?need=anxiety&amp;no_referral=on">1 service in any municipality</a>' in html
    assert (
        '<a href="?municipality=3901&amp;need=anxiety">1 service if a referral is fine</a>' in html
    )
    # Dropping the need gives nothing: said, but not offered as a link.
    assert "0 services for any need" in html
    assert 'href="?municipality=3901&amp;no_referral=on"' not in html


def test_empty_directory_says_so(client, tuesday_morning):
    html = client.get(SEARCH).content.decode()
    assert "There are no services in the directory yet." in html


# --- bad filters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"municipality": "0000"},
        {"age": "fifteen"},
        {"age": "999999999999999999999999"},
        {"need": "<script>alert(1)</script>"},
        {"level": "penthouse"},
        {"channel": "fax"},
        {"open_now": "sometimes"},
        {"q": "x" * 5000},
    ],
)
def test_bad_filter_gives_400_with_a_clear_message_never_500(client, tuesday_morning, query):
    ServiceFactory(name_nb="Helsestasjonen")
    response = client.get(SEARCH, query)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary" role="alert"' in html
    assert card_names(html) == []
    assert "<script>alert(1)</script>" not in html


def test_bad_filter_message_is_in_english_when_the_page_is(client, tuesday_morning):
    html = client.get(SEARCH, {"age": "130"}).content.decode()
    assert "Age must be a whole number from 0 to 120." in html
    assert 'aria-invalid="true" aria-describedby="error-age"' in html
    assert 'value="130"' in html  # kept in the field so it can be corrected


def test_bad_filter_in_an_htmx_request_returns_the_message_fragment(client, tuesday_morning):
    response = client.get(SEARCH, {"municipality": "12"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "<html" not in html
    assert 'role="alert"' in html


# --- the service page -------------------------------------------------------------------


def test_service_page_shows_how_to_get_in_touch_with_working_links(client, tuesday_morning):
    service = ServiceFactory(
        name_nb="Ungdomslosen",
        level=Level.TARGETED,
        needs=["anxiety", "school-work"],
        offers_sms=True,
        offers_chat=True,
        offers_drop_in=True,
        phone="33 08 50 00",
        sms_number="+47 400 00 000",
        email="los@example.no",
        website="https://example.no/los",
        chat_url="https://example.no/chat",
        street_address="Apotekergata 10",
        postal_code="3187",
        city="Horten",
        latitude=Decimal("59.417000"),
        longitude=Decimal("10.483000"),
        referral_required=True,
        referrers=["gp", "child_welfare"],
    )
    response = client.get(detail_url(service))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 lang="nb">Ungdomslosen</h1>' in html
    assert 'class="badge level-targeted"' in html
    assert 'href="tel:33085000"' in html
    assert 'href="sms:+4740000000"' in html
    assert 'href="mailto:los@example.no"' in html
    assert 'href="https://example.no/chat"' in html
    assert "Apotekergata 10" in html
    assert "59.417000, 10.483000" in html
    assert "openstreetmap.org/?mlat=59.417000&amp;mlon=10.483000" in html
    assert "Anxiety and worry" in html
    assert "GP (fastlege)" in html
    assert "Child welfare" in html
    assert "12–25" in html


def test_service_page_shows_hours_open_now_and_coming_holidays_and_exceptions(
    client, tuesday_morning
):
    service = ServiceFactory()
    add_exception(service, dt.date(2026, 5, 13), note="Fagdag for alle ansatte")
    html = client.get(detail_url(service)).content.decode()
    assert "Open now, until 16:00." in html
    assert html.count("08:00–16:00") == 5
    assert "Fagdag for alle ansatte" in html
    assert "Ascension Day" in html
    assert "Constitution Day" in html
    assert "Closed on public holidays." in html


def test_closed_service_page_says_when_it_opens_next(client):
    service = ServiceFactory()
    with time_machine.travel(dt.datetime(2026, 5, 13, 17, 0, tzinfo=OSLO), tick=False):
        html = client.get(detail_url(service)).content.decode()
    # Thursday 14 May is Ascension Day: next opening is Friday.
    assert "Closed now. Opens Friday May 15 at 08:00." in html


def test_service_page_shows_demo_marker_and_last_verified(client, tuesday_morning):
    service = ServiceFactory(is_demo=True, last_verified=dt.date(2026, 3, 2))
    html = client.get(detail_url(service)).content.decode()
    assert "Demo: fictional service" in html
    assert "Last checked by the service: March 2, 2026." in html
    assert "may be out of date" not in html


def test_service_page_warns_when_never_verified(client, tuesday_morning):
    service = ServiceFactory(last_verified=None)
    html = client.get(detail_url(service)).content.decode()
    assert "Not yet checked by the service" in html


def test_service_page_in_nynorsk_shows_nynorsk_text(client, tuesday_morning):
    service = ServiceFactory(
        name_nb="Helsestasjon for ungdom",
        name_nn="Helsestasjon for ungdom (nynorsk)",
        description_nb="Bokmålstekst.",
        description_nn="Nynorsktekst.",
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nn"
    html = client.get(detail_url(service)).content.decode()
    assert '<h1 lang="nn">Helsestasjon for ungdom (nynorsk)</h1>' in html
    assert "Nynorsktekst." in html
    assert "Bokmålstekst." not in html


def test_service_page_in_nynorsk_falls_back_to_bokmal_visibly(client, tuesday_morning):
    service = ServiceFactory(
        name_nb="Helsestasjon", name_nn="", description_nb="Bokmålstekst.", description_nn=""
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nn"
    html = client.get(detail_url(service)).content.decode()
    assert '<h1 lang="nb">Helsestasjon</h1>' in html
    assert '<div class="prose" lang="nb"><p>Bokmålstekst.</p></div>' in html
    assert 'class="fallback-note"' in html


def test_service_page_in_bokmal_shows_no_fallback_note(client, tuesday_morning):
    service = ServiceFactory(name_nb="Helsestasjon", description_nb="Bokmålstekst.")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nb"
    html = client.get(detail_url(service)).content.decode()
    assert '<h1 lang="nb">Helsestasjon</h1>' in html
    assert "fallback-note" not in html


def test_national_always_open_service_page(client, tuesday_morning):
    service = ServiceFactory(
        coverage=Coverage.NATIONAL, municipalities=[], always_open=True, weekly_hours=[]
    )
    html = client.get(detail_url(service)).content.decode()
    assert "The whole country" in html
    assert "Open around the clock." in html


def test_unknown_service_is_404(client):
    response = client.get("/services/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404


def test_inactive_service_is_404_for_the_public_but_visible_to_staff(
    client, tuesday_morning, horten_clinician
):
    service = ServiceFactory(is_active=False, name_nb="Nedlagt")
    assert client.get(detail_url(service)).status_code == 404
    client.force_login(horten_clinician)
    response = client.get(detail_url(service))
    assert response.status_code == 200
    assert "badge-inactive" in response.content.decode()


def test_service_page_offers_edit_and_history_only_to_those_who_may_edit(
    client, horten_clinician, larvik_clinician, horten_unit
):
    service = ServiceFactory(unit=horten_unit)
    edit_url = reverse("directory:service-edit", args=[service.code])
    page_url = reverse("directory:service-detail", args=[service.code])
    assert edit_url not in client.get(page_url).content.decode()
    client.force_login(larvik_clinician)
    assert edit_url not in client.get(page_url).content.decode()
    client.force_login(horten_clinician)
    assert edit_url in client.get(page_url).content.decode()

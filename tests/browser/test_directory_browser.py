"""The directory as a person uses it: real Chromium, real server, real forms and HTMX."""

import re

import pytest
from playwright.sync_api import expect

from samhandling.core.models import User
from samhandling.directory.models import Coverage, Level
from tests.conftest import PASSWORD
from tests.directory.factories import ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MATCHES = ["Ungdomstelefonen Horten", "Angstlinjen for unge"]
DECOYS = [
    "Angsthjelp Larvik",
    "BUP Horten poliklinikk",
    "Voksenpsykiatri Horten",
    "Søvnskolen Horten",
    "Nedlagt tilbud Horten",
]


@pytest.fixture
def horten_services(horten_unit) -> dict[str, object]:
    """Two services that fit a 15-year-old in Horten with anxiety, no referral; five that don't."""
    made = {
        # Fit: municipal Horten, and a national service (covers every municipality).
        "Ungdomstelefonen Horten": ServiceFactory(
            name_nb="Ungdomstelefonen Horten", unit=horten_unit, needs=["anxiety"]
        ),
        "Angstlinjen for unge": ServiceFactory(
            name_nb="Angstlinjen for unge",
            coverage=Coverage.NATIONAL,
            municipalities=[],
            age_min=13,
            age_max=30,
            needs=["anxiety", "low-mood"],
        ),
        # Decoys, each failing exactly one filter.
        "Angsthjelp Larvik": ServiceFactory(
            name_nb="Angsthjelp Larvik", municipalities=["3909"], needs=["anxiety"]
        ),
        "BUP Horten poliklinikk": ServiceFactory(
            name_nb="BUP Horten poliklinikk",
            level=Level.SPECIALIST,
            referral_required=True,
            referrers=["gp"],
            needs=["anxiety"],
        ),
        "Voksenpsykiatri Horten": ServiceFactory(
            name_nb="Voksenpsykiatri Horten", age_min=18, age_max=120, needs=["anxiety"]
        ),
        "Søvnskolen Horten": ServiceFactory(name_nb="Søvnskolen Horten", needs=["sleep"]),
        "Nedlagt tilbud Horten": ServiceFactory(
            name_nb="Nedlagt tilbud Horten", is_active=False, needs=["anxiety"]
        ),
    }
    return made


def _log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _settled(page) -> None:
    """Wait until htmx has no request in flight and no swap under way."""
    # A locator, not wait_for_function: the strict CSP (rightly) forbids the eval it uses.
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def _search_submitted(page, submit) -> None:
    """Submit the search and wait for its own answer to be swapped in.

    Each change of a filter already refreshes the results, so waiting for the text alone
    could read the cards of an earlier request while the last one is being swapped in.
    """
    with page.expect_response(lambda r: "/services/?" in r.url and "no_referral=on" in r.url):
        submit()
    _settled(page)


def _card_names(page) -> list[str]:
    return page.locator("#results .service-card h3").all_inner_texts()


def test_staff_member_logs_in_searches_opens_a_service_and_downloads_the_horten_map(
    page, horten_clinician, horten_services
):
    _log_in(page, "horten-clinician", PASSWORD)
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_be_visible()

    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Find help").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find help")
    page.get_by_label("Municipality").select_option("3901")
    page.get_by_label("Age of the person who needs help").fill("15")
    page.locator("#need-anxiety").check()
    page.get_by_label("Without referral").check()
    _search_submitted(page, page.get_by_role("button", name="Show services").click)

    results = page.locator("#results")
    expect(results.get_by_role("status")).to_have_text("2 services found")
    expect(page).to_have_url(re.compile(r"municipality=3901.*age=15.*need=anxiety.*no_referral=on"))
    assert sorted(_card_names(page)) == sorted(MATCHES)
    for decoy in DECOYS:
        expect(results).not_to_contain_text(decoy)

    results.get_by_role("link", name="Ungdomstelefonen Horten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ungdomstelefonen Horten")
    code = horten_services["Ungdomstelefonen Horten"].code
    assert page.url.endswith(f"/services/{code}/")

    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Service map").click()
    page.locator("#map-municipality").select_option("3901")
    page.locator("#map-municipality").locator("xpath=..").get_by_role(
        "button", name="Show map"
    ).click()
    expect(page).to_have_url(re.compile(r"/map/kommune/3901/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Horten")
    expect(page.locator("main")).to_contain_text("Ungdomstelefonen Horten")
    expect(page.locator("main")).not_to_contain_text("Angsthjelp Larvik")

    for name, content_type, magic in (
        ("Download PDF", "application/pdf", b"%PDF"),
        ("Download picture (PNG)", "image/png", b"\x89PNG"),
    ):
        href = page.get_by_role("link", name=name).get_attribute("href")
        response = page.request.get(href)
        assert response.status == 200, (name, href)
        assert response.headers["content-type"].startswith(content_type)
        assert response.body().startswith(magic)


def test_search_fits_a_phone_and_the_filters_work_by_keyboard_alone(phone_page, horten_services):
    page = phone_page
    page.goto("/services/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find help")
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.locator("body").focus()
    focused: list[str] = []
    for _ in range(120):
        page.keyboard.press("Tab")
        current = page.evaluate(
            "[document.activeElement.id, document.activeElement.tagName,"
            " document.activeElement.textContent.trim()]"
        )
        focused.append(current[0])
        if current[0] == "field-municipality":
            page.keyboard.type("Horten")
        elif current[0] == "field-age":
            page.keyboard.type("15")
        elif current[0] in {"need-anxiety", "field-no_referral"}:
            page.keyboard.press("Space")
        elif current[1] == "BUTTON" and current[2] == "Show services":
            break
    else:
        pytest.fail(f"Tab never reached the submit button; focus went through {focused}")

    for control in ("field-q", "field-municipality", "field-age", "need-anxiety"):
        assert control in focused, f"{control} is not reachable by Tab"
    assert focused.index("field-municipality") < focused.index("field-age")
    assert page.locator("#field-municipality").input_value() == "3901"
    assert page.locator("#need-anxiety").is_checked()
    assert page.locator("#field-no_referral").is_checked()

    _search_submitted(page, lambda: page.keyboard.press("Enter"))
    expect(page.locator("#results").get_by_role("status")).to_have_text("2 services found")
    assert sorted(_card_names(page)) == sorted(MATCHES)
    card = page.locator("#results .service-card").first
    expect(card).to_be_visible()
    box = card.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_five_failed_logins_show_the_lockout_page_even_for_the_right_password(
    page, horten_clinician
):
    for _ in range(5):
        _log_in(page, "horten-clinician", "not-the-password")
        if page.get_by_role("heading", name="Too many failed attempts").count():
            break
        expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")

    _log_in(page, "horten-clinician", PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_have_text("Too many failed attempts")
    expect(page.get_by_role("alert")).to_contain_text("blocked for a while")
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_have_count(0)
    assert User.objects.get(username="horten-clinician").last_login is None


def test_language_switch_changes_the_page_language_to_nynorsk_and_english(bokmal_page):
    page = bokmal_page
    page.goto("/services/")
    expect(page.locator("html")).to_have_attribute("lang", "nb")

    page.locator("#language-select").select_option("nn")
    page.locator(".language-form button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "nn")
    expect(page).to_have_url(re.compile(r"/services/$"))
    expect(page.locator("#language-select")).to_have_value("nn")

    page.locator("#language-select").select_option("en")
    page.locator(".language-form button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find help")

    # The choice is kept: a new page in the same browser stays in English.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

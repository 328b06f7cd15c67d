"""Care pathways as editors and readers use them: real Chromium, real server, real forms."""

import re

import pytest
from playwright.sync_api import expect

from samhandling.pathways.models import Pathway, PathwayVersion, Status
from samhandling.pathways.services.workflow import draft_save, draft_start, review_request
from tests.browser.conftest import TIMEOUT_MS
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "worry-anxiety"
PUBLIC = f"/pathways/{SLUG}/"
OLD_TITLE = "Bekymring og angst"
NEW_TITLE = "Bekymring og angst hos barn og unge"
OLD_BODY_START = "En trygg voksen på skolen eller hjemme snakker med barnet"
ADDED_SENTENCE = "Avtal alltid en ny samtale innen en uke."
STEP = "talk-with-child"
STEP_TITLE = "Samtale med barnet"
HORTEN_BODY_START = "Den voksne som er bekymret, snakker med barnet"


@pytest.fixture
def reader(browser, live_server):
    """A second, anonymous browser: its own cookies, nobody logged in."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


# --- helpers ----------------------------------------------------------------------------


def _log_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name=re.compile("Log out"))).to_be_visible()


def _hidden_tail(visible: str, hidden: str) -> re.Pattern[str]:
    """The name of a control whose text ends in a visually hidden ": <what it is about>".

    Chromium puts a space before the hidden (absolutely positioned) span, so the name reads
    "visible : hidden"; either spacing is accepted.
    """
    return re.compile(rf"^{re.escape(visible)} ?: {re.escape(hidden)}$")


def _old_body(pathway: Pathway) -> str:
    version = pathway.versions.get(scope="base", status=Status.PUBLISHED)
    for phase in version.content["phases"]:
        for step in phase["steps"]:
            if step["key"] == STEP:
                return step["body"]["nb"]
    raise AssertionError(f"no step {STEP}")


def _step(page, key: str = STEP):
    return page.locator(f"#step-{key}")


def _csrf_token(page) -> str:
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return cookies["csrftoken"]


# --- 1. draft, review, publish; readers see the change only when it is published ---------


def test_editor_drafts_sends_to_review_and_publishes_and_readers_see_it_only_then(
    page, reader, imported, base_editor
):
    old_body = _old_body(imported[SLUG])
    new_body = f"{old_body} {ADDED_SENTENCE}"

    _log_in(page, "base-editor")
    page.goto("/pathways/edit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pathway editing")
    page.get_by_role(
        "button", name=_hidden_tail("Draft a change to the national text", OLD_TITLE)
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{OLD_TITLE}, version 2")
    expect(page.locator(".messages")).to_contain_text("Draft version 2 is started.")
    draft = PathwayVersion.objects.get(pathway=imported[SLUG], status=Status.DRAFT)
    assert page.url.endswith(f"/pathways/edit/versions/{draft.pk}/")

    about = page.get_by_role("group", name="About the pathway")
    about.get_by_label("Title (bokmål)").fill(NEW_TITLE)
    step = page.get_by_role("group", name=STEP_TITLE, exact=True)
    body = step.get_by_label("What is done (bokmål)")
    expect(body).to_have_value(old_body)
    body.fill(new_body)
    page.get_by_label("What changed and why").fill("Ny setning om oppfølging.")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator(".messages")).to_contain_text("The draft is saved.")
    expect(
        page.get_by_role("group", name=STEP_TITLE, exact=True).get_by_label("What is done (bokmål)")
    ).to_have_value(new_body)

    page.get_by_role("button", name="Save and send to review").click()
    expect(page.locator(".messages")).to_contain_text("Version 2 is saved and sent to review.")
    expect(page.locator(".pe-status").first).to_have_text("In review")

    # The reader still sees the published version 1.
    reader.goto(PUBLIC)
    expect(reader.get_by_role("heading", level=1)).to_have_text(OLD_TITLE)
    expect(_step(reader)).to_contain_text(OLD_BODY_START)
    expect(_step(reader)).not_to_contain_text(ADDED_SENTENCE)

    # Publishing asks for the tick box first.
    page.get_by_role("link", name="Read the changes and publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{NEW_TITLE}, version 2")
    publish_url = page.url
    confirm = page.get_by_label(
        "I have read the changes, and I want readers to see this version now."
    )
    # Without the tick the browser does not send the form (the box is required).
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.locator("input[name=confirm]:invalid")).to_have_count(1)
    assert page.url == publish_url
    draft.refresh_from_db()
    assert draft.status == Status.REVIEW
    reader.reload()
    expect(reader.get_by_role("heading", level=1)).to_have_text(OLD_TITLE)

    confirm.check()
    page.get_by_role("button", name="Publish version 2").click()
    expect(page.locator(".messages")).to_contain_text("Version 2 is published. Readers see it now.")

    reader.reload()
    expect(reader.get_by_role("heading", level=1)).to_have_text(NEW_TITLE)
    expect(_step(reader)).to_contain_text(ADDED_SENTENCE)
    expect(_step(reader)).to_contain_text(OLD_BODY_START)

    # The diff against version 1 marks the inserted words.
    page.get_by_role("link", name="What changed").click()
    expect(page).to_have_url(re.compile(rf"/pathways/edit/versions/{draft.pk}/diff/$"))
    expect(
        page.get_by_role("heading", level=2, name="Version 2 compared with version 1")
    ).to_be_visible()
    table = page.get_by_role("table")
    expect(table.locator("caption")).to_have_text("2 fields changed")
    row = table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=re.compile(rf"Step: {STEP_TITLE} › body \(bokmål\)"))
    )
    expect(row).to_have_count(1)
    inserted = row.locator("ins")
    expect(inserted).to_have_count(1)
    expect(inserted).to_contain_text(ADDED_SENTENCE)
    expect(row.locator("del")).to_have_count(0)
    title_row = table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="Title (bokmål)", exact=True)
    )
    expect(title_row.locator("ins")).to_contain_text("hos barn og unge")


# --- 2. only the responsible editor publishes -------------------------------------------


def test_an_editor_who_is_not_responsible_sees_no_publish_button_and_a_post_is_refused(
    page, reader, imported, plain_editor
):
    pathway = imported[SLUG]
    draft = draft_start(user=plain_editor, pathway=pathway)
    content = {**draft.content, "title": {"nb": NEW_TITLE, "nn": "Uro og angst hos born"}}
    draft = draft_save(user=plain_editor, version=draft, content=content, revision=draft.revision)
    draft = review_request(user=plain_editor, version=draft)
    revision = draft.revision

    _log_in(page, "plain-editor")
    page.goto(f"/pathways/edit/versions/{draft.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{NEW_TITLE}, version 2")
    expect(page.locator("main")).to_contain_text(
        "Only the responsible editor of this text publishes it."
    )
    expect(page.get_by_role("link", name=re.compile("publish", re.IGNORECASE))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Publish"))).to_have_count(0)

    url = f"/pathways/edit/versions/{draft.pk}/publish/"
    assert page.request.get(url).status == 403
    response = page.request.post(
        url,
        form={"csrfmiddlewaretoken": _csrf_token(page), "revision": str(revision), "confirm": "on"},
    )
    assert response.status == 403
    # Refused for the rights, not for a missing CSRF token.
    assert "CSRF verification failed" not in response.text()

    draft.refresh_from_db()
    assert draft.status == Status.REVIEW
    assert draft.published_at is None
    reader.goto(PUBLIC)
    expect(reader.get_by_role("heading", level=1)).to_have_text(OLD_TITLE)


# --- 3. Horten's version ----------------------------------------------------------------


def test_horten_version_shows_local_services_marks_local_steps_and_opens_national_text_by_keyboard(
    page, imported
):
    page.goto(f"{PUBLIC}?municipality=3901")
    expect(page.get_by_role("heading", level=1)).to_have_text(OLD_TITLE)
    expect(page.locator("main")).to_contain_text("Local version for Horten")

    talk = _step(page)
    expect(talk.get_by_role("link", name="Skolehelsetjenesten i Horten")).to_be_visible()
    expect(talk).to_contain_text("Services for Horten:")
    expect(talk).to_contain_text(HORTEN_BODY_START)
    expect(talk.locator(".pw-badge-local")).to_have_text("Local: Horten")
    expect(page.locator("#step-horten-family-house-meeting .pw-badge-local")).to_have_text(
        "Added locally: Horten"
    )
    # A step Horten left alone is not marked.
    expect(page.locator("#step-psychoeducation .pw-badge-local")).to_have_count(0)
    expect(page.locator("li.pw-step-local")).to_have_count(4)

    details = talk.locator("details.pw-replaced")
    national = details.get_by_text(OLD_BODY_START)
    expect(national).to_be_hidden()
    summary = details.locator("summary")
    expect(summary).to_have_text("What the national version says")
    summary.focus()
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    expect(details).to_have_attribute("open", "")
    expect(national).to_be_visible()
    expect(details.get_by_role("term").first).to_have_text("What is done")


# --- 4. a reader's proposal is shown as text ------------------------------------------


def test_a_readers_proposal_with_a_script_tag_is_shown_literally_and_never_runs(page, imported):
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    text = "Forslag: <script>alert(1)</script> legg til en samtale med foreldrene."

    page.goto(PUBLIC)
    page.get_by_role("link", name=_hidden_tail("Propose a change to this step", STEP_TITLE)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose a change")
    expect(page.locator("main")).to_contain_text(STEP_TITLE)
    page.get_by_label("Your proposal").fill(text)
    page.get_by_role("button", name="Send the proposal").click()

    expect(page).to_have_url(re.compile(r"/pathways/proposals/[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your proposal")
    shown = page.locator("blockquote.pw-proposal-text")
    expect(shown).to_have_text(text)
    assert shown.locator("script").count() == 0
    page.reload()
    expect(shown).to_have_text(text)
    assert dialogs == [], f"a dialog opened: {dialogs}"


# --- 5. a phone ---------------------------------------------------------------------------


def test_the_pathway_page_fits_a_phone_and_its_pdf_link_gives_a_pdf(phone_page, imported):
    page = phone_page
    page.goto(PUBLIC)
    expect(page.get_by_role("heading", level=1)).to_have_text(OLD_TITLE)
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert inner == 390
    assert width <= inner, f"the page is {width}px wide on a {inner}px phone"

    href = page.get_by_role("link", name="Download PDF").first.get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200, href
    assert response.headers["content-type"].startswith("application/pdf")
    assert response.body().startswith(b"%PDF")

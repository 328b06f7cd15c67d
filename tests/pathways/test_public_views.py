"""The public pathway pages: the list and its search, one pathway national and local, 404s,
and that a draft or a version in review never reaches a reader."""

import copy
import re

import pytest
from django.conf import settings
from django.urls import resolve, reverse
from django.utils import translation
from django.utils.translation import gettext

from samhandling.directory.models import Service
from samhandling.pathways import views_public
from samhandling.pathways.models import Pathway, PathwayVersion, ScopeKind, Status
from samhandling.pathways.services.workflow import (
    draft_save,
    draft_start,
    publish,
    review_request,
)

pytestmark = pytest.mark.django_db

# Literal paths: the public addresses are part of the contract (printed, shared, bookmarked).
LIST = "/pathways/"
WORRY = "/pathways/worry-anxiety/"
PHASE_LABELS = [
    "First concern and early help",
    "Targeted help in the municipality",
    "Referral",
    "Specialist assessment and treatment",
    "Transition, ending and follow-up",
]


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, so assertions can quote the source strings; some tests switch."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def card_titles(html: str) -> list[str]:
    return re.findall(r'<h3><a href="/pathways/[^"]+" lang="n[bn]">([^<]+)</a></h3>', html)


def step_html(html: str, key: str) -> str:
    """The markup of one step on the pathway page."""
    return html.split(f'id="step-{key}"')[1].split("</article>")[0]


def base_titles(language: str = "nb") -> set[str]:
    return {
        v.content["title"][language]
        for v in PathwayVersion.objects.filter(scope=ScopeKind.BASE, status=Status.PUBLISHED)
    }


def publish_changed(base_editor, pathway: Pathway, change) -> PathwayVersion:
    """A new published base version with `change(content)` applied, the real way."""
    draft = draft_start(user=base_editor, pathway=pathway)
    content = copy.deepcopy(draft.content)
    change(content)
    draft = draft_save(user=base_editor, version=draft, content=content, revision=draft.revision)
    review_request(user=base_editor, version=draft)
    return publish(user=base_editor, version=draft)


# --- the list ---------------------------------------------------------------------------


def test_list_shows_every_published_pathway_with_target_group_and_summary(client, imported):
    response = client.get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert set(card_titles(html)) == base_titles()
    assert len(card_titles(html)) == 8
    worry = imported["worry-anxiety"].versions.get(status=Status.PUBLISHED, scope="base")
    assert worry.content["summary"]["nb"] in html
    assert "skolevegring" in html  # from the target group
    assert f'href="{WORRY}"' in html
    assert "<script>" not in html
    assert "style=" not in html


def test_list_in_nynorsk_shows_the_nynorsk_titles(client, imported):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nn"
    html = client.get(LIST).content.decode()
    assert set(card_titles(html)) == base_titles("nn")
    assert "Uro og angst" in html


def test_search_finds_a_word_of_the_target_group(client, imported):
    html = client.get(LIST, {"q": "skolevegring"}).content.decode()
    assert card_titles(html) == ["Bekymring og angst"]
    assert "1 pathway matches “skolevegring”" in html


def test_search_finds_a_nynorsk_word_and_a_tool_of_a_step_and_names_the_step(client, imported):
    html = client.get(LIST, {"q": "unngåing"}).content.decode()
    assert card_titles(html) == ["Bekymring og angst"]
    assert "Found in the steps:" in html
    assert "Kartlegge angst og unngåelse" in html
    html = client.get(LIST, {"q": "EKSPONERINGSTRAPP"}).content.decode()
    assert card_titles(html) == ["Bekymring og angst"]
    assert "Kognitiv atferdsterapi" in html


def test_search_needs_every_word(client, imported):
    both = client.get(LIST, {"q": "skolevegring epikrise"}).content.decode()
    assert card_titles(both) == ["Bekymring og angst"]
    none = client.get(LIST, {"q": "skolevegring spiseforstyrrelse-finnes-ikke"}).content.decode()
    assert card_titles(none) == []


def test_search_without_a_match_says_so_and_links_to_the_full_list(client, imported):
    response = client.get(LIST, {"q": "xyzzy"})
    html = response.content.decode()
    assert response.status_code == 200
    assert card_titles(html) == []
    assert "No pathway matches “xyzzy”." in html
    assert f'<a href="{LIST}">Clear the search and show all pathways</a>' in html


def test_search_text_is_escaped_and_a_huge_query_is_cut_not_an_error(client, imported):
    html = client.get(LIST, {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    response = client.get(LIST, {"q": "angst " * 5000})
    assert response.status_code == 200
    assert "Bekymring og angst" in card_titles(response.content.decode())


def test_list_without_published_pathways_has_an_empty_state(client, db):
    html = client.get(LIST).content.decode()
    assert card_titles(html) == []
    assert "No pathways have been published yet." in html


def test_list_for_a_municipality_marks_local_versions_and_searches_their_text(client, imported):
    html = client.get(LIST, {"municipality": "3901"}).content.decode()
    assert "Showing the pathways as they apply in Horten." in html
    assert "Local version: Horten" in html
    assert "Local version: Helsefellesskapet Vestfold" in html  # sadness-depression
    assert f'href="{WORRY}?municipality=3901"' in html
    # A word only Horten's adaptation uses is found for Horten, not for the whole country.
    assert card_titles(client.get(LIST, {"q": "drop-in-tider"}).content.decode()) == []
    local = client.get(LIST, {"q": "drop-in-tider", "municipality": "3901"}).content.decode()
    assert card_titles(local) == ["Bekymring og angst"]
    assert 'name="municipality" value="3901"' in local  # the search keeps the place


def test_list_with_an_unknown_municipality_says_so_and_shows_the_national_list(client, imported):
    response = client.get(LIST, {"municipality": "9999"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "We do not know that municipality number." in html
    assert len(card_titles(html)) == 8
    assert client.get(LIST, {"municipality": "'; drop table--"}).status_code == 400


# --- one pathway ------------------------------------------------------------------------


def test_national_pathway_shows_phases_steps_checklist_and_links(client, imported):
    response = client.get(WORRY)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 lang="nb">Bekymring og angst</h1>' in html
    assert "Barn og unge 6–18 år" in html
    assert "Version 1, published" in html
    for label in PHASE_LABELS:
        assert label in html
    version = imported["worry-anxiety"].versions.get(scope="base", status=Status.PUBLISHED)
    for phase in version.content["phases"]:
        for step in phase["steps"]:
            assert f'id="step-{step["key"]}"' in html
            assert step["title"]["nb"] in html
    assert 'class="badge level-universal">Universal and health-promoting' in html
    assert "Who does it:" in html
    assert "Lærer, helsesykepleier, foresatte" in html
    assert "Tools and methods:" in html
    assert "samtaleguide" in html
    # The checklist, urgent signs set apart.
    assert "Before you refer" in html
    assert re.search(r'class="pw-urgent".*Tegn på akutt psykose', html, re.S)
    assert "Information the referral needs" in html
    assert "Samtykke fra barnet" in html
    # No local marks, and no services: they depend on the reader's municipality.
    assert "Local:" not in html
    assert "Added locally" not in html
    assert "/services/" not in html.split('id="main"')[1].split("site-footer")[0]
    # Download and proposals.
    assert 'href="/pathways/worry-anxiety.pdf"' in html
    assert 'href="/pathways/worry-anxiety/propose/"' in html
    assert 'href="/pathways/worry-anxiety/propose/?step=talk-with-child"' in html
    assert "<script>" not in html
    assert "style=" not in html


def test_horten_sees_its_local_version_with_differences_marked_and_its_services(client, imported):
    response = client.get(WORRY, {"municipality": "3901"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "This is the local version for Horten: 4 steps differ from the national base." in html
    assert "Horten kommunes tilpasning" in html  # the adaptation's note
    # Changed steps say so and keep the national text under a disclosure.
    talk = step_html(html, "talk-with-child")
    assert "Local: Horten" in talk
    assert "I Horten har skolehelsetjenesten faste drop-in-tider" in talk
    assert "<details" in talk
    assert "What the national version says" in talk
    assert "En trygg voksen på skolen eller hjemme" in talk  # the base text replaced
    # The step only Horten has.
    added = step_html(html, "horten-family-house-meeting")
    assert "Added locally: Horten" in added
    assert "Samarbeidsmøte i Familiens hus" in added
    assert "<details" not in added
    # Unchanged steps are not marked.
    psycho = step_html(html, "psychoeducation")
    assert "Local:" not in psycho
    # Horten's services, named and linked to their pages.
    for name in ("Skolehelsetjenesten i Horten", "Ungdomsarena Horten", "Familiens hus Horten"):
        service = Service.objects.get(name_nb=name)
        assert f'<a href="/services/{service.code}/">{name}</a>' in html
    assert "Services for Horten:" in html
    # Links keep the place.
    assert 'href="/pathways/worry-anxiety.pdf?municipality=3901"' in html
    assert "propose/?step=talk-with-child&amp;municipality=3901" in html
    assert f'href="{WORRY}">Show the national version' in html


def test_an_adaptation_of_the_partnership_applies_in_its_municipalities(client, imported):
    url = reverse("pathways:detail", args=["sadness-depression"])
    html = client.get(url, {"municipality": "3909"}).content.decode()  # Larvik, in Vestfold
    assert "This is the local version for Larvik: 2 steps differ from the national base." in html
    assert "Local: Helsefellesskapet Vestfold" in html
    assert "Added locally: Helsefellesskapet Vestfold" in html
    assert "Felles inntaksmøte" in html


def test_a_municipality_without_adaptation_gets_the_national_text_with_its_services(
    client, imported
):
    html = client.get(WORRY, {"municipality": "0301"}).content.decode()  # Oslo
    assert "Oslo has no local adaptation of this pathway" in html
    assert "Local:" not in html
    assert "Samarbeidsmøte i Familiens hus" not in html


def test_an_unknown_municipality_gives_a_clear_message_and_the_national_version(client, imported):
    response = client.get(WORRY, {"municipality": "9999"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "We do not know that municipality number." in html
    assert "Bekymring og angst" in html
    assert "Local: Horten" not in html
    assert client.get(WORRY, {"municipality": "x" * 5000}).status_code == 400


def test_pathway_page_in_nynorsk_shows_the_nynorsk_text(client, imported):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nn"
    html = client.get(WORRY).content.decode()
    assert '<h1 lang="nn">Uro og angst</h1>' in html
    assert "Kartleggje angst og unngåing" in html


def test_a_text_missing_in_the_readers_language_is_shown_in_the_other_with_a_note(
    client, imported, base_editor
):
    def drop_nynorsk(content):
        content["phases"][0]["steps"][0]["body"]["nn"] = ""

    publish_changed(base_editor, imported["worry-anxiety"], drop_nynorsk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nn"
    html = client.get(WORRY).content.decode()
    talk = step_html(html, "talk-with-child")
    with translation.override("nn"):
        note = gettext("Not written in nynorsk yet: shown in bokmål.")
    assert note in talk
    assert 'lang="nb"' in talk
    assert "En trygg voksen på skolen" in talk
    assert "Versjon 2, publisert" in html


def test_unknown_slug_is_404(client, imported):
    assert client.get(reverse("pathways:detail", args=["no-such-pathway"])).status_code == 404
    assert client.get(reverse("pathways:pdf", args=["no-such-pathway"])).status_code == 404
    assert client.get("/pathways/no-such-pathway/propose/").status_code == 404


def test_a_pathway_without_published_base_is_404(client, imported):
    pathway = Pathway.objects.create(slug="only-a-draft")
    content = copy.deepcopy(imported["worry-anxiety"].versions.get(scope="base").content)
    content["slug"] = "only-a-draft"
    PathwayVersion.objects.create(
        pathway=pathway, scope=ScopeKind.BASE, number=1, status=Status.DRAFT, content=content
    )
    assert client.get(reverse("pathways:detail", args=["only-a-draft"])).status_code == 404
    assert client.get(reverse("pathways:pdf", args=["only-a-draft"])).status_code == 404
    assert "only-a-draft" not in client.get(LIST).content.decode()
    assert len(card_titles(client.get(LIST).content.decode())) == 8


def test_a_draft_or_a_version_in_review_never_shows_on_public_pages(client, imported, base_editor):
    pathway = imported["worry-anxiety"]
    draft = draft_start(user=base_editor, pathway=pathway)
    content = copy.deepcopy(draft.content)
    content["title"] = {"nb": "UTKAST-TITTEL", "nn": "UTKAST-TITTEL"}
    content["phases"][0]["steps"][0]["title"] = {"nb": "UTKAST-STEG", "nn": "UTKAST-STEG"}
    draft = draft_save(user=base_editor, version=draft, content=content, revision=draft.revision)
    pages = [
        client.get(LIST),
        client.get(WORRY),
        client.get(WORRY, {"municipality": "3901"}),
        client.get("/pathways/worry-anxiety/propose/?step=talk-with-child"),
    ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert "UTKAST" not in html
        assert "Bekymring og angst" in html
    search = client.get(LIST, {"q": "utkast-tittel"}).content.decode()
    assert card_titles(search) == []
    assert "No pathway matches “utkast-tittel”." in search
    review_request(user=base_editor, version=draft)
    html = client.get(WORRY).content.decode()
    assert "UTKAST" not in html
    assert "Bekymring og angst" in html


def test_the_editor_pages_under_pathways_edit_are_not_taken_by_the_public_urls():
    assert resolve("/pathways/edit/").func is not views_public.pathway_detail


def test_the_list_and_page_vary_on_language(client, imported):
    for response in (client.get(LIST), client.get(WORRY)):
        assert "Accept-Language" in response["Vary"]
        assert "Cookie" in response["Vary"]


def test_without_a_language_choice_the_pages_are_in_bokmal(client, imported):
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    for path in (LIST, WORRY, "/pathways/worry-anxiety/propose/"):
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 200
        assert '<html lang="nb">' in html
        assert "Bekymring og angst" in html

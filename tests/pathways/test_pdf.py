"""A pathway as PDF: A4, every step and the checklist, the version and the address; the
local version for a municipality; never a draft."""

import copy
import io

import pytest
from django.conf import settings
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4

from samhandling.core.models import Municipality
from samhandling.pathways.models import PathwayVersion, ScopeKind, Status
from samhandling.pathways.services.pdf import pathway_render_pdf
from samhandling.pathways.services.resolve import pathway_resolve, resolve_versions
from samhandling.pathways.services.workflow import draft_save, draft_start

pytestmark = pytest.mark.django_db

URL = "https://samhandling.example/pathways/worry-anxiety/"


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def squash(text: str) -> str:
    """Text without whitespace: line breaks in the PDF fall between any two words."""
    return "".join(text.split())


def pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), squash(" ".join(page.extract_text() for page in reader.pages))


def step_titles(resolved) -> list[str]:
    return [step.title.text for step in resolved.steps()]


def test_national_pdf_has_every_step_the_checklist_the_version_and_the_address(imported):
    resolved = pathway_resolve(pathway=imported["worry-anxiety"])
    content = pathway_render_pdf(resolved=resolved, url=URL)
    assert content.startswith(b"%PDF")
    pages, text = pdf_text(content)
    assert pages >= 1
    for title in step_titles(resolved):
        assert squash(title) in text, title
    assert squash("Bekymring og angst") in text
    assert squash("Version 1, published") in text
    assert squash(URL) in text
    assert squash("Before you refer") in text
    for items in resolved.checklist.values():
        for item in items:
            assert squash(item.text.text) in text
    assert squash("Urgent signs") in text
    assert "Local:" not in text
    # A4 portrait on every page.
    for page in PdfReader(io.BytesIO(content)).pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (
            round(A4[0]),
            round(A4[1]),
        )


@pytest.mark.parametrize(
    "slug",
    [
        "attention-difficulties",
        "autism-spectrum",
        "complex-trauma",
        "eating-difficulties",
        "infant-concern",
        "sadness-depression",
        "violence-abuse-neglect",
    ],
)
def test_every_packaged_pathway_renders_with_all_its_steps(imported, slug):
    resolved = pathway_resolve(pathway=imported[slug])
    pages, text = pdf_text(pathway_render_pdf(resolved=resolved, url=URL))
    assert pages >= 1
    missing = [t for t in step_titles(resolved) if squash(t) not in text]
    assert missing == []
    assert squash(resolved.title.text) in text  # æ, ø, å drawn, and extracted back


def test_local_pdf_marks_local_steps_and_names_the_local_services(imported):
    horten = Municipality.objects.get(number="3901")
    resolved = pathway_resolve(pathway=imported["worry-anxiety"], municipality=horten)
    pages, text = pdf_text(pathway_render_pdf(resolved=resolved, url=URL + "?municipality=3901"))
    assert pages >= 2
    for title in step_titles(resolved):
        assert squash(title) in text
    assert squash("This is the local version for Horten: 4 steps differ") in text
    assert squash("Local: Horten") in text
    assert squash("Added locally: Horten") in text
    assert squash("Samarbeidsmøte i Familiens hus") in text
    assert squash("Skolehelsetjenesten i Horten") in text
    # The national text a local step replaced is printed under it.
    assert squash("En trygg voksen på skolen eller hjemme snakker med barnet") in text
    assert squash("Local adaptation for Horten: Version 1, published") in text


def test_markup_characters_and_very_long_texts_do_not_break_the_pdf(imported):
    """Reportlab reads <b>, & and the like as markup: the texts must be escaped."""
    base = imported["worry-anxiety"].versions.get(scope=ScopeKind.BASE, status=Status.PUBLISHED)
    content = copy.deepcopy(base.content)
    step = content["phases"][1]["steps"][0]
    step["title"] = {"nb": "Plan <b>A</b> & B < C", "nn": ""}
    step["body"] = {"nb": ("Lang tekst med ord. " * 260).strip(), "nn": ""}
    preview = PathwayVersion(pathway=base.pathway, scope=ScopeKind.BASE, number=9, content=content)
    resolved = resolve_versions(base=preview, adaptations=[])
    pages, text = pdf_text(pathway_render_pdf(resolved=resolved, url=URL))
    assert squash("Plan <b>A</b> & B < C") in text
    assert pages >= 2
    assert squash("Version 9.") in text  # not published: no date


def test_pdf_view_serves_the_published_version_as_a_pdf(client, imported, base_editor):
    pathway = imported["worry-anxiety"]
    draft = draft_start(user=base_editor, pathway=pathway)
    content = copy.deepcopy(draft.content)
    content["phases"][0]["steps"][0]["title"] = {"nb": "UTKAST-STEG", "nn": "UTKAST-STEG"}
    draft_save(user=base_editor, version=draft, content=content, revision=draft.revision)
    response = client.get("/pathways/worry-anxiety.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="forlop-worry-anxiety.pdf"' in response["Content-Disposition"]
    pages, text = pdf_text(response.content)
    assert pages >= 1
    assert "UTKAST" not in text
    assert squash("Samtale med barnet") in text
    assert squash("http://testserver/pathways/worry-anxiety/") in text


def test_pdf_view_for_a_municipality_and_its_errors(client, imported):
    response = client.get("/pathways/worry-anxiety.pdf", {"municipality": "3901"})
    assert response.status_code == 200
    assert 'filename="forlop-worry-anxiety-3901.pdf"' in response["Content-Disposition"]
    _pages, text = pdf_text(response.content)
    assert squash("Added locally: Horten") in text
    unknown = client.get("/pathways/worry-anxiety.pdf", {"municipality": "9999"})
    assert unknown.status_code == 400
    assert "We do not know that municipality number." in unknown.content.decode()
    assert client.get("/pathways/no-such-pathway.pdf").status_code == 404

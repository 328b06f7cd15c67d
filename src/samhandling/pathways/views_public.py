"""Public pathway pages (no login): the list and search, one pathway for the whole country or
a municipality, its PDF, and change proposals with their secret outcome page.

Readers only ever see published versions: the services read nothing else.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from samhandling.core.services import client_address
from samhandling.directory.models import Level
from samhandling.pathways.models import Pathway, ProposalStatus
from samhandling.pathways.services.pdf import (
    local_sentence,
    pathway_render_pdf,
    pdf_filename,
    published_line,
)
from samhandling.pathways.services.proposals import (
    TEXT_MAX,
    TEXT_MIN,
    ProposalError,
    ProposalRateLimited,
    proposal_by_token,
    proposal_check_text,
    proposal_rate_check,
    proposal_submit,
)
from samhandling.pathways.services.public import (
    Place,
    municipality_choices,
    origin_label,
    pathway_cards,
    proposal_titles,
    published_pathway,
    reader_place,
)
from samhandling.pathways.services.resolve import (
    Resolved,
    Step,
    Text,
    local_adaptations,
    pathway_resolve,
    pick,
)

CHECKLIST_SECTIONS = (
    ("required_information", gettext_lazy("Information the referral needs")),
    ("measures_tried", gettext_lazy("Measures to try first")),
    ("attachments", gettext_lazy("Attachments")),
)


def _vary_on_language(response: HttpResponse) -> HttpResponse:
    # The page is in the reader's language, chosen by cookie or Accept-Language.
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def _with_place(url: str, place: Place, **extra: str) -> str:
    query = {k: v for k, v in extra.items() if v}
    if place.municipality is not None:
        query["municipality"] = place.number
    return f"{url}?{urlencode(query)}" if query else url


# --- the list ---------------------------------------------------------------------------


@require_safe
def pathway_list(request: HttpRequest) -> HttpResponse:
    """The published pathways; a search over their texts; a chooser of the reader's place."""
    query = request.GET.get("q", "").strip()[:200]
    place = reader_place(request.GET.get("municipality"))
    cards = pathway_cards(query=query, municipality=place.municipality)
    for card in cards:
        card.url = _with_place(reverse("pathways:detail", args=[card.slug]), place)
    context = {
        "cards": cards,
        "query": query,
        "place": place,
        "municipalities": municipality_choices(),
        "clear_url": _with_place(reverse("pathways:list"), place),
    }
    response = render(request, "pathways/public_list.html", context, status=_status(place))
    return _vary_on_language(response)


def _status(place: Place) -> int:
    return 400 if place.error else 200


# --- one pathway ------------------------------------------------------------------------


@dataclass(frozen=True)
class Replaced:
    """One national text a local version replaced: a text, or a list (the tools)."""

    label: str
    text: Text
    tools: tuple[Text, ...] = ()
    is_list: bool = False


@dataclass
class StepView:
    """What the page shows of one step, worked out here rather than in the template."""

    step: Step
    level_label: str
    mark: str
    replaced: list[Replaced]
    propose_url: str


_REPLACED_LABELS = {
    "title": gettext_lazy("Title"),
    "body": gettext_lazy("What is done"),
    "role": gettext_lazy("Who does it"),
    "tools": gettext_lazy("Tools and methods"),
    "level": gettext_lazy("Level"),
}


def _replaced(step: Step) -> list[Replaced]:
    """The national texts a local version replaced, field by field."""
    out = []
    for name, label in _REPLACED_LABELS.items():
        if name not in step.changed:
            continue
        base = step.changed[name]
        if name == "tools":
            tools = tuple(pick(tool) for tool in base or [])
            out.append(Replaced(str(label), Text("", ""), tools, is_list=True))
        elif name == "level":
            text = str(Level(base).label) if base in Level.values else ""
            out.append(Replaced(str(label), Text(text, "")))
        else:
            out.append(Replaced(str(label), step.base_text(name)))
    return out


def _step_view(resolved: Resolved, step: Step, propose: str, place: Place) -> StepView:
    mark = ""
    if step.differs:
        where = origin_label(resolved, step)
        if step.added:
            mark = _("Added locally: %(place)s") % {"place": where}
        else:
            mark = _("Local: %(place)s") % {"place": where}
    return StepView(
        step=step,
        level_label=str(Level(step.level).label) if step.level in Level.values else "",
        mark=mark,
        replaced=_replaced(step),
        propose_url=_with_place(propose, place, step=step.key),
    )


def _resolved_or_404(slug: str, place: Place) -> Resolved:
    pathway = published_pathway(slug)
    if pathway is None:
        raise Http404(_("No published pathway with this address."))
    try:
        return pathway_resolve(pathway=pathway, municipality=place.municipality)
    except LookupError:
        raise Http404(_("No published pathway with this address.")) from None


def _local_places(pathway: Pathway) -> list[tuple[str, str]]:
    """(label, number or "") of the places with a local version: municipalities link."""
    places = []
    for version in local_adaptations(pathway=pathway).order_by("scope_key"):
        number = version.municipality_id or ""
        places.append((version.scope_label, number))
    return places


@require_safe
def pathway_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The published pathway, national or as it applies in `?municipality=`."""
    place = reader_place(request.GET.get("municipality"))
    resolved = _resolved_or_404(slug, place)
    propose = reverse("pathways:propose", args=[slug])
    phases = [
        (phase, [_step_view(resolved, step, propose, place) for step in phase.steps])
        for phase in resolved.phases
    ]
    checklist = resolved.checklist
    context = {
        "resolved": resolved,
        "pathway": resolved.pathway,
        "place": place,
        "phases": phases,
        "phase_count": len(phases),
        "checklist": [
            (section, label, checklist.get(section, [])) for section, label in CHECKLIST_SECTIONS
        ],
        "urgent_signs": checklist.get("urgent_signs", []),
        "base_line": published_line(resolved.base),
        "local_lines": [(a.scope_label, published_line(a)) for a in resolved.adaptations],
        "local_sentence": local_sentence(resolved) if place.municipality else "",
        "local_places": _local_places(resolved.pathway),
        "municipalities": municipality_choices(),
        "pdf_url": _with_place(reverse("pathways:pdf", args=[slug]), place),
        "propose_url": _with_place(propose, place),
        "national_url": reverse("pathways:detail", args=[slug]),
        "list_url": _with_place(reverse("pathways:list"), place),
    }
    response = render(request, "pathways/public_detail.html", context, status=_status(place))
    return _vary_on_language(response)


@require_safe
def pathway_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    """The same pathway as an A4 PDF."""
    place = reader_place(request.GET.get("municipality"))
    if place.error:
        return HttpResponse(place.error, status=400, content_type="text/plain; charset=utf-8")
    resolved = _resolved_or_404(slug, place)
    page = request.build_absolute_uri(_with_place(reverse("pathways:detail", args=[slug]), place))
    content = pathway_render_pdf(
        resolved=resolved, url=page, base_url=request.build_absolute_uri("/").rstrip("/")
    )
    response = HttpResponse(content, content_type="application/pdf")
    # The file name is the slug and a municipality number: ASCII, safe in the header.
    response["Content-Disposition"] = f'inline; filename="{pdf_filename(resolved)}"'
    patch_cache_control(response, max_age=300)
    return _vary_on_language(response)


# --- change proposals -------------------------------------------------------------------


class ProposalForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Your proposal"),
        # No max_length here: the service counts the cleaned text (line breaks arrive as
        # \r\n, and count once), and says how long it is.
        strip=False,
        error_messages={"required": gettext_lazy("Write your proposal.")},
    )
    # A field people never see (hidden by CSS and from assistive technology); bots fill it.
    website = forms.CharField(required=False, max_length=200)

    def clean_text(self) -> str:
        try:
            return proposal_check_text(self.cleaned_data["text"])
        except ProposalError as error:
            raise forms.ValidationError(error.message) from None

    def clean_website(self) -> str:
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(_("Your proposal could not be sent."))
        return ""


def _step_title(resolved: Resolved, key: str) -> Text | None:
    step = next((s for s in resolved.steps() if s.key == key), None)
    return step.title if step is not None else None


@require_http_methods(["GET", "HEAD", "POST"])
def proposal_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Propose a change to one step (`?step=`) or to the whole pathway; no login needed."""
    place = reader_place(request.GET.get("municipality"))
    resolved = _resolved_or_404(slug, place)
    step_key = request.GET.get("step", "").strip()[:80]
    step_title = _step_title(resolved, step_key) if step_key else None
    if step_key and step_title is None:
        raise Http404(_("This pathway has no such step."))
    back = _with_place(reverse("pathways:detail", args=[slug]), place)
    if step_key:
        back += f"#step-{step_key}"
    status = 200
    error = ""
    form = ProposalForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if not request.user.is_authenticated:
                    proposal_rate_check(client_key=client_address(request))
                proposal = proposal_submit(
                    pathway=resolved.pathway,
                    text=form.cleaned_data["text"],
                    step_key=step_key,
                    user=request.user,
                    municipality=place.municipality,
                )
            except ProposalRateLimited as limited:
                error, status = limited.message, 429
            except ProposalError as refused:
                error = refused.message
            else:
                messages.success(
                    request,
                    _("Thank you. Your proposal has been sent to the editors of the pathway."),
                )
                return redirect("pathways:proposal", token=proposal.token)
    context = {
        "resolved": resolved,
        "place": place,
        "form": form,
        "error": error,
        "step_key": step_key,
        "step_title": step_title,
        "back_url": back,
        "text_min": TEXT_MIN,
        "text_max": TEXT_MAX,
    }
    response = render(request, "pathways/public_propose.html", context, status=status)
    return _vary_on_language(response)


@require_safe
def proposal_outcome(request: HttpRequest, token: str) -> HttpResponse:
    """What became of a proposal: only the holder of the secret link sees this page."""
    proposal = proposal_by_token(token)
    if proposal is None:
        raise Http404(_("No proposal with this address."))
    pathway_title, step_title = proposal_titles(proposal)
    context = {
        "proposal": proposal,
        "pathway_title": pathway_title,
        "step_title": step_title,
        "is_new": proposal.status == ProposalStatus.NEW,
        "is_accepted": proposal.status == ProposalStatus.ACCEPTED,
        "is_rejected": proposal.status == ProposalStatus.REJECTED,
        "link": request.build_absolute_uri(),
        "pathway_url": _with_place(
            reverse("pathways:detail", args=[proposal.pathway.slug]),
            Place(municipality=proposal.version.municipality if proposal.version else None),
        ),
    }
    response = render(request, "pathways/public_proposal.html", context)
    # A secret page: not kept by shared caches, not indexed.
    patch_cache_control(response, private=True, no_store=True)
    response["X-Robots-Tag"] = "noindex"
    return _vary_on_language(response)

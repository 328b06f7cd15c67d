"""JSON API of the care pathways: /api/v1/pathways, /api/v1/pathways/{slug} and its checklist.

Only published versions are ever shown: the published base version of each pathway, and,
for a reader's municipality, the published adaptations of its helsefellesskap and its own.
Every text is given in both languages as {"nb": …, "nn": …}; a language not written is "".
"""

import datetime as dt
import re
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError, ValidationError

from samhandling.core.models import Municipality
from samhandling.directory.models import Level, Need, Service
from samhandling.pathways.models import Pathway, PathwayVersion, ScopeKind, Status
from samhandling.pathways.services.content import CHECKLIST_SECTIONS
from samhandling.pathways.services.resolve import Resolved, Step, pathway_resolve

router = Router(tags=["pathways"])

QUERY_MAX_LENGTH = 200
_MUNICIPALITY_NUMBER = re.compile(r"^\d{4}$")


# --- schemas ----------------------------------------------------------------------------
# Named with a Pathway prefix: the OpenAPI components of all routers share one namespace.


class PathwayText(Schema):
    nb: str = Field(description="Bokmål; empty when not written.")
    nn: str = Field(description="Nynorsk; empty when not written.")


class PathwayAges(Schema):
    min: int
    max: int


class PathwayNeed(Schema):
    code: str
    name_nb: str
    name_nn: str
    name_en: str


class PathwaySummary(Schema):
    slug: str = Field(description="The pathway's short name, stable across versions.")
    title: PathwayText
    target_group: PathwayText
    summary: PathwayText
    ages: PathwayAges = Field(description="The age range the pathway is for, in years.")
    needs: list[PathwayNeed]
    version: int = Field(description="Number of the published national base version.")
    published: dt.datetime | None = Field(description="When that version was published.")
    next_revision: dt.date | None = Field(description="When that version is due for revision.")
    is_demo: bool = Field(description="Skeleton text shipped with the platform.")
    url: str = Field(description="The public page of the pathway.")


class PathwayList(Schema):
    total: int = Field(description="How many pathways match.")
    items: list[PathwaySummary]


class PathwayMunicipality(Schema):
    number: str = Field(description="Kommunenummer (2024 structure).")
    name: str


class PathwayPartnership(Schema):
    code: str = Field(description="Code of the helsefellesskap unit.")
    name: str


class PathwayAdaptation(Schema):
    scope: ScopeKind = Field(description="partnership (helsefellesskap) or municipality.")
    version: int = Field(description="Number of the published adaptation version.")
    published: dt.datetime | None
    next_revision: dt.date | None
    partnership: PathwayPartnership | None
    municipality: PathwayMunicipality | None
    note: PathwayText = Field(description="What the adaptation is about, in its editors' words.")


class PathwayLinkedService(Schema):
    code: uuid.UUID = Field(description="The service's code (see /api/v1/services/{code}).")
    name: PathwayText
    level: Level
    url: str = Field(description="The public page of the service.")


class PathwayStep(Schema):
    key: str = Field(description="Stable key of the step within the pathway.")
    title: PathwayText
    body: PathwayText
    role: PathwayText = Field(description="Who does it.")
    level: Level = Field(description="Level of the intervention pyramid.")
    tools: list[PathwayText]
    origin: ScopeKind = Field(
        description="Where the step, or its latest change, comes from: base, partnership or "
        "municipality."
    )
    added: bool = Field(description="The step exists only in a local adaptation.")
    differs_from_base: bool = Field(description="Added locally, or its text changed locally.")
    changed: list[str] = Field(description="The fields a local adaptation changed.")
    services: list[PathwayLinkedService] = Field(
        description="Directory services for this step: pinned by the adaptation, or those "
        "serving the given municipality (none without a municipality)."
    )


class PathwayPhase(Schema):
    kind: str = Field(
        description="first_concern, targeted, referral, specialist or transition, in this order."
    )
    label: str = Field(description="Name of the kind of phase, in the requested language.")
    title: PathwayText
    steps: list[PathwayStep]


class PathwayChecklistItem(Schema):
    key: str = Field(description="Stable key of the item within its section.")
    text: PathwayText


class PathwayChecklistSections(Schema):
    required_information: list[PathwayChecklistItem] = Field(
        description="What the referral must tell."
    )
    measures_tried: list[PathwayChecklistItem] = Field(
        description="Measures that should have been tried before referring."
    )
    attachments: list[PathwayChecklistItem] = Field(description="What to attach.")
    urgent_signs: list[PathwayChecklistItem] = Field(
        description="Signs that call for urgent help rather than an ordinary referral."
    )


class PathwayDetail(PathwaySummary):
    url: str = Field(
        description="The public page of the pathway, for the municipality if one was given."
    )
    municipality: PathwayMunicipality | None = Field(
        description="The municipality the pathway was resolved for, if one was given."
    )
    adaptations: list[PathwayAdaptation] = Field(
        description="The published local adaptations applied, helsefellesskap first."
    )
    phases: list[PathwayPhase]
    checklist: PathwayChecklistSections = Field(description="The referral checklist.")


class PathwayChecklist(Schema):
    pathway: str = Field(description="The pathway's slug.")
    version: int = Field(description="Number of the published base version it comes from.")
    published: dt.datetime | None
    municipality: str | None = Field(description="Kommunenummer, if one was given.")
    sections: PathwayChecklistSections


class PathwayErrorDetail(Schema):
    loc: list[str]
    msg: str
    type: str


class PathwayValidationError(Schema):
    detail: list[PathwayErrorDetail]


class PathwayNotFound(Schema):
    detail: str


class PathwayQuery(Schema):
    q: str = Field(
        "",
        max_length=QUERY_MAX_LENGTH,
        description="Text in the title or summary, bokmål or nynorsk, any case.",
    )
    need: list[str] = Field(
        default_factory=list, description="Need codes; the pathway is for at least one."
    )
    age: int | None = Field(None, ge=0, le=120, description="Age in years, within the range.")


class MunicipalityQuery(Schema):
    municipality: str | None = Field(
        None,
        description="Kommunenummer: apply that municipality's and its helsefellesskap's "
        "published adaptations, and link its services.",
    )


# --- serialisation ----------------------------------------------------------------------


def _text(value: Any) -> dict[str, str]:
    value = value if isinstance(value, dict) else {}
    return {"nb": value.get("nb") or "", "nn": value.get("nn") or ""}


def _page_url(request: HttpRequest, slug: str) -> str:
    return request.build_absolute_uri(reverse("pathways:detail", args=[slug]))


def _needs(codes: list[str], needs: dict[str, Need]) -> list[dict[str, str]]:
    return [
        {"code": n.code, "name_nb": n.name_nb, "name_nn": n.name_nn, "name_en": n.name_en}
        for n in sorted(
            (needs[c] for c in codes if c in needs), key=lambda n: (n.sort_order, n.code)
        )
    ]


def _summary(
    request: HttpRequest, version: PathwayVersion, needs: dict[str, Need]
) -> dict[str, Any]:
    document = version.content
    return {
        "slug": version.pathway.slug,
        "title": _text(document.get("title")),
        "target_group": _text(document.get("target_group")),
        "summary": _text(document.get("summary")),
        "ages": {"min": document.get("age_min", 0), "max": document.get("age_max", 120)},
        "needs": _needs(document.get("needs", []), needs),
        "version": version.number,
        "published": version.published_at,
        "next_revision": version.next_revision,
        "is_demo": version.pathway.is_demo,
        "url": _page_url(request, version.pathway.slug),
    }


def _service(request: HttpRequest, service: Service) -> dict[str, Any]:
    return {
        "code": service.code,
        "name": {"nb": service.name_nb, "nn": service.name_nn},
        "level": service.level,
        "url": request.build_absolute_uri(reverse("directory:service-detail", args=[service.code])),
    }


def _step(request: HttpRequest, step: Step) -> dict[str, Any]:
    return {
        "key": step.key,
        "title": _text(step.data.get("title")),
        "body": _text(step.data.get("body")),
        "role": _text(step.data.get("role")),
        "level": step.level,
        "tools": [_text(tool) for tool in step.data.get("tools") or []],
        "origin": step.origin,
        "added": step.added,
        "differs_from_base": step.differs,
        "changed": sorted(step.changed),
        "services": [_service(request, service) for service in step.services],
    }


def _adaptation(version: PathwayVersion) -> dict[str, Any]:
    partnership, municipality = version.partnership, version.municipality
    return {
        "scope": version.scope,
        "version": version.number,
        "published": version.published_at,
        "next_revision": version.next_revision,
        "partnership": {"code": partnership.code, "name": partnership.name}
        if partnership
        else None,
        "municipality": {"number": municipality.number, "name": municipality.name}
        if municipality
        else None,
        "note": _text(version.content.get("note")),
    }


def checklist_sections(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The referral checklist of a pathway document, every section present, in order."""
    raw = document.get("checklist") or {}
    return {
        section: [
            {"key": item["key"], "text": _text(item.get("text"))} for item in raw.get(section) or []
        ]
        for section in CHECKLIST_SECTIONS
    }


def _all_needs() -> dict[str, Need]:
    return {n.code: n for n in Need.objects.all()}


# --- lookups ----------------------------------------------------------------------------


def _refuse(field: str, message: str) -> None:
    raise ValidationError([{"loc": ["query", field], "msg": message, "type": "value_error"}])


def _municipality(number: str | None) -> Municipality | None:
    if number is None or not number.strip():
        return None
    number = number.strip()
    found = (
        Municipality.objects.filter(number=number).first()
        if _MUNICIPALITY_NUMBER.match(number)
        else None
    )
    if found is None:
        _refuse(
            "municipality",
            _("Unknown municipality. Choose one from the list or give its four-digit number."),
        )
    return found


def _resolved(slug: str, number: str | None) -> Resolved:
    pathway = Pathway.objects.filter(slug=slug).first()
    municipality = _municipality(number)
    if pathway is not None:
        try:
            return pathway_resolve(pathway=pathway, municipality=municipality)
        except LookupError:
            pass
    raise HttpError(404, _("No published care pathway has this short name."))


# --- endpoints --------------------------------------------------------------------------


def _list(request: HttpRequest, query: PathwayQuery) -> dict[str, Any]:
    needs = _all_needs()
    wanted = list(dict.fromkeys(code.strip() for code in query.need if code.strip()))
    if set(wanted) - set(needs):
        _refuse("need", _("Unknown need. Choose needs from the list."))
    text = query.q.strip().casefold()
    versions = PathwayVersion.objects.filter(
        scope=ScopeKind.BASE, status=Status.PUBLISHED
    ).select_related("pathway")
    items = []
    for version in versions:
        document = version.content
        if wanted and not set(wanted) & set(document.get("needs", [])):
            continue
        if query.age is not None and not (
            document.get("age_min", 0) <= query.age <= document.get("age_max", 120)
        ):
            continue
        if text:
            haystack = " ".join(
                str(document.get(name, {}).get(lang) or "")
                for name in ("title", "summary")
                for lang in ("nb", "nn")
            )
            if text not in haystack.casefold():
                continue
        items.append(_summary(request, version, needs))
    items.sort(key=lambda item: (item["title"]["nb"].casefold(), item["slug"]))
    return {"total": len(items), "items": items}


@router.get(
    "",
    response={200: PathwayList, 422: PathwayValidationError},
    summary="List published care pathways",
    description="The published national base version of every care pathway matching all the "
    "given filters, by bokmål title. 422 names each refused filter.",
)
def pathways_list(request: HttpRequest, query: Query[PathwayQuery]) -> dict[str, Any]:
    return _list(request, query)


@router.get(
    "/",
    response={200: PathwayList, 422: PathwayValidationError},
    include_in_schema=False,
    url_name="pathways_list_slash",
)
def pathways_list_slash(request: HttpRequest, query: Query[PathwayQuery]) -> dict[str, Any]:
    return _list(request, query)


def _detail(request: HttpRequest, slug: str, number: str | None) -> dict[str, Any]:
    resolved = _resolved(slug, number)
    out = _summary(request, resolved.base, _all_needs())
    municipality = resolved.municipality
    out["municipality"] = (
        {"number": municipality.number, "name": municipality.name} if municipality else None
    )
    if municipality:
        out["url"] += "?" + urlencode({"municipality": municipality.number})
    out["adaptations"] = [_adaptation(a) for a in resolved.adaptations]
    titles = {p["kind"]: p.get("title") for p in resolved.document["phases"]}
    out["phases"] = [
        {
            "kind": phase.kind,
            "label": phase.label,
            "title": _text(titles.get(phase.kind)),
            "steps": [_step(request, step) for step in phase.steps],
        }
        for phase in resolved.phases
    ]
    out["checklist"] = checklist_sections(resolved.document)
    return out


SlugPath = Annotated[str, Field(description="The pathway's short name, e.g. worry-anxiety.")]


@router.get(
    "/{slug}",
    response={200: PathwayDetail, 404: PathwayNotFound, 422: PathwayValidationError},
    summary="One published care pathway",
    description="The published pathway with its phases, steps and referral checklist. With "
    "`municipality`, as read there: the published adaptations of its helsefellesskap and its "
    "own applied, and the directory services serving it linked from the steps. 404 if the "
    "pathway has no published version; 422 for an unknown municipality.",
)
def pathways_detail(
    request: HttpRequest, slug: SlugPath, query: Query[MunicipalityQuery]
) -> dict[str, Any]:
    return _detail(request, slug, query.municipality)


@router.get(
    "/{slug}/",
    response={200: PathwayDetail, 404: PathwayNotFound, 422: PathwayValidationError},
    include_in_schema=False,
    url_name="pathways_detail_slash",
)
def pathways_detail_slash(
    request: HttpRequest, slug: SlugPath, query: Query[MunicipalityQuery]
) -> dict[str, Any]:
    return _detail(request, slug, query.municipality)


def _checklist(slug: str, number: str | None) -> dict[str, Any]:
    resolved = _resolved(slug, number)
    return {
        "pathway": resolved.pathway.slug,
        "version": resolved.base.number,
        "published": resolved.base.published_at,
        "municipality": resolved.municipality.number if resolved.municipality else None,
        "sections": checklist_sections(resolved.document),
    }


@router.get(
    "/{slug}/checklist",
    response={200: PathwayChecklist, 404: PathwayNotFound, 422: PathwayValidationError},
    summary="The referral checklist of a care pathway",
    description="What a referral along this pathway must contain, as structured data for "
    "referral forms: four sections (required_information, measures_tried, attachments, "
    "urgent_signs), always all present, each a list of items with a stable key and the text "
    "in bokmål and nynorsk. 404 if the pathway has no published version; 422 for an unknown "
    "municipality.",
)
def pathways_checklist(
    request: HttpRequest, slug: SlugPath, query: Query[MunicipalityQuery]
) -> dict[str, Any]:
    return _checklist(slug, query.municipality)


@router.get(
    "/{slug}/checklist/",
    response={200: PathwayChecklist, 404: PathwayNotFound, 422: PathwayValidationError},
    include_in_schema=False,
    url_name="pathways_checklist_slash",
)
def pathways_checklist_slash(
    request: HttpRequest, slug: SlugPath, query: Query[MunicipalityQuery]
) -> dict[str, Any]:
    return _checklist(slug, query.municipality)

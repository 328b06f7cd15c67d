"""Care pathways as FHIR R4 PlanDefinition resources, and their search.

Ids
  <slug>                     the published national base version (e.g. `worry-anxiety`)
  <slug>--<kommunenummer>    the pathway as read in that municipality: the base with the
                             published adaptations of its helsefellesskap and its own applied,
                             and the directory services serving it linked (e.g.
                             `worry-anxiety--3901`). Such an id exists only where at least one
                             published adaptation applies; elsewhere the base version is it.
Slugs never hold two hyphens in a row, so the two kinds of id cannot be confused. Only
published versions are ever served.

PlanDefinition
  url, identifier   <base>/fhir/PlanDefinition/<id>; SYSTEM_PATHWAY | <id>
  version           the base version's number; a local one adds "+p<n>" for the
                    helsefellesskap's adaptation and "+m<n>" for the municipality's
  name, title       machine name (WorryAnxiety, WorryAnxiety_3901); the bokmål title
  type, status      clinical-protocol; active
  experimental      true for the skeleton content shipped with the platform
  date, publisher   the latest publication among the versions applied; Samhandling for a
                    base version, the municipality or helsefellesskap for a local one
  description, purpose   the summary; the target group
  useContext        the age range (usage-context-type `age`, a Range in years)
  jurisdiction      Norway (urn:iso:std:iso:3166|NO), or the municipality (kommunenummer)
  topic             the needs (SYSTEM_NEED, the same codes as HealthcareService.specialty)
  relatedArtifact   the public page; a local version is derived-from its base
  action            one per phase (id and code = the kind of phase, title = its label), each
                    holding one action per step: id = step key, title, description = body,
                    code = level of the intervention pyramid and where the step's text comes
                    from (base, partnership, municipality), participant = who does it (role
                    as text), documentation = the linked services (url of their
                    HealthcareService) and the tools (display only). The referral phase
                    ends with the action `referral-checklist`, whose actions are the
                    checklist items: id `<section>.<key>`, code = section; urgent signs
                    have priority `urgent`.

Pathway texts are bokmål, with the nynorsk text as a translation extension on the same
element where it differs; texts the platform writes (phase labels, displays) follow the
active language.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from samhandling.core.models import Municipality, OrganisationUnit, UnitKind
from samhandling.directory.models import Level, Need
from samhandling.fhir.mapping import (
    SYSTEM_KOMMUNENUMMER,
    SYSTEM_LEVEL,
    SYSTEM_NEED,
    _coding,
    _drop_empty,
    _instant,
)
from samhandling.fhir.search import (
    DEFAULT_COUNT,
    SearchError,
    SearchParam,
    _quoted,
    _without_system,
    search_values,
)
from samhandling.pathways.models import PathwayVersion, ScopeKind, Status
from samhandling.pathways.services.content import CHECKLIST_SECTIONS
from samhandling.pathways.services.resolve import (
    Resolved,
    Step,
    pathway_resolve,
    resolve_versions,
)

SYSTEM_PATHWAY = "urn:samhandling:pathway"
SYSTEM_PHASE = "urn:samhandling:CodeSystem:pathway-phase"
SYSTEM_STEP_ORIGIN = "urn:samhandling:CodeSystem:pathway-step-origin"
SYSTEM_CHECKLIST_SECTION = "urn:samhandling:CodeSystem:referral-checklist-section"
SYSTEM_COUNTRY = "urn:iso:std:iso:3166"
SYSTEM_PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
SYSTEM_USAGE_CONTEXT = "http://terminology.hl7.org/CodeSystem/usage-context-type"
SYSTEM_PUBLICATION_STATUS = "http://hl7.org/fhir/publication-status"
SYSTEM_UCUM = "http://unitsofmeasure.org"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
SEARCH_PARAM_PD_MUNICIPALITY = "urn:samhandling:SearchParameter:PlanDefinition-municipality"
CHECKLIST_ACTION = "referral-checklist"
PUBLISHER = "Samhandling"
PUBLICATION_STATUSES = ("draft", "active", "retired", "unknown")

_ID = re.compile(r"^(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)(?:--(?P<number>[0-9]{4}))?$")
_KOMMUNENUMMER = re.compile(r"[0-9]{4}")

PLANDEFINITION_PARAMS = [
    SearchParam(
        "_id",
        "token",
        "http://hl7.org/fhir/SearchParameter/Resource-id",
        "The pathway's id: its short name (worry-anxiety), or short name and kommunenummer "
        "for the version read in that municipality (worry-anxiety--3901).",
    ),
    SearchParam(
        "title",
        "string",
        "http://hl7.org/fhir/SearchParameter/PlanDefinition-title",
        "Part of the title in bokmål or nynorsk, any case. `title:exact` matches the whole title.",
    ),
    SearchParam(
        "name",
        "string",
        "http://hl7.org/fhir/SearchParameter/PlanDefinition-name",
        "Part of the machine name (WorryAnxiety) or the short name (worry-anxiety), any case. "
        "`name:exact` matches the whole name.",
    ),
    SearchParam(
        "status",
        "token",
        "http://hl7.org/fhir/SearchParameter/PlanDefinition-status",
        "Only published versions are served, all `active`; draft, retired and unknown match "
        "nothing.",
    ),
    SearchParam(
        "topic",
        "token",
        "http://hl7.org/fhir/SearchParameter/PlanDefinition-topic",
        f"Need code (system {SYSTEM_NEED}), as in HealthcareService.specialty.",
    ),
    SearchParam(
        "municipality",
        "token",
        SEARCH_PARAM_PD_MUNICIPALITY,
        "The pathways as they apply in the municipality with this kommunenummer (system "
        f"{SYSTEM_KOMMUNENUMMER}): its local version where a published adaptation applies, "
        "the national base version elsewhere. Several numbers separated by commas: any of "
        "them.",
    ),
    SearchParam(
        "jurisdiction",
        "token",
        "http://hl7.org/fhir/SearchParameter/PlanDefinition-jurisdiction",
        f"`NO` (system {SYSTEM_COUNTRY}) for the national base versions, or a kommunenummer "
        f"(system {SYSTEM_KOMMUNENUMMER}) for the local versions of that municipality only.",
    ),
]
_TEXT_PARAMS = {"title", "title:contains", "title:exact", "name", "name:contains", "name:exact"}


# --- which PlanDefinitions there are --------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One PlanDefinition that exists: a published base version, read nationally or locally."""

    base: PathwayVersion
    municipality: Municipality | None = None

    @property
    def slug(self) -> str:
        return self.base.pathway.slug

    @property
    def id(self) -> str:
        return f"{self.slug}--{self.municipality.number}" if self.municipality else self.slug

    @property
    def name(self) -> str:
        machine = "".join(part.capitalize() for part in self.slug.split("-"))
        return f"{machine}_{self.municipality.number}" if self.municipality else machine

    @property
    def titles(self) -> list[str]:
        title = self.base.content.get("title") or {}
        return [t for t in (title.get("nb"), title.get("nn")) if t]

    @property
    def needs(self) -> list[str]:
        return list(self.base.content.get("needs", []))

    @property
    def jurisdiction(self) -> str:
        return self.municipality.number if self.municipality else "NO"


def _first_partnership_by_municipality() -> dict[str, int]:
    """Kommunenummer → its helsefellesskap: the first by code, as the pathway resolver picks."""
    pairs = (
        OrganisationUnit.objects.filter(kind=UnitKind.PARTNERSHIP, municipalities__isnull=False)
        .order_by("code")
        .values_list("pk", "municipalities")
    )
    first: dict[str, int] = {}
    for unit_id, number in pairs:
        first.setdefault(number, unit_id)
    return first


def plandefinition_candidates() -> list[Candidate]:
    """Every PlanDefinition served, national ones and local ones, by id."""
    bases = {
        v.pathway_id: v
        for v in PathwayVersion.objects.filter(
            scope=ScopeKind.BASE, status=Status.PUBLISHED
        ).select_related("pathway")
    }
    adapted = PathwayVersion.objects.filter(
        status=Status.PUBLISHED, pathway_id__in=list(bases)
    ).exclude(scope=ScopeKind.BASE)
    local: set[tuple[int, str]] = set()
    by_partnership: dict[int, set[int]] = {}
    for pathway_id, scope, partnership_id, number in adapted.values_list(
        "pathway_id", "scope", "partnership_id", "municipality_id"
    ):
        if scope == ScopeKind.MUNICIPALITY:
            local.add((pathway_id, number))
        else:
            by_partnership.setdefault(partnership_id, set()).add(pathway_id)
    if by_partnership:
        for number, unit_id in _first_partnership_by_municipality().items():
            for pathway_id in by_partnership.get(unit_id, ()):
                local.add((pathway_id, number))
    municipalities = Municipality.objects.in_bulk({number for _, number in local})
    found = [Candidate(base) for base in bases.values()]
    found += [Candidate(bases[pathway_id], municipalities[number]) for pathway_id, number in local]
    return sorted(found, key=lambda c: (c.slug, c.municipality.number if c.municipality else ""))


# --- search -------------------------------------------------------------------------------

# A search condition: does it hold for this candidate, given the ids of all candidates?
Condition = Callable[[Candidate, set[str]], bool]


@dataclass
class PlanDefinitionQuery:
    # All must hold for a candidate to match.
    conditions: list["Condition"] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    offset: int = 0
    echo: list[tuple[str, str]] = field(default_factory=list)


def _kommunenummer(value: str, name: str, known: set[str]) -> str:
    value = _without_system(value, SYSTEM_KOMMUNENUMMER, name)
    if not _KOMMUNENUMMER.fullmatch(value):
        raise SearchError(
            _("%(param)s must be a kommunenummer of 4 digits, not %(value)s.")
            % {"param": name, "value": _quoted(value)}
        )
    if value not in known:
        raise SearchError(
            _("There is no municipality with number %(value)s.") % {"value": _quoted(value)}
        )
    return value


def _jurisdiction(value: str, known: set[str]) -> str:
    system, _bar, code = value.rpartition("|")
    if system == SYSTEM_COUNTRY or (not system and code == "NO"):
        if code != "NO":
            raise SearchError(
                _("Only Norway (NO) or a kommunenummer can be a jurisdiction, not %(value)s.")
                % {"value": _quoted(value)}
            )
        return "NO"
    return _kommunenummer(value, "jurisdiction", known)


def _status(value: str) -> str:
    code = _without_system(value, SYSTEM_PUBLICATION_STATUS, "status")
    if code not in PUBLICATION_STATUSES:
        raise SearchError(
            _("Unknown status %(value)s; use one of %(codes)s.")
            % {"value": _quoted(code), "codes": ", ".join(PUBLICATION_STATUSES)}
        )
    return code


def _need(value: str, known: set[str]) -> str:
    code = _without_system(value, SYSTEM_NEED, "topic")
    if code not in known:
        raise SearchError(_("Unknown topic %(value)s.") % {"value": _quoted(code)})
    return code


def _pathway_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise SearchError(
            _("_id must be a pathway id (short name, or short name--kommunenummer), not %(value)s.")
            % {"value": _quoted(value)}
        )
    return value


def _text_condition(name: str, values: list[str]) -> Condition:
    field_name, _colon, modifier = name.partition(":")
    wanted = [v.casefold() for v in values]

    def texts(candidate: Candidate) -> list[str]:
        return candidate.titles if field_name == "title" else [candidate.name, candidate.slug]

    if modifier == "exact":  # FHIR: the whole string, case and accents as given
        return lambda c, _ids: any(t in values for t in texts(c))
    return lambda c, _ids: any(w in t.casefold() for w in wanted for t in texts(c))


def _applies_in(numbers: list[str]) -> Condition:
    def condition(candidate: Candidate, ids: set[str]) -> bool:
        if candidate.municipality is not None:
            return candidate.municipality.number in numbers
        return any(f"{candidate.slug}--{n}" not in ids for n in numbers)

    return condition


def parse_plandefinition_query(params) -> PlanDefinitionQuery:
    """Read the query string of a PlanDefinition search; raise SearchError on bad input."""
    query = PlanDefinitionQuery()
    known = {p.name for p in PLANDEFINITION_PARAMS} | _TEXT_PARAMS
    municipalities: set[str] | None = None
    needs: set[str] | None = None
    for name, values in search_values(params, known, query):
        if name in {"municipality", "jurisdiction"} and municipalities is None:
            municipalities = set(Municipality.objects.values_list("number", flat=True))
        if name == "_id":
            ids = {_pathway_id(v) for v in values}
            query.conditions.append(lambda c, _ids, ids=ids: c.id in ids)
        elif name in _TEXT_PARAMS:
            query.conditions.append(_text_condition(name, values))
        elif name == "status":
            statuses = {_status(v) for v in values}
            query.conditions.append(lambda c, _ids, s=statuses: "active" in s)
        elif name == "topic":
            if needs is None:
                needs = set(Need.objects.values_list("code", flat=True))
            codes = {_need(v, needs) for v in values}
            query.conditions.append(lambda c, _ids, codes=codes: bool(codes & set(c.needs)))
        elif name == "municipality":
            numbers = [_kommunenummer(v, name, municipalities) for v in values]
            query.conditions.append(_applies_in(numbers))
        elif name == "jurisdiction":
            places = {_jurisdiction(v, municipalities) for v in values}
            query.conditions.append(lambda c, _ids, p=places: c.jurisdiction in p)
        query.echo.append((name, ",".join(values)))
    return query


def plandefinition_matches(query: PlanDefinitionQuery) -> list[Candidate]:
    """The PlanDefinitions matching every condition of the query, by id."""
    candidates = plandefinition_candidates()
    ids = {c.id for c in candidates}
    return [c for c in candidates if all(cond(c, ids) for cond in query.conditions)]


def plandefinition_find(id: str) -> Candidate | None:
    """The PlanDefinition with this id, if it is served."""
    if not _ID.fullmatch(id):
        return None
    return next((c for c in plandefinition_candidates() if c.id == id), None)


def candidate_resolve(candidate: Candidate) -> Resolved:
    """The pathway text the PlanDefinition shows: the base, or as read in the municipality."""
    if candidate.municipality is None:
        return resolve_versions(base=candidate.base, adaptations=[])
    return pathway_resolve(pathway=candidate.base.pathway, municipality=candidate.municipality)


# --- mapping ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """What every resource of one response shares: where things live, and the needs."""

    fhir_base: str  # ends with "/", e.g. https://example.no/fhir/
    site: str  # scheme and host, no trailing slash
    needs: dict[str, Need]

    @classmethod
    def of(cls, *, fhir_base: str, site: str) -> "Site":
        return cls(fhir_base, site, {n.code: n for n in Need.objects.all()})


def _put_text(target: dict, name: str, value: Any) -> None:
    """Set a string element to the bokmål text, with the nynorsk one as its translation."""
    value = value if isinstance(value, dict) else {}
    nb, nn = (value.get("nb") or "").strip(), (value.get("nn") or "").strip()
    if not (nb or nn):
        return
    target[name] = nb or nn
    if nb and nn and nn != nb:
        target[f"_{name}"] = {
            "extension": [
                {
                    "url": TRANSLATION,
                    "extension": [
                        {"url": "lang", "valueCode": "nn"},
                        {"url": "content", "valueString": nn},
                    ],
                }
            ]
        }


def _with_text(base: dict, **texts: Any) -> dict:
    for name, value in texts.items():
        _put_text(base, name, value)
    return base


def _version(resolved: Resolved) -> str:
    marks = {ScopeKind.PARTNERSHIP: "p", ScopeKind.MUNICIPALITY: "m"}
    return str(resolved.base.number) + "".join(
        f"+{marks[a.scope]}{a.number}" for a in resolved.adaptations
    )


def _age_context(document: dict) -> dict:
    def age(value: int) -> dict:
        return {"value": value, "unit": "a", "system": SYSTEM_UCUM, "code": "a"}

    return {
        "code": {"system": SYSTEM_USAGE_CONTEXT, "code": "age", "display": "Age Range"},
        "valueRange": {
            "low": age(document.get("age_min", 0)),
            "high": age(document.get("age_max", 120)),
        },
    }


def _jurisdiction_concept(candidate: Candidate) -> dict:
    if candidate.municipality is None:
        return _coding(SYSTEM_COUNTRY, "NO", "Norge")
    m = candidate.municipality
    return _coding(SYSTEM_KOMMUNENUMMER, m.number, m.name)


def _page_url(candidate: Candidate, site: Site) -> str:
    url = site.site + reverse("pathways:detail", args=[candidate.slug])
    return f"{url}?municipality={candidate.municipality.number}" if candidate.municipality else url


def _step_action(step: Step, site: Site) -> dict:
    data = step.data
    action = _with_text({"id": step.key}, title=data.get("title"), description=data.get("body"))
    codes = []
    if step.level in Level.values:
        codes.append(_coding(SYSTEM_LEVEL, step.level, str(Level(step.level).label)))
    codes.append(_coding(SYSTEM_STEP_ORIGIN, str(step.origin), str(ScopeKind(step.origin).label)))
    action["code"] = codes
    role = _with_text({}, text=data.get("role"))
    if role:
        # Who does it is free text naming professions (and sometimes parents); the
        # participant type FHIR requires is the nearest one.
        action["participant"] = [{"type": "practitioner", "role": role}]
    documentation = [
        _with_text(
            {
                "type": "documentation",
                "url": f"{site.fhir_base}HealthcareService/{service.code}",
            },
            display={"nb": service.name_nb, "nn": service.name_nn},
        )
        for service in step.services
    ]
    documentation += [
        _with_text({"type": "documentation"}, display=tool) for tool in data.get("tools") or []
    ]
    action["documentation"] = [d for d in documentation if "display" in d or "url" in d]
    return _drop_empty(action)


def checklist_section_labels() -> dict[str, str]:
    return {
        "required_information": _("Information the referral must give"),
        "measures_tried": _("Measures tried before referring"),
        "attachments": _("Attachments"),
        "urgent_signs": _("Signs that need urgent help"),
    }


def _checklist_action(document: dict) -> dict:
    raw = document.get("checklist") or {}
    labels = checklist_section_labels()
    items = []
    for section in CHECKLIST_SECTIONS:
        for item in raw.get(section) or []:
            action = _with_text({"id": f"{section}.{item['key']}"}, title=item.get("text"))
            action["code"] = [_coding(SYSTEM_CHECKLIST_SECTION, section, labels[section])]
            if section == "urgent_signs":
                action["priority"] = "urgent"
            items.append(action)
    return {
        "id": CHECKLIST_ACTION,
        "title": _("Referral checklist"),
        "description": _("What a referral along this pathway must contain."),
        "groupingBehavior": "logical-group",
        "action": items,
    }


def _phase_actions(resolved: Resolved, site: Site) -> list[dict]:
    titles = {p["kind"]: p.get("title") for p in resolved.document["phases"]}
    actions = []
    for phase in resolved.phases:
        action = _with_text(
            {
                "id": phase.kind,
                "title": phase.label,
                "code": [_coding(SYSTEM_PHASE, phase.kind, phase.label)],
                "groupingBehavior": "logical-group",
            },
            description=titles.get(phase.kind),
        )
        action["action"] = [_step_action(step, site) for step in phase.steps]
        if phase.kind == "referral":
            action["action"].append(_checklist_action(resolved.document))
        actions.append(_drop_empty(action))
    return actions


def plandefinition_resource(candidate: Candidate, resolved: Resolved, site: Site) -> dict:
    """A pathway, national or as read in one municipality, as a FHIR PlanDefinition."""
    document = resolved.document
    versions = [resolved.base, *resolved.adaptations]
    latest = max(versions, key=lambda v: v.published_at or v.created_at)
    # A local version is published by the most local of its adaptations' editors.
    publisher = resolved.adaptations[-1].scope_label if resolved.adaptations else PUBLISHER
    needs = [site.needs[c] for c in document.get("needs", []) if c in site.needs]
    related = [
        {
            "type": "documentation",
            "display": _("The pathway on the web"),
            "url": _page_url(candidate, site),
        }
    ]
    if candidate.municipality is not None:
        related.append(
            _with_text(
                {
                    "type": "derived-from",
                    "resource": f"{site.fhir_base}PlanDefinition/{candidate.slug}",
                },
                display=document.get("title"),
            )
        )
    updated = [v.updated_at for v in versions if v.updated_at]
    resource = {
        "resourceType": "PlanDefinition",
        "id": candidate.id,
        "meta": {"lastUpdated": _instant(max(updated))} if updated else None,
        "language": "nb",
        "url": f"{site.fhir_base}PlanDefinition/{candidate.id}",
        "identifier": [{"system": SYSTEM_PATHWAY, "value": candidate.id}],
        "version": _version(resolved),
        "name": candidate.name,
        "type": _coding(SYSTEM_PLAN_TYPE, "clinical-protocol", "Clinical Protocol"),
        "status": "active",
        "experimental": bool(candidate.base.pathway.is_demo),
        "date": _instant(latest.published_at) if latest.published_at else None,
        "publisher": publisher,
        "useContext": [_age_context(document)],
        "jurisdiction": [_jurisdiction_concept(candidate)],
        "topic": [
            _coding(SYSTEM_NEED, n.code, n.name)
            for n in sorted(needs, key=lambda n: (n.sort_order, n.code))
        ],
        "relatedArtifact": related,
        "action": _phase_actions(resolved, site),
    }
    _put_text(resource, "title", document.get("title"))
    _put_text(resource, "description", document.get("summary"))
    _put_text(resource, "purpose", document.get("target_group"))
    if latest.published_at:
        resource["approvalDate"] = timezone.localtime(latest.published_at).date().isoformat()
    return _drop_empty(resource)

"""A pathway as a reader in one place sees it: base text + local adaptations + local services.

The national base version comes first; a helsefellesskap's adaptation overrides or adds steps;
a municipality's adaptation overrides or adds on top. Each step says where its text came
from and, where a local text replaced the base text, what the base said, so readers see
where their local version differs. Services linked from a step are looked up in the
directory for the reader's municipality (or pinned by the adaptation).
"""

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from samhandling.core.models import Municipality
from samhandling.core.services import Text, pick
from samhandling.directory.models import Coverage, Service
from samhandling.directory.services.demo import demo_service_code
from samhandling.pathways.models import Pathway, PathwayVersion, ScopeKind
from samhandling.pathways.services.content import CHECKLIST_SECTIONS, phase_labels
from samhandling.pathways.services.workflow import partnership_of_municipality, published_version

SERVICES_PER_STEP = 6


@dataclass
class Step:
    key: str
    phase: str
    data: dict[str, Any]
    origin: str = ScopeKind.BASE  # where the step or its latest change comes from
    added: bool = False
    changed: dict[str, Any] = field(default_factory=dict)  # field → the base's value
    pinned: list[str] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)

    def text(self, name: str) -> Text:
        return pick(self.data.get(name))

    @property
    def title(self) -> Text:
        return self.text("title")

    @property
    def body(self) -> Text:
        return self.text("body")

    @property
    def role(self) -> Text:
        return self.text("role")

    @property
    def tools(self) -> list[Text]:
        return [pick(tool) for tool in self.data.get("tools", [])]

    @property
    def level(self) -> str:
        return self.data.get("level", "")

    @property
    def differs(self) -> bool:
        return self.added or bool(self.changed)

    def base_text(self, name: str) -> Text:
        return pick(self.changed.get(name))


@dataclass
class Phase:
    kind: str
    title: Text
    steps: list[Step]

    @property
    def label(self) -> str:
        return phase_labels()[self.kind]


@dataclass
class ChecklistItem:
    key: str
    text: Text


@dataclass
class Resolved:
    pathway: Pathway
    base: PathwayVersion
    adaptations: list[PathwayVersion]
    municipality: Municipality | None
    document: dict[str, Any]
    phases: list[Phase]

    def text(self, name: str) -> Text:
        return pick(self.document.get(name))

    @property
    def title(self) -> Text:
        return self.text("title")

    @property
    def target_group(self) -> Text:
        return self.text("target_group")

    @property
    def summary(self) -> Text:
        return self.text("summary")

    @property
    def notes(self) -> list[tuple[PathwayVersion, Text]]:
        return [(a, pick(a.content.get("note"))) for a in self.adaptations if a.content.get("note")]

    @property
    def checklist(self) -> dict[str, list[ChecklistItem]]:
        raw = self.document.get("checklist", {})
        return {
            section: [ChecklistItem(i["key"], pick(i["text"])) for i in raw.get(section, [])]
            for section in CHECKLIST_SECTIONS
        }

    @property
    def differences(self) -> int:
        return sum(step.differs for phase in self.phases for step in phase.steps)

    def steps(self) -> list[Step]:
        return [step for phase in self.phases for step in phase.steps]


def _apply(steps: dict[str, list[Step]], adaptation: PathwayVersion) -> None:
    by_key = {step.key: step for phase in steps.values() for step in phase}
    content = adaptation.content
    for key, override in content.get("steps", {}).items():
        step = by_key.get(key)
        if step is None:
            continue  # the base no longer has this step; the adaptation's editor is told
        for name, value in override.items():
            if name == "services":
                step.pinned = list(value)
            elif step.data.get(name) != value:
                step.changed.setdefault(name, step.data.get(name))
                step.data[name] = value
        step.origin = adaptation.scope
    for entry in content.get("added_steps", []):
        data = dict(entry["step"])
        pinned = data.pop("services") if isinstance(data.get("services"), list) else []
        step = Step(
            key=data["key"],
            phase=entry["phase"],
            data=data,
            origin=adaptation.scope,
            added=True,
            pinned=pinned,
        )
        phase = steps.setdefault(entry["phase"], [])
        after = (
            [s.key for s in phase].index(entry["after"]) + 1
            if entry.get("after") in [s.key for s in phase]
            else len(phase)
        )
        phase.insert(after, step)
        by_key[step.key] = step


def _service_code(reference: str) -> uuid.UUID:
    try:
        return uuid.UUID(reference)
    except ValueError:
        return demo_service_code(reference)


def _covering(municipality: Municipality) -> Q:
    covers = Service.municipalities.through.objects.filter(
        service_id=OuterRef("pk"), municipality_id=municipality.pk
    )
    return Q(coverage=Coverage.NATIONAL) | Q(Exists(covers))


def _linked_services(
    step: Step, document: dict[str, Any], municipality: Municipality | None
) -> QuerySet[Service] | list[Service]:
    active = Service.objects.filter(is_active=True).select_related("unit")
    if step.pinned:
        codes = [_service_code(ref) for ref in step.pinned]
        found = {s.code: s for s in active.filter(code__in=codes)}
        return [found[c] for c in codes if c in found]
    spec = step.data.get("services")
    if not spec or municipality is None:
        return []
    needs = spec.get("needs") or document.get("needs", [])
    serving = Service.needs.through.objects.filter(service_id=OuterRef("pk"), need__code__in=needs)
    return list(
        active.filter(
            _covering(municipality),
            Exists(serving),
            level=spec["level"],
            age_min__lte=document.get("age_max", 120),
            age_max__gte=document.get("age_min", 0),
        ).order_by("coverage", "name_nb")[:SERVICES_PER_STEP]
    )


def pathway_resolve(*, pathway: Pathway, municipality: Municipality | None = None) -> Resolved:
    """The published pathway for a reader in `municipality` (or the national base text).

    Raises LookupError when the pathway has no published base version.
    """
    base = published_version(pathway=pathway)
    if base is None:
        raise LookupError(pathway.slug)
    adaptations = []
    if municipality is not None:
        partnership = partnership_of_municipality(municipality)
        if partnership is not None:
            adaptations.append(
                published_version(
                    pathway=pathway, scope=ScopeKind.PARTNERSHIP, partnership=partnership
                )
            )
        adaptations.append(
            published_version(
                pathway=pathway, scope=ScopeKind.MUNICIPALITY, municipality=municipality
            )
        )
    adaptations = [a for a in adaptations if a is not None]
    return resolve_versions(base=base, adaptations=adaptations, municipality=municipality)


def resolve_versions(
    *,
    base: PathwayVersion,
    adaptations: list[PathwayVersion],
    municipality: Municipality | None = None,
) -> Resolved:
    """Merge a base version with adaptations, in order (also for previews of drafts)."""
    document = base.content
    steps: dict[str, list[Step]] = {
        phase["kind"]: [
            Step(key=s["key"], phase=phase["kind"], data=dict(s)) for s in phase["steps"]
        ]
        for phase in document["phases"]
    }
    for adaptation in adaptations:
        _apply(steps, adaptation)
    phases = []
    for phase in document["phases"]:
        for step in steps.get(phase["kind"], []):
            step.services = list(_linked_services(step, document, municipality))
        phases.append(Phase(phase["kind"], pick(phase.get("title")), steps[phase["kind"]]))
    return Resolved(
        pathway=base.pathway,
        base=base,
        adaptations=adaptations,
        municipality=municipality,
        document=document,
        phases=phases,
    )


def local_adaptations(*, pathway: Pathway) -> QuerySet[PathwayVersion]:
    """The published local adaptations of a pathway, for a "see it for your place" list."""
    return (
        pathway.versions.filter(status="published")
        .exclude(scope=ScopeKind.BASE)
        .select_related("partnership", "municipality")
    )

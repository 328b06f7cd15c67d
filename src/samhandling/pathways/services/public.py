"""What readers see without logging in: the list and search of published pathways, the
municipality a reader chose, and the labels that say where a local text comes from.

Only published versions are read here (the base of each pathway and the adaptations of the
reader's place): a draft or a version in review never reaches a public page.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from samhandling.core.models import Municipality
from samhandling.pathways.models import ChangeProposal, Pathway, PathwayVersion, ScopeKind, Status
from samhandling.pathways.services.resolve import Resolved, Step, Text, pick
from samhandling.pathways.services.workflow import partnership_of_municipality
from samhandling.pathways.services.workflow import published_version as published_version_of

QUERY_MAX = 200
QUERY_WORDS_MAX = 12
MATCHED_STEPS_SHOWN = 3
_MUNICIPALITY_NUMBER = re.compile(r"^\d{4}$")
# Norwegian alphabetical order puts æ, ø, å after z.
_COLLATION = str.maketrans({"æ": "{", "ä": "{", "ø": "|", "ö": "|", "å": "}"})


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _both(value: Any) -> list[str]:
    """Both language versions of a {"nb", "nn"} text (search finds either)."""
    if not isinstance(value, dict):
        return []
    return [v for v in (value.get("nb"), value.get("nn")) if isinstance(v, str) and v]


def _step_texts(step: dict[str, Any]) -> list[str]:
    texts = [*_both(step.get("title")), *_both(step.get("body")), *_both(step.get("role"))]
    for tool in step.get("tools") or []:
        texts.extend(_both(tool))
    return texts


def query_words(query: str) -> list[str]:
    """The words of a search query, folded for matching; bounded in length and number."""
    return _fold(query[:QUERY_MAX]).split()[:QUERY_WORDS_MAX]


# --- the municipality a reader chose ----------------------------------------------------


@dataclass(frozen=True)
class Place:
    """The municipality a reader asked for: found, not asked for, or not known."""

    municipality: Municipality | None = None
    error: str = ""

    @property
    def number(self) -> str:
        return self.municipality.number if self.municipality else ""


def reader_place(raw: str | None) -> Place:
    """The municipality of a `?municipality=` value; an unknown number gives a message."""
    number = (raw or "").strip()
    if not number:
        return Place()
    municipality = None
    if _MUNICIPALITY_NUMBER.match(number):
        municipality = Municipality.objects.filter(number=number).first()
    if municipality is None:
        return Place(
            error=_(
                "We do not know that municipality number. Choose a municipality from the list; "
                "the national version is shown meanwhile."
            )
        )
    return Place(municipality=municipality)


def municipality_choices() -> list[tuple[str, str]]:
    """(number, name) of every municipality, for the chooser."""
    return list(Municipality.objects.order_by("name").values_list("number", "name"))


def _local_versions(municipality: Municipality | None) -> dict[int, list[PathwayVersion]]:
    """Pathway id → the published adaptations that apply in `municipality`, broadest first."""
    if municipality is None:
        return {}
    partnership = partnership_of_municipality(municipality)
    keys = [f"municipality:{municipality.pk}"]
    if partnership is not None:
        keys.insert(0, f"partnership:{partnership.code}")
    found: dict[int, list[PathwayVersion]] = {}
    versions = PathwayVersion.objects.filter(
        status=Status.PUBLISHED, scope_key__in=keys
    ).select_related("partnership", "municipality")
    for version in sorted(versions, key=lambda v: keys.index(v.scope_key)):
        found.setdefault(version.pathway_id, []).append(version)
    return found


# --- the list and its search ------------------------------------------------------------


@dataclass
class PathwayCard:
    pathway: Pathway
    version: PathwayVersion
    title: Text
    target_group: Text
    summary: Text
    local: list[PathwayVersion] = field(default_factory=list)
    matched_steps: list[Text] = field(default_factory=list)
    score: int = 0
    url: str = ""  # set by the view: the page, for the reader's place

    @property
    def slug(self) -> str:
        return self.pathway.slug


def _matches(words: list[str], texts: Iterable[str]) -> set[str]:
    haystack = _fold("\n".join(texts))
    return {word for word in words if word in haystack}


def _adaptation_texts(version: PathwayVersion) -> tuple[list[str], dict[str, list[str]]]:
    """The searchable texts of an adaptation: its note, and per step its changed texts."""
    content = version.content
    per_step: dict[str, list[str]] = {}
    for key, override in (content.get("steps") or {}).items():
        per_step.setdefault(key, []).extend(_step_texts(override))
    for entry in content.get("added_steps") or []:
        step = entry.get("step") or {}
        per_step.setdefault(step.get("key", ""), []).extend(_step_texts(step))
    return _both(content.get("note")), per_step


def pathway_cards(
    *, query: str = "", municipality: Municipality | None = None
) -> list[PathwayCard]:
    """The published pathways, those matching every word of `query` if one is given.

    Matches title, target group, summary and the texts of the steps, in bokmål and nynorsk,
    of the published base version and (with `municipality`) of the local adaptations that
    apply there. A handful of documents: searched in Python, best matches first.
    """
    words = query_words(query)
    local = _local_versions(municipality)
    bases = PathwayVersion.objects.filter(
        scope=ScopeKind.BASE, status=Status.PUBLISHED
    ).select_related("pathway")
    cards = []
    for version in bases:
        document = version.content
        card = PathwayCard(
            pathway=version.pathway,
            version=version,
            title=pick(document.get("title")),
            target_group=pick(document.get("target_group")),
            summary=pick(document.get("summary")),
            local=local.get(version.pathway_id, []),
        )
        if words and not _search(card, words):
            continue
        cards.append(card)
    cards.sort(key=lambda c: (-c.score, _fold(c.title.text).translate(_COLLATION), c.slug))
    return cards


def _search(card: PathwayCard, words: list[str]) -> bool:
    """Whether every word is somewhere in the pathway; sets the card's score and steps."""
    document = card.version.content
    head = [*_both(document.get("title")), *_both(document.get("target_group"))]
    head += _both(document.get("summary"))
    steps: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for phase in document.get("phases") or []:
        for step in phase.get("steps") or []:
            steps[step.get("key", "")] = (step, _step_texts(step))
    for adaptation in card.local:
        note, per_step = _adaptation_texts(adaptation)
        head += note
        for key, texts in per_step.items():
            step, known = steps.get(key, ({}, []))
            if not step:
                step = next(
                    (
                        e["step"]
                        for e in adaptation.content.get("added_steps") or []
                        if e.get("step", {}).get("key") == key
                    ),
                    {},
                )
            steps[key] = (step, known + texts)
    found = _matches(words, head)
    matched_steps = []
    for step, texts in steps.values():
        in_step = _matches(words, texts)
        if in_step:
            found |= in_step
            matched_steps.append(pick(step.get("title")))
    if found != set(words):
        return False
    in_title = _matches(words, _both(document.get("title")))
    card.score = 2 * len(in_title) + len(_matches(words, head))
    card.matched_steps = [t for t in matched_steps if t.text][:MATCHED_STEPS_SHOWN]
    return True


# --- labels for the pathway page --------------------------------------------------------


def origin_label(resolved: Resolved, step: Step) -> str:
    """Who wrote a step that differs from the base: "Horten", "Helsefellesskapet Vestfold"."""
    for adaptation in reversed(resolved.adaptations):
        if adaptation.scope == step.origin:
            return adaptation.scope_label
    return ""


def published_pathway(slug: str) -> Pathway | None:
    """The pathway with `slug` if it has a published base version (else readers get 404)."""
    return (
        Pathway.objects.filter(
            slug=slug, versions__scope=ScopeKind.BASE, versions__status=Status.PUBLISHED
        )
        .distinct()
        .first()
    )


def _step_title_in(content: dict[str, Any], key: str) -> Text | None:
    for phase in content.get("phases") or []:
        for step in phase.get("steps") or []:
            if step.get("key") == key:
                return pick(step.get("title"))
    for entry in content.get("added_steps") or []:
        step = entry.get("step") or {}
        if step.get("key") == key:
            return pick(step.get("title"))
    override = (content.get("steps") or {}).get(key) or {}
    return pick(override["title"]) if override.get("title") else None


def proposal_titles(proposal: ChangeProposal) -> tuple[Text, Text | None]:
    """The titles of a proposal's pathway and step, as readers see them now.

    From the published base version; a step only a local version has, from that version.
    """
    base = published_version_of(pathway=proposal.pathway)
    title = pick(base.content.get("title")) if base else Text(proposal.pathway.slug, "")
    if not proposal.step_key:
        return title, None
    for content in (
        proposal.version.content if proposal.version else {},
        base.content if base else {},
    ):
        found = _step_title_in(content, proposal.step_key)
        if found is not None and found.text:
            return title, found
    return title, Text(proposal.step_key, "")

"""Traffic-light feedback rounds: can each municipality use each pathway as it is?

The Helse Fonna guide asks the pathway editors to collect, for every pathway, a green
(usable as it is), yellow (must be adapted) or red (cannot be used) answer from each
municipality, with a reason for yellow and red. An editor opens a round; staff of each
municipality (users in a unit that serves it) and editors answer; answering again replaces
the earlier answer, so a round always shows one current answer per municipality and pathway.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from samhandling.core.models import Municipality, OrganisationUnit, UnitKind
from samhandling.pathways.models import (
    FeedbackAnswer,
    FeedbackRound,
    Pathway,
    PathwayVersion,
    ResponsibleEditor,
    ScopeKind,
    Status,
    Verdict,
)
from samhandling.pathways.services.resolve import pick
from samhandling.pathways.services.workflow import (
    PUBLISH_ANY,
    NotAllowed,
    is_editor,
    user_partnership_ids,
)

TITLE_MAX = 200
COMMENT_MAX = 4000


def editor_partnerships(user: Any) -> QuerySet[OrganisationUnit]:
    """The helsefellesskap units an editor works for: their units', and those they answer for.

    Administrators and editors with the right to publish anything get every one.
    """
    partnerships = OrganisationUnit.objects.filter(kind=UnitKind.PARTNERSHIP)
    if not is_editor(user):
        return partnerships.none()
    if user.has_perm(PUBLISH_ANY):
        return partnerships.order_by("name")
    ids = user_partnership_ids(user) | set(
        ResponsibleEditor.objects.filter(user=user, partnership__isnull=False).values_list(
            "partnership_id", flat=True
        )
    )
    return partnerships.filter(pk__in=ids).order_by("name")


def answerable_municipalities(user: Any) -> set[str]:
    """Numbers of the municipalities whose staff `user` is: their units and the kommune above.

    A unit of a helsefellesskap or health trust does not make its staff answer for every
    municipality it covers: only municipal units and units inside a kommune count.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    numbers: set[str] = set()
    for unit in user.units.all():
        for node in [unit, *unit.ancestors()]:
            if node.kind in (UnitKind.PARTNERSHIP, UnitKind.HEALTH_TRUST, UnitKind.NATIONAL):
                break
            numbers |= set(node.municipalities.values_list("number", flat=True))
            if node.kind == UnitKind.MUNICIPALITY:
                break
    return numbers


def may_answer(*, user: Any, round: FeedbackRound, municipality: Municipality) -> bool:
    if is_editor(user):
        return True
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_staff_member
        and municipality.pk in answerable_municipalities(user)
    )


def round_municipalities_for(*, user: Any, round: FeedbackRound) -> list[Municipality]:
    """The municipalities of the round `user` may answer for."""
    municipalities = list(round.municipalities.order_by("name"))
    if is_editor(user):
        return municipalities
    if not getattr(user, "is_authenticated", False) or not user.is_staff_member:
        return []
    mine = answerable_municipalities(user)
    return [m for m in municipalities if m.pk in mine]


@transaction.atomic
def round_open(
    *,
    user: Any,
    title: str,
    partnership: OrganisationUnit | None,
    pathways: Iterable[Pathway],
    municipalities: Iterable[Municipality] | None,
    closes_on: dt.date | None,
) -> FeedbackRound:
    """Open a round; without municipalities, every municipality of the helsefellesskap."""
    if not is_editor(user):
        raise NotAllowed(_("Only pathway editors open feedback rounds."))
    title = (title or "").strip()
    if not title:
        raise ValueError(_("Give the round a title."))
    if len(title) > TITLE_MAX:
        raise ValueError(_("The title is longer than %(max)d characters.") % {"max": TITLE_MAX})
    if partnership is not None and partnership.kind != UnitKind.PARTNERSHIP:
        raise ValueError(_("Choose a helsefellesskap."))
    pathways = list(pathways)
    if not pathways:
        raise ValueError(_("Choose at least one pathway."))
    municipalities = list(municipalities or [])
    if not municipalities and partnership is not None:
        municipalities = list(partnership.municipalities.all())
    if not municipalities:
        raise ValueError(_("Choose the municipalities to ask."))
    if closes_on is not None and closes_on < timezone.localdate():
        raise ValueError(_("The date for answers has already passed."))
    round_ = FeedbackRound.objects.create(
        title=title, partnership=partnership, opened_by=user, closes_on=closes_on
    )
    round_.pathways.set(pathways)
    round_.municipalities.set(municipalities)
    return round_


@transaction.atomic
def round_close(*, user: Any, round: FeedbackRound) -> FeedbackRound:
    """Close a round: answers are kept, no new ones are taken."""
    if not is_editor(user):
        raise NotAllowed(_("Only pathway editors close feedback rounds."))
    locked = FeedbackRound.objects.select_for_update().get(pk=round.pk)
    if locked.closed_at is None:
        locked.closed_at = timezone.now()
        locked.save(update_fields=["closed_at"])
    return locked


@transaction.atomic
def answer_give(
    *,
    user: Any,
    round: FeedbackRound,
    municipality: Municipality,
    pathway: Pathway,
    verdict: str,
    comment: str,
) -> FeedbackAnswer:
    """Record a municipality's answer on one pathway; a second answer replaces the first."""
    if not may_answer(user=user, round=round, municipality=municipality):
        raise NotAllowed(_("You do not work for this municipality, so you cannot answer for it."))
    current = FeedbackRound.objects.select_for_update().get(pk=round.pk)
    if current.closed_at is not None:
        raise ValueError(_("This feedback round is closed."))
    if not current.municipalities.filter(pk=municipality.pk).exists():
        raise ValueError(_("This municipality is not asked in this round."))
    if not current.pathways.filter(pk=pathway.pk).exists():
        raise ValueError(_("This pathway is not part of this round."))
    if verdict not in Verdict.values:
        raise ValueError(_("Choose green, yellow or red."))
    comment = (comment or "").strip()
    if verdict != Verdict.GREEN and not comment:
        raise ValueError(_("Say why: a yellow or red answer needs a comment."))
    if len(comment) > COMMENT_MAX:
        raise ValueError(_("The comment is longer than %(max)d characters.") % {"max": COMMENT_MAX})
    answer, _created = FeedbackAnswer.objects.update_or_create(
        round=current,
        municipality=municipality,
        pathway=pathway,
        defaults={"verdict": verdict, "comment": comment, "answered_by": user},
    )
    return answer


def pathway_titles(pathway_ids: Iterable[int] | None = None) -> dict[int, str]:
    """The title of each pathway's published base version, in the reader's language."""
    versions = PathwayVersion.objects.filter(scope=ScopeKind.BASE, status=Status.PUBLISHED)
    if pathway_ids is not None:
        versions = versions.filter(pathway_id__in=list(pathway_ids))
    return {
        pathway_id: pick(content.get("title")).text
        for pathway_id, content in versions.values_list("pathway_id", "content")
    }


# --- the summary ------------------------------------------------------------------------


@dataclass
class Counts:
    green: int = 0
    yellow: int = 0
    red: int = 0
    missing: int = 0

    @property
    def answered(self) -> int:
        return self.green + self.yellow + self.red


@dataclass
class Row:
    pathway: Pathway
    title: str
    cells: list[FeedbackAnswer | None]
    counts: Counts


@dataclass
class Matrix:
    """Rows pathways, columns municipalities; one cell per pair, None if not answered yet."""

    round: FeedbackRound
    pathways: list[Pathway]
    municipalities: list[Municipality]
    cells: dict[tuple[int, str], FeedbackAnswer | None]
    counts: dict[int, Counts] = field(default_factory=dict)
    titles: dict[int, str] = field(default_factory=dict)

    def rows(self) -> list[Row]:
        return [
            Row(
                pathway=p,
                title=self.titles.get(p.pk) or p.slug,
                cells=[self.cells[(p.pk, m.pk)] for m in self.municipalities],
                counts=self.counts[p.pk],
            )
            for p in self.pathways
        ]

    @property
    def total(self) -> Counts:
        total = Counts()
        for counts in self.counts.values():
            total.green += counts.green
            total.yellow += counts.yellow
            total.red += counts.red
            total.missing += counts.missing
        return total


def round_matrix(round: FeedbackRound) -> Matrix:
    """The summary of a round: every pathway × municipality, with counts per pathway."""
    pathways = list(round.pathways.order_by("slug"))
    municipalities = list(round.municipalities.order_by("name"))
    asked = {m.pk for m in municipalities}
    answers = {
        (a.pathway_id, a.municipality_id): a
        for a in round.answers.select_related("answered_by")
        if a.municipality_id in asked
    }
    cells: dict[tuple[int, str], FeedbackAnswer | None] = {}
    counts: dict[int, Counts] = {}
    for pathway in pathways:
        tally = Counts()
        for municipality in municipalities:
            answer = answers.get((pathway.pk, municipality.pk))
            cells[(pathway.pk, municipality.pk)] = answer
            if answer is None:
                tally.missing += 1
            else:
                setattr(tally, answer.verdict, getattr(tally, answer.verdict) + 1)
        counts[pathway.pk] = tally
    titles = pathway_titles(p.pk for p in pathways)
    return Matrix(round, pathways, municipalities, cells, counts, titles)


def rounds_open(*, user: Any) -> list[FeedbackRound]:
    """Rounds not closed yet that `user` may answer in or (as an editor) follow."""
    rounds = FeedbackRound.objects.filter(closed_at__isnull=True).select_related("partnership")
    if is_editor(user):
        return list(rounds)
    mine = answerable_municipalities(user)
    if not mine or not getattr(user, "is_staff_member", False):
        return []
    return list(rounds.filter(municipalities__in=mine).distinct())

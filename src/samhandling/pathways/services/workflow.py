"""Who may edit and publish, and the way of a version: draft → in review → published.

Every published version is kept (the one it replaces becomes `superseded`); readers see
only the published version of each scope. A draft carries a revision number: a save based on
an older copy is refused with a conflict instead of overwriting a colleague's work.
"""

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from samhandling.core.models import Municipality, OrganisationUnit, Role, UnitKind
from samhandling.pathways.models import (
    Pathway,
    PathwayVersion,
    ResponsibleEditor,
    ScopeKind,
    Status,
    scope_key_of,
)
from samhandling.pathways.services.content import adaptation_check, base_check

PUBLISH_ANY = "pathways.publish_any_pathway"


class WorkflowError(Exception):
    """A step of the workflow that is not allowed now; the message is translated."""


class NotAllowed(WorkflowError):
    """The user may not do this (403)."""


class Conflict(WorkflowError):
    """Someone else changed the draft first (409)."""


# --- scopes and rights ------------------------------------------------------------------


def partnership_of_municipality(municipality: Municipality) -> OrganisationUnit | None:
    return (
        OrganisationUnit.objects.filter(kind=UnitKind.PARTNERSHIP, municipalities=municipality)
        .order_by("code")
        .first()
    )


def _scope_partnership(version: PathwayVersion) -> OrganisationUnit | None:
    if version.scope == ScopeKind.PARTNERSHIP:
        return version.partnership
    if version.scope == ScopeKind.MUNICIPALITY:
        return partnership_of_municipality(version.municipality)
    return None


def user_partnership_ids(user: Any) -> set[int]:
    """The helsefellesskap units a user works in: a unit of theirs or one above it."""
    ids = set()
    for unit in user.units.all():
        partnership = unit.partnership()
        if partnership is not None:
            ids.add(partnership.pk)
    return ids


def is_editor(user: Any) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.has_role(Role.EDITOR, Role.ADMIN) or user.is_superuser)
    )


def may_edit(*, user: Any, version: PathwayVersion) -> bool:
    """Editors draft the base text, and the adaptations of their own helsefellesskap."""
    if not is_editor(user):
        return False
    if user.has_perm(PUBLISH_ANY) or version.scope == ScopeKind.BASE:
        return True
    partnership = _scope_partnership(version)
    return partnership is not None and (
        partnership.pk in user_partnership_ids(user)
        or ResponsibleEditor.objects.filter(user=user, partnership=partnership).exists()
    )


def may_publish(*, user: Any, version: PathwayVersion) -> bool:
    """Only the responsible editor of the scope (or an administrator) publishes."""
    if not is_editor(user):
        return False
    if user.has_perm(PUBLISH_ANY):
        return True
    partnership = _scope_partnership(version)
    if version.scope == ScopeKind.BASE:
        return ResponsibleEditor.objects.filter(user=user, partnership__isnull=True).exists()
    return (
        partnership is not None
        and ResponsibleEditor.objects.filter(user=user, partnership=partnership).exists()
    )


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed(_("You may not change this pathway."))


# --- reading ----------------------------------------------------------------------------


def published_version(
    *,
    pathway: Pathway,
    scope: str = ScopeKind.BASE,
    partnership: OrganisationUnit | None = None,
    municipality: Municipality | None = None,
) -> PathwayVersion | None:
    return pathway.versions.filter(
        scope_key=scope_key_of(scope, partnership, municipality), status=Status.PUBLISHED
    ).first()


def published_pathways() -> QuerySet[Pathway]:
    """Pathways with a published base version, for readers."""
    return Pathway.objects.filter(
        versions__scope=ScopeKind.BASE, versions__status=Status.PUBLISHED
    ).distinct()


def versions_of_scope(version: PathwayVersion) -> QuerySet[PathwayVersion]:
    return version.pathway.versions.filter(scope_key=version.scope_key).order_by("-number")


def open_draft(version: PathwayVersion) -> PathwayVersion | None:
    """The draft or review version of the same scope, if there is one."""
    return versions_of_scope(version).filter(status__in=[Status.DRAFT, Status.REVIEW]).first()


# --- the workflow -----------------------------------------------------------------------


def _next_number(pathway: Pathway, scope_key: str) -> int:
    highest = pathway.versions.filter(scope_key=scope_key).aggregate(n=Max("number"))["n"]
    return (highest or 0) + 1


def _check_content(version: PathwayVersion, content: dict[str, Any]) -> dict[str, Any]:
    if version.scope == ScopeKind.BASE:
        return base_check(content)
    base = published_version(pathway=version.pathway)
    return adaptation_check(content, base.content if base else {"phases": []})


@transaction.atomic
def draft_start(
    *,
    user: Any,
    pathway: Pathway,
    scope: str = ScopeKind.BASE,
    partnership: OrganisationUnit | None = None,
    municipality: Municipality | None = None,
) -> PathwayVersion:
    """A new draft from the published version of the scope (or an empty adaptation).

    If a draft of the scope is already open, that draft is returned instead: one draft per
    scope at a time, so two editors never work on two diverging copies.
    """
    Pathway.objects.select_for_update().filter(pk=pathway.pk).first()
    key = scope_key_of(scope, partnership, municipality)
    candidate = PathwayVersion(
        pathway=pathway, scope=scope, partnership=partnership, municipality=municipality
    )
    candidate.scope_key = key
    _require(may_edit(user=user, version=candidate))
    existing = open_draft(candidate)
    if existing is not None:
        return existing
    current = published_version(
        pathway=pathway, scope=scope, partnership=partnership, municipality=municipality
    )
    if current is not None:
        content = copy.deepcopy(current.content)
    elif scope == ScopeKind.BASE:
        raise WorkflowError(_("This pathway has no published base version to start from."))
    else:
        content = {"pathway": pathway.slug, "steps": {}, "added_steps": []}
    candidate.number = _next_number(pathway, key)
    candidate.status = Status.DRAFT
    candidate.content = content
    candidate.based_on = current
    candidate.created_by = user
    candidate.save()
    return candidate


@transaction.atomic
def draft_save(
    *,
    user: Any,
    version: PathwayVersion,
    content: dict[str, Any],
    revision: int,
    change_note: str | None = None,
) -> PathwayVersion:
    """Store new content in a draft; refused if it is not a draft or changed since `revision`."""
    locked = PathwayVersion.objects.select_for_update().get(pk=version.pk)
    _require(may_edit(user=user, version=locked))
    if locked.status != Status.DRAFT:
        raise WorkflowError(_("Only a draft can be changed. Send it back to draft first."))
    if locked.revision != revision:
        raise Conflict(
            _("Someone else saved this draft after you opened it. Reload it to see their changes.")
        )
    locked.content = _check_content(locked, content)
    if change_note is not None:
        locked.change_note = change_note
    locked.revision += 1
    locked.save()
    return locked


def _transition(user: Any, version: PathwayVersion, source: str, target: str) -> PathwayVersion:
    locked = PathwayVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != source:
        raise WorkflowError(
            _("This version is “%(status)s” now, so that step is not possible.")
            % {"status": locked.get_status_display()}
        )
    locked.status = target
    locked.revision += 1
    return locked


@transaction.atomic
def review_request(*, user: Any, version: PathwayVersion) -> PathwayVersion:
    _require(may_edit(user=user, version=version))
    locked = _transition(user, version, Status.DRAFT, Status.REVIEW)
    locked.submitted_at = timezone.now()
    locked.save()
    return locked


@transaction.atomic
def review_return(*, user: Any, version: PathwayVersion) -> PathwayVersion:
    """Send a version in review back to draft, for more changes."""
    _require(may_edit(user=user, version=version))
    locked = _transition(user, version, Status.REVIEW, Status.DRAFT)
    locked.save()
    return locked


def _revision_date(version: PathwayVersion, at: dt.datetime) -> dt.date:
    months = 12
    if version.scope == ScopeKind.BASE:
        months = int(version.content.get("revision_months", 12))
    day = timezone.localtime(at).date()
    year, month = divmod(day.month - 1 + months, 12)
    target_year, target_month = day.year + year, month + 1
    for candidate in (day.day, 28):  # 29–31 Jan + 1 month: the 28th
        try:
            return dt.date(target_year, target_month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def publish_now(*, version: PathwayVersion, by: Any, at: dt.datetime | None = None) -> None:
    """Make `version` the published one of its scope; the one before is kept as superseded."""
    at = at or timezone.now()
    versions_of_scope(version).filter(status=Status.PUBLISHED).exclude(pk=version.pk).update(
        status=Status.SUPERSEDED
    )
    version.status = Status.PUBLISHED
    version.published_at = at
    version.published_by = by
    version.next_revision = _revision_date(version, at)
    version.revision += 1
    version.save()


@transaction.atomic
def publish(*, user: Any, version: PathwayVersion) -> PathwayVersion:
    """Publish a version in review (responsible editor only)."""
    _require(may_publish(user=user, version=version))
    locked = PathwayVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != Status.REVIEW:
        raise WorkflowError(_("Only a version in review can be published."))
    _check_content(locked, locked.content)
    publish_now(version=locked, by=user)
    return locked


# --- revision ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Overdue:
    version: PathwayVersion
    days_overdue: int


def revisions_overdue(*, on: dt.date | None = None, user: Any = None) -> list[Overdue]:
    """Published versions whose yearly revision date has passed, most overdue first.

    With `user`, only the versions that user may edit.
    """
    on = on or timezone.localdate()
    due = (
        PathwayVersion.objects.filter(status=Status.PUBLISHED, next_revision__lt=on)
        .select_related("pathway", "partnership", "municipality")
        .order_by("next_revision", "pathway__slug")
    )
    return [
        Overdue(version=v, days_overdue=(on - v.next_revision).days)
        for v in due
        if user is None or may_edit(user=user, version=v)
    ]


def drafts_for(*, user: Any) -> list[PathwayVersion]:
    """Open drafts and versions in review that `user` may work on."""
    versions = (
        PathwayVersion.objects.filter(Q(status=Status.DRAFT) | Q(status=Status.REVIEW))
        .select_related("pathway", "partnership", "municipality")
        .order_by("status", "-updated_at")
    )
    return [v for v in versions if may_edit(user=user, version=v)]

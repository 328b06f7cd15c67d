"""Draft → in review → published, who may do what, conflicts and the revision list."""

import copy
import datetime as dt

import pytest

from samhandling.core.models import Municipality, Role
from samhandling.pathways.models import PathwayVersion, ScopeKind, Status
from samhandling.pathways.services.content import ContentError
from samhandling.pathways.services.workflow import (
    Conflict,
    NotAllowed,
    WorkflowError,
    draft_save,
    draft_start,
    may_edit,
    may_publish,
    publish,
    published_version,
    review_request,
    review_return,
    revisions_overdue,
    versions_of_scope,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def retitled(version: PathwayVersion, title: str) -> dict:
    content = copy.deepcopy(version.content)
    content["title"]["nb"] = title
    return content


def test_a_draft_becomes_visible_only_when_published(imported, base_editor):
    pathway = imported["worry-anxiety"]
    draft = draft_start(user=base_editor, pathway=pathway)
    assert (draft.status, draft.number) == (Status.DRAFT, 2)
    draft = draft_save(
        user=base_editor, version=draft, content=retitled(draft, "Ny tittel"), revision=1
    )
    assert published_version(pathway=pathway).content["title"]["nb"] == "Bekymring og angst"
    draft = review_request(user=base_editor, version=draft)
    assert published_version(pathway=pathway).number == 1
    publish(user=base_editor, version=draft)
    current = published_version(pathway=pathway)
    assert (current.number, current.content["title"]["nb"]) == (2, "Ny tittel")
    assert current.published_by == base_editor
    # The version it replaced is kept.
    statuses = dict(versions_of_scope(current).values_list("number", "status"))
    assert statuses == {1: Status.SUPERSEDED, 2: Status.PUBLISHED}


def test_only_one_draft_per_scope_is_open(imported, base_editor, plain_editor):
    pathway = imported["worry-anxiety"]
    first = draft_start(user=base_editor, pathway=pathway)
    again = draft_start(user=plain_editor, pathway=pathway)
    assert again.pk == first.pk


def test_a_save_from_a_stale_copy_is_refused_and_loses_nothing(imported, base_editor):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    draft_save(user=base_editor, version=draft, content=retitled(draft, "Første"), revision=1)
    with pytest.raises(Conflict):
        draft_save(user=base_editor, version=draft, content=retitled(draft, "Andre"), revision=1)
    draft.refresh_from_db()
    assert draft.content["title"]["nb"] == "Første"


def test_malformed_content_is_refused_and_the_draft_is_unchanged(imported, base_editor):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    content = copy.deepcopy(draft.content)
    content["title"] = {"nb": "", "nn": ""}
    with pytest.raises(ContentError):
        draft_save(user=base_editor, version=draft, content=content, revision=1)
    draft.refresh_from_db()
    assert draft.content["title"]["nb"] == "Bekymring og angst"
    assert draft.revision == 1


def test_non_editors_may_not_start_or_change_drafts(imported, referrer, base_editor):
    pathway = imported["worry-anxiety"]
    with pytest.raises(NotAllowed):
        draft_start(user=referrer, pathway=pathway)
    draft = draft_start(user=base_editor, pathway=pathway)
    with pytest.raises(NotAllowed):
        draft_save(user=referrer, version=draft, content=retitled(draft, "x"), revision=1)
    with pytest.raises(NotAllowed):
        review_request(user=referrer, version=draft)
    draft.refresh_from_db()
    assert (draft.status, draft.revision) == (Status.DRAFT, 1)


def test_only_the_responsible_editor_publishes(imported, plain_editor, base_editor):
    draft = draft_start(user=plain_editor, pathway=imported["worry-anxiety"])
    draft = review_request(user=plain_editor, version=draft)
    assert not may_publish(user=plain_editor, version=draft)
    with pytest.raises(NotAllowed):
        publish(user=plain_editor, version=draft)
    draft.refresh_from_db()
    assert draft.status == Status.REVIEW
    publish(user=base_editor, version=draft)
    assert published_version(pathway=draft.pathway).pk == draft.pk


def test_a_draft_must_go_through_review_before_publishing(imported, base_editor):
    draft = draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    with pytest.raises(WorkflowError, match="Only a version in review"):
        publish(user=base_editor, version=draft)
    draft = review_request(user=base_editor, version=draft)
    with pytest.raises(WorkflowError, match="Only a draft can be changed"):
        draft_save(user=base_editor, version=draft, content=draft.content, revision=draft.revision)
    draft = review_return(user=base_editor, version=draft)
    assert draft.status == Status.DRAFT


def test_adaptations_are_edited_within_the_editors_own_partnership(imported, vestfold_editor):
    pathway = imported["worry-anxiety"]
    larvik = Municipality.objects.get(pk="3909")
    bergen = Municipality.objects.get(pk="4601")
    draft = draft_start(
        user=vestfold_editor, pathway=pathway, scope=ScopeKind.MUNICIPALITY, municipality=larvik
    )
    assert draft.content == {"pathway": "worry-anxiety", "steps": {}, "added_steps": []}
    assert may_publish(user=vestfold_editor, version=draft)
    with pytest.raises(NotAllowed):
        draft_start(
            user=vestfold_editor,
            pathway=pathway,
            scope=ScopeKind.MUNICIPALITY,
            municipality=bergen,
        )
    assert not PathwayVersion.objects.filter(municipality=bergen).exists()


def test_a_horten_adaptation_starts_from_the_published_one(imported, vestfold_editor):
    horten = Municipality.objects.get(pk="3901")
    draft = draft_start(
        user=vestfold_editor,
        pathway=imported["worry-anxiety"],
        scope=ScopeKind.MUNICIPALITY,
        municipality=horten,
    )
    current = published_version(
        pathway=draft.pathway, scope=ScopeKind.MUNICIPALITY, municipality=horten
    )
    assert draft.number == 2
    assert draft.based_on == current
    assert draft.content == current.content


def test_publishing_sets_the_next_revision_a_year_ahead(imported, base_editor, time_machine):
    time_machine.move_to(dt.datetime(2027, 1, 31, 12, tzinfo=dt.UTC))
    draft = review_request(
        user=base_editor, version=draft_start(user=base_editor, pathway=imported["worry-anxiety"])
    )
    publish(user=base_editor, version=draft)
    draft.refresh_from_db()
    assert draft.next_revision == dt.date(2028, 1, 31)


def test_overdue_revisions_are_listed_at_a_fixed_date(imported, base_editor, roles):
    PathwayVersion.objects.filter(pathway__slug="worry-anxiety", scope="base").update(
        next_revision=dt.date(2027, 3, 1)
    )
    PathwayVersion.objects.filter(pathway__slug="complex-trauma", scope="base").update(
        next_revision=dt.date(2027, 5, 1)
    )
    PathwayVersion.objects.filter(pathway__slug="eating-difficulties", scope="base").update(
        next_revision=dt.date(2027, 6, 1)
    )
    overdue = revisions_overdue(on=dt.date(2027, 6, 1))
    assert [(o.version.pathway.slug, o.days_overdue) for o in overdue] == [
        ("worry-anxiety", 92),
        ("complex-trauma", 31),
    ]
    clinician = make_user("someone", Role.CLINICIAN)
    assert revisions_overdue(on=dt.date(2027, 6, 1), user=clinician) == []
    assert len(revisions_overdue(on=dt.date(2027, 6, 1), user=base_editor)) == 2


def test_rights_of_each_role(imported, referrer, editor, base_editor):
    base = published_version(pathway=imported["worry-anxiety"])
    assert not may_edit(user=referrer, version=base)
    assert may_edit(user=editor, version=base)
    assert not may_publish(user=editor, version=base)
    assert may_publish(user=base_editor, version=base)

"""A pathway as read in one place: base text, local adaptations and local services."""

import copy

import pytest
from django.utils import translation

from samhandling.core.models import Municipality
from samhandling.directory.models import Service
from samhandling.pathways.models import PathwayVersion, ScopeKind
from samhandling.pathways.services.resolve import pathway_resolve, pick
from samhandling.pathways.services.workflow import draft_save, draft_start, publish, review_request

pytestmark = pytest.mark.django_db


def municipality(number: str) -> Municipality:
    return Municipality.objects.get(pk=number)


def test_the_national_version_has_no_local_services_and_no_differences(imported):
    resolved = pathway_resolve(pathway=imported["worry-anxiety"])
    assert resolved.adaptations == []
    assert resolved.differences == 0
    assert all(not step.services for step in resolved.steps())
    assert resolved.title.text == "Bekymring og angst"


def test_hortens_version_shows_hortens_services_and_marks_what_differs(imported):
    resolved = pathway_resolve(pathway=imported["worry-anxiety"], municipality=municipality("3901"))
    adaptation = PathwayVersion.objects.get(scope=ScopeKind.MUNICIPALITY, municipality_id="3901")
    assert resolved.adaptations == [adaptation]
    changed = set(adaptation.content["steps"])
    added = {entry["step"]["key"] for entry in adaptation.content["added_steps"]}
    differing = {step.key for step in resolved.steps() if step.differs}
    assert differing == changed | added
    talk = next(step for step in resolved.steps() if step.key == "talk-with-child")
    assert talk.origin == ScopeKind.MUNICIPALITY
    assert talk.body.text == adaptation.content["steps"]["talk-with-child"]["body"]["nb"]
    assert "body" in talk.changed
    assert talk.base_text("body").text != talk.body.text
    # Every service linked from the Horten version serves Horten (or the whole country).
    linked = {service.pk for step in resolved.steps() for service in step.services}
    assert linked
    for service in Service.objects.filter(pk__in=linked):
        numbers = set(service.municipalities.values_list("number", flat=True))
        assert service.coverage == "national" or "3901" in numbers, service.name_nb
    names = {service.name_nb for step in resolved.steps() for service in step.services}
    assert "Skolehelsetjenesten i Horten" in names
    assert not any("Larvik" in name for name in names)


def test_an_added_step_sits_after_the_step_it_names(imported):
    resolved = pathway_resolve(pathway=imported["worry-anxiety"], municipality=municipality("3901"))
    adaptation = PathwayVersion.objects.get(scope=ScopeKind.MUNICIPALITY, municipality_id="3901")
    entry = adaptation.content["added_steps"][0]
    phase = next(p for p in resolved.phases if p.kind == entry["phase"])
    keys = [step.key for step in phase.steps]
    assert keys.index(entry["step"]["key"]) == keys.index(entry["after"]) + 1


def test_larvik_gets_vestfolds_adaptation_but_not_hortens(imported):
    depression = pathway_resolve(
        pathway=imported["sadness-depression"], municipality=municipality("3909")
    )
    assert [a.scope for a in depression.adaptations] == [ScopeKind.PARTNERSHIP]
    anxiety = pathway_resolve(pathway=imported["worry-anxiety"], municipality=municipality("3909"))
    assert anxiety.adaptations == []
    names = {service.name_nb for step in anxiety.steps() for service in step.services}
    assert "Skolehelsetjenesten i Larvik" in names
    assert not any("Horten" in name for name in names)


def test_a_municipality_outside_vestfold_sees_the_national_text(imported):
    resolved = pathway_resolve(
        pathway=imported["sadness-depression"], municipality=municipality("4601")
    )
    assert resolved.adaptations == []
    assert resolved.differences == 0


def test_a_missing_nynorsk_text_falls_back_to_bokmal_with_a_note():
    with translation.override("nn"):
        text = pick({"nb": "Bokmålstekst", "nn": ""})
        assert (text.text, text.lang) == ("Bokmålstekst", "nb")
        assert text.fallback_note
        assert pick({"nb": "B", "nn": "N"}).text == "N"
    with translation.override("nb"):
        assert pick({"nb": "B", "nn": "N"}).text == "B"
        assert pick({"nb": "", "nn": "N"}).lang == "nn"


def test_an_unpublished_pathway_cannot_be_read(imported):
    PathwayVersion.objects.filter(pathway=imported["autism-spectrum"]).update(status="superseded")
    with pytest.raises(LookupError):
        pathway_resolve(pathway=imported["autism-spectrum"])


def test_a_published_municipal_adaptation_changes_what_readers_there_see(imported, vestfold_editor):
    larvik = municipality("3909")
    draft = draft_start(
        user=vestfold_editor,
        pathway=imported["worry-anxiety"],
        scope=ScopeKind.MUNICIPALITY,
        municipality=larvik,
    )
    content = copy.deepcopy(draft.content)
    content["steps"]["talk-with-child"] = {"body": {"nb": "I Larvik ringer vi.", "nn": ""}}
    draft = draft_save(user=vestfold_editor, version=draft, content=content, revision=1)
    before = pathway_resolve(pathway=draft.pathway, municipality=larvik)
    assert before.differences == 0
    publish(user=vestfold_editor, version=review_request(user=vestfold_editor, version=draft))
    after = pathway_resolve(pathway=draft.pathway, municipality=larvik)
    talk = next(step for step in after.steps() if step.key == "talk-with-child")
    assert talk.body.text == "I Larvik ringer vi."
    assert after.differences == 1

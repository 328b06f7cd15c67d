"""The pathway document checks and the import of the packaged content."""

import copy
import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from samhandling.directory.services.demo import demo_service_code
from samhandling.pathways.models import Pathway, PathwayVersion, ScopeKind, Status
from samhandling.pathways.services.content import (
    DATA_DIR,
    PHASE_KINDS,
    ContentError,
    adaptation_check,
    base_check,
    pathways_import,
)

pytestmark = pytest.mark.django_db

EIGHT = {
    "infant-concern",
    "sadness-depression",
    "worry-anxiety",
    "attention-difficulties",
    "violence-abuse-neglect",
    "eating-difficulties",
    "autism-spectrum",
    "complex-trauma",
}


def packaged(slug: str) -> dict:
    return json.loads((DATA_DIR / "pathways" / f"{slug}.json").read_text(encoding="utf-8"))


def test_import_loads_all_eight_pathways_as_published_base_versions(imported):
    assert set(imported) == EIGHT
    for pathway in imported.values():
        version = pathway.versions.get(scope=ScopeKind.BASE)
        assert version.status == Status.PUBLISHED
        assert version.number == 1
        assert version.next_revision is not None
        assert pathway.is_demo
        assert [p["kind"] for p in version.content["phases"]] == list(PHASE_KINDS)


def test_import_loads_the_local_adaptations_of_horten_and_vestfold(imported):
    horten = PathwayVersion.objects.get(scope=ScopeKind.MUNICIPALITY, municipality_id="3901")
    assert horten.pathway.slug == "worry-anxiety"
    assert horten.status == Status.PUBLISHED
    vestfold = PathwayVersion.objects.get(scope=ScopeKind.PARTNERSHIP)
    assert vestfold.partnership.code == "helsefellesskap-vestfold"


def test_a_second_import_changes_nothing_and_keeps_editors_work(imported, base_editor):
    version = imported["worry-anxiety"].versions.get(scope=ScopeKind.BASE)
    content = copy.deepcopy(version.content)
    content["title"]["nb"] = "Endret av redaktøren"
    PathwayVersion.objects.filter(pk=version.pk).update(content=content)
    before = PathwayVersion.objects.count()
    result = pathways_import()
    assert (result.pathways_created, result.pathways_existing) == (0, 8)
    assert (result.adaptations_created, result.adaptations_existing) == (0, 2)
    assert PathwayVersion.objects.count() == before
    version.refresh_from_db()
    assert version.content["title"]["nb"] == "Endret av redaktøren"


def test_every_packaged_text_has_bokmal_and_nynorsk():
    def texts(node):
        if isinstance(node, dict) and set(node) == {"nb", "nn"}:
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from texts(value)
        elif isinstance(node, list):
            for value in node:
                yield from texts(value)

    for path in sorted((DATA_DIR / "pathways").glob("*.json")):
        for text in texts(json.loads(path.read_text(encoding="utf-8"))):
            assert text["nb"].strip(), (path.name, text)
            assert text["nn"].strip(), (path.name, text)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(title={"nb": "", "nn": ""}), "title: needs a text"),
        (lambda d: d["phases"].reverse(), "phases: must be the five phases"),
        (lambda d: d["phases"][0]["steps"][0].update(level="top"), "phases[0].steps[0].level"),
        (lambda d: d.update(needs=["no-such-need"]), "needs[0]: unknown need"),
        (lambda d: d.update(age_min=19, age_max=3), "the youngest age is above the oldest"),
        (
            lambda d: d["phases"][1]["steps"].append(copy.deepcopy(d["phases"][0]["steps"][0])),
            "is used twice",
        ),
        (lambda d: d["checklist"].pop("urgent_signs"), "checklist: must have the sections"),
        (lambda d: d.update(summary={"nb": "x" * 6000, "nn": "y"}), "longer than 5000"),
        (lambda d: d.update(title="Bare tekst"), 'title: must be an object with "nb"'),
        (lambda d: d.update(extra=1), "unknown fields extra"),
        (lambda d: d.update(slug="edit"), "slug: is reserved"),
    ],
)
def test_a_malformed_base_document_is_refused_with_the_place_named(db, change, problem):
    document = packaged("worry-anxiety")
    change(document)
    with pytest.raises(ContentError) as caught:
        base_check(document)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_an_adaptation_must_refer_to_steps_of_its_base(db):
    base = packaged("worry-anxiety")
    with pytest.raises(ContentError) as caught:
        adaptation_check(
            {
                "pathway": "worry-anxiety",
                "steps": {"no-such-step": {"body": {"nb": "x", "nn": "x"}}},
                "added_steps": [
                    {
                        "phase": "referral",
                        "after": "talk-with-child",
                        "step": {**base["phases"][0]["steps"][0]},
                    }
                ],
            },
            base,
        )
    problems = " | ".join(caught.value.problems)
    assert "steps.no-such-step: no step with this key" in problems
    assert "added_steps[0].after: must be the key of a base step in the same phase" in problems
    assert "is used twice" in problems


def copy_data(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_one_malformed_file_stops_the_whole_import_and_stores_nothing(db, tmp_path):
    directory = copy_data(tmp_path)
    broken = directory / "pathways" / "sadness-depression.json"
    document = json.loads(broken.read_text(encoding="utf-8"))
    document["phases"][2]["steps"][0]["level"] = "heaven"
    broken.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("import_pathways", directory=directory)
    assert "sadness-depression.json: phases[2].steps[0].level" in str(caught.value)
    assert not Pathway.objects.exists()


def test_a_file_that_is_not_json_is_named(db, tmp_path):
    directory = copy_data(tmp_path)
    (directory / "pathways" / "worry-anxiety.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        pathways_import(directory=directory)
    assert "worry-anxiety.json: not readable JSON" in caught.value.problems[0]
    assert not PathwayVersion.objects.exists()


def test_an_adaptation_for_an_unknown_municipality_is_refused(db, tmp_path):
    directory = copy_data(tmp_path)
    path = directory / "adaptations" / "horten-worry-anxiety.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["scope"] = {"municipality": "9999"}
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ContentError, match="unknown municipality"):
        pathways_import(directory=directory)
    assert not Pathway.objects.exists()


def test_pinned_demo_services_are_found_by_their_stable_code(imported):
    horten = PathwayVersion.objects.get(scope=ScopeKind.MUNICIPALITY, municipality_id="3901")
    pinned = [ref for step in horten.content["steps"].values() for ref in step.get("services", [])]
    assert pinned
    from samhandling.directory.models import Service

    codes = {demo_service_code(ref) for ref in pinned}
    assert Service.objects.filter(code__in=codes).count() == len(codes)
